"""How many clusters' listed objects a scan may hold at once: a count and a byte budget.

A serial scan lists the cluster being judged and the next few ahead of it
(the prefetch window), so round trips to the next clusters overlap the
checks of this one. Bounded by a count alone, the memory held depends on
which clusters come first: sixteen 5,000-pod clusters are fifteen times
the memory of one. :class:`HeldBudget` adds a byte budget: a cluster ahead
is admitted only while the API response bytes held by clusters listed and
not yet released, plus an estimate for each one still being listed, stay
within it. The cluster being judged is always admitted, so a cluster larger
than the budget is still scanned, alone; the memory held is then about the
larger of the budget and the largest cluster (listed objects take about
2-3 times their response bytes in memory, after projection).

The estimate for a cluster not listed yet is the largest of the last few
clusters listed: before any has been, nothing ahead is admitted (a scan
starts with one cluster, and opens the window once it knows what a cluster
weighs). Snapshots are not listed over the network and weigh nothing here:
their window is bounded by the count alone.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Sequence

__all__ = ["HeldBudget"]

#: how many recently listed clusters the estimate for the next ones is taken from
_RECENT = 4


class HeldBudget:
    """Admission to the prefetch window by count and by the bytes held (thread-safe)."""

    def __init__(self, max_clusters: int, max_bytes: int | None) -> None:
        """``max_clusters`` ahead of the judged one; ``max_bytes`` of responses held (None or 0: no byte bound)."""
        self.max_clusters = max(1, max_clusters)
        self.max_bytes = max_bytes or None
        self._lock = threading.Lock()
        #: clusters queued and not released: name -> its response bytes (None while it is being listed)
        self._held: dict[str, int | None] = {}
        self._recent: deque[int] = deque(maxlen=_RECENT)
        #: the most bytes held at once, and the most clusters held at once (for tests and the benchmark)
        self.peak_bytes = 0
        self.peak_clusters = 0

    def listing(self, name: str) -> None:
        """``name`` was queued: it holds memory until :meth:`released`."""
        with self._lock:
            self._held.setdefault(name, None)
            self.peak_clusters = max(self.peak_clusters, len(self._held))

    def listed(self, name: str, size: int) -> None:
        """``name``'s kinds are listed: ``size`` response bytes; it is what the next clusters are estimated at."""
        with self._lock:
            if name in self._held:
                self._held[name] = max(0, size)
            self._recent.append(max(0, size))

    def released(self, name: str) -> None:
        """``name``'s objects were let go."""
        with self._lock:
            self._held.pop(name, None)

    def estimate(self) -> int | None:
        """Bytes a cluster not listed yet is taken to weigh; None before any cluster was listed."""
        with self._lock:
            return max(self._recent) if self._recent else None

    def admit(self, judged: str, ahead: Sequence[str]) -> list[str]:
        """Of ``judged`` and the clusters ``ahead`` of it (in case order), those to queue now.

        Clusters already held are not queued again; the first cluster ahead
        that does not fit ends the list (the window never skips ahead).
        """
        with self._lock:
            held = dict(self._held)
            recent = max(self._recent) if self._recent else None
        wanted = [] if judged in held else [judged]
        if self.max_bytes is None:
            return wanted + [name for name in ahead[: self.max_clusters] if name not in held and name != judged]
        total = sum(size if size is not None else (recent or 0) for size in held.values())
        self.peak_bytes = max(self.peak_bytes, total)
        for name in ahead[: self.max_clusters]:
            if name in held or name == judged:
                continue
            if recent is None:
                break  # nothing listed yet: the first cluster alone tells what a cluster weighs
            if recent and total + recent > self.max_bytes:
                break
            wanted.append(name)
            total += recent
        return wanted

    def holding(self) -> Iterable[str]:
        """The clusters held now."""
        with self._lock:
            return list(self._held)
