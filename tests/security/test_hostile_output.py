"""Object strings from a cluster cannot script the scorecard, break the JUnit XML or drive the terminal.

A cluster (or whoever can create a namespace in it) controls names, labels
and, through them, finding messages. The snapshot scanned here carries HTML,
ANSI escape sequences (a colour, an OSC window title), C0/C1 control
characters, a NUL and a bidi override in its cluster name, its labels and
its namespace names; every report must show them inert.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import yaml

from tests.integration.clusters import namespace, write_cluster, write_list

PAYLOAD = (
    "<script>alert(1)</script><img src=x onerror=alert(2)>\x1b[31mRED\x1b]0;pwned-title\x07\x00\x08\u202e\x7f\x9b2J&\"'"
)
# what must never reach a terminal or an XML file: ESC, BEL, NUL, BS, DEL, C1 CSI, bidi override
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
CLI = (sys.executable, "-m", "fleetcheck.cli")
PYTEST_ARGS = ("-p", "no:benchmark", "-k", "quota", "-rA")  # -rA: pytest's own summary lines too
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Scan the hostile snapshot once, as a user does (its own process, its terminal output kept byte for byte)."""
    root = tmp_path_factory.mktemp("hostile")
    folder = write_cluster(root / "snaps", "evil")
    items = json.loads((folder / "namespaces.json").read_text())["items"]
    bad = namespace("legacy-" + PAYLOAD)
    bad["metadata"]["labels"]["team"] = PAYLOAD
    write_list(folder, "namespaces.json", [*items, bad])
    meta = yaml.safe_load((folder / "cluster.yaml").read_text())
    meta["name"] = "evil-" + PAYLOAD
    meta["labels"] |= {"owner": PAYLOAD, "team" + PAYLOAD: "x"}
    (folder / "cluster.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    reports = root / "reports"
    env = {k: v for k, v in os.environ.items() if k not in {"KUBECONFIG", "PYTEST_ADDOPTS", "NO_COLOR"}}
    proc = subprocess.run(
        [*CLI, "run", "--snapshot", str(folder), "--report-dir", str(reports), *PYTEST_ARGS],
        cwd=root,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout.decode(errors="replace")[-3000:]
    return {
        "terminal": proc.stdout.decode("utf-8", errors="replace") + proc.stderr.decode("utf-8", errors="replace"),
        "html": (reports / "scorecard.html").read_text(encoding="utf-8"),
        "junit": (reports / "junit.xml").read_text(encoding="utf-8"),
        "metrics": (reports / "metrics.prom").read_text(encoding="utf-8"),
    }


def test_scorecard_escapes_markup(outputs: dict[str, str]) -> None:
    html = outputs["html"]
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, "the hostile namespace is shown, escaped"


def test_scorecard_drops_control_characters(outputs: dict[str, str]) -> None:
    found = FORBIDDEN.search(outputs["html"])
    assert found is None, repr(outputs["html"][max(0, found.start() - 80) : found.start() + 10])


def test_junit_parses_and_holds_no_illegal_or_escape_characters(outputs: dict[str, str]) -> None:
    root = ET.fromstring(outputs["junit"].encode())
    values = [text for el in root.iter() for text in (el.text or "", el.tail or "", *el.attrib.values())]
    assert any("<script>alert(1)</script>" in value for value in values), "the payload reached JUnit, as text"
    bad = [value for value in values if XML_ILLEGAL.search(value) or FORBIDDEN.search(value)]
    assert not bad, bad[:3]
    try:
        from lxml import etree
    except ImportError:  # pragma: no cover - lxml is a test dependency
        return
    etree.fromstring(outputs["junit"].encode())  # the strict parser CI tools use


def test_terminal_summary_is_inert(outputs: dict[str, str]) -> None:
    summary = outputs["terminal"].split("fleetcheck summary", 1)[1]
    assert "evil-" in summary, "the hostile cluster is in the summary"
    assert not FORBIDDEN.search(summary), repr(summary[:2000])


def test_metrics_labels_hold_no_control_characters(outputs: dict[str, str]) -> None:
    assert not FORBIDDEN.search(outputs["metrics"])


def test_whole_terminal_output_is_inert(outputs: dict[str, str]) -> None:
    assert not FORBIDDEN.search(outputs["terminal"]), repr(FORBIDDEN.search(outputs["terminal"]))
