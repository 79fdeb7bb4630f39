"""The samples of a few named metric families from a Prometheus text exposition, read with bounds.

An API server's ``/metrics`` is cluster data (tens of megabytes on a big
cluster, and whatever a proxy in front of it sends), and fleetcheck needs a
handful of gauges from it. So the parser keeps only the families asked for,
skips any line longer than :data:`MAX_LINE_CHARS`, keeps at most
``max_samples`` samples per family, and never raises on a malformed line
(it is skipped and counted). ``prometheus_client``'s parser is a test
dependency only; this one is small enough to own and bounded by design.
Format: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field

__all__ = ["MAX_LINE_CHARS", "MetricSample", "ParsedMetrics", "parse_samples"]

#: a line longer than this is skipped (a label value that long is not one fleetcheck reads)
MAX_LINE_CHARS = 8 * 1024
#: labels kept per sample
MAX_LABELS = 32
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}


@dataclass(frozen=True)
class MetricSample:
    """One sample line: the metric name, its labels and its value."""

    name: str
    labels: dict[str, str]
    value: float


@dataclass
class ParsedMetrics:
    """The samples kept, by family name (every name asked for is a key), and what was skipped."""

    samples: dict[str, list[MetricSample]] = field(default_factory=dict)
    #: lines of the asked families that could not be read (malformed, too long, over the sample bound)
    skipped: int = 0


def _labels(text: str) -> dict[str, str] | None:
    r"""``a="x",b="y\\"z"`` as a dict, or None when malformed (one pass, bounded by the line length)."""
    labels: dict[str, str] = {}
    index, size = 0, len(text)
    while index < size:
        while index < size and text[index] in " ,":
            index += 1
        if index >= size:
            break
        equals = text.find("=", index)
        if equals < 0 or equals + 1 >= size or text[equals + 1] != '"':
            return None
        key = text[index:equals].strip()
        if not key or len(labels) >= MAX_LABELS:
            return None
        index = equals + 2
        value: list[str] = []
        while index < size and text[index] != '"':
            char = text[index]
            if char == "\\" and index + 1 < size:
                index += 1
                value.append(_ESCAPES.get(text[index], "\\" + text[index]))
            else:
                value.append(char)
            index += 1
        if index >= size:
            return None
        labels[key] = "".join(value)
        index += 1
    return labels


def _sample(line: str) -> MetricSample | None:
    brace = line.find("{")
    if brace >= 0:
        close = line.rfind("}")
        if close < brace:
            return None
        name, labels, rest = line[:brace].strip(), _labels(line[brace + 1 : close]), line[close + 1 :]
        if labels is None:
            return None
    else:
        name, _, rest = line.partition(" ")
        labels = {}
    fields = rest.split()
    if not name or not fields or len(fields) > 2:
        return None
    try:
        value = float(fields[0])
    except ValueError:
        return None
    return MetricSample(name, labels, value) if not math.isnan(value) else None


def parse_samples(text: bytes, names: Collection[str], *, max_samples: int = 1_000) -> ParsedMetrics:
    """The samples of the families ``names`` in ``text`` (``# HELP``/``# TYPE`` and other families skipped)."""
    wanted = frozenset(names)
    parsed = ParsedMetrics({name: [] for name in wanted})
    for raw in text.splitlines():
        head = raw[:256].split(b"{", 1)[0].split(b" ", 1)[0]
        try:
            name = head.decode("ascii")
        except UnicodeDecodeError:
            continue
        if name not in wanted:
            continue
        if len(raw) > MAX_LINE_CHARS or len(parsed.samples[name]) >= max_samples:
            parsed.skipped += 1
            continue
        sample = _sample(raw.decode("utf-8", "replace").strip())
        if sample is None or sample.name != name:
            parsed.skipped += 1
            continue
        parsed.samples[name].append(sample)
    return parsed
