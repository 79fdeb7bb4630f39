"""The letter grades, best first, and the scores they start at: one list for scoring, the gate and the CLI.

:mod:`fleetcheck.scoring` computes a cluster's grade from these;
``--min-grade`` (the gate, :mod:`fleetcheck.gate`) compares grades by their
place in :data:`GRADES`. Kept in the bottom layer so the CLI can offer the
choices without loading the scoring models.
"""

from __future__ import annotations

__all__ = ["GATE_GRADES", "GRADES", "GRADE_THRESHOLDS", "NO_GRADE"]

#: (grade, minimum score), best first; anything below the last is F.
GRADE_THRESHOLDS: tuple[tuple[str, int], ...] = (("A", 90), ("B", 80), ("C", 70), ("D", 60))
GRADES: tuple[str, ...] = (*(grade for grade, _minimum in GRADE_THRESHOLDS), "F")
#: what ``--min-grade`` accepts: every grade but the lowest (a minimum of F would gate nothing)
GATE_GRADES: tuple[str, ...] = GRADES[:-1]
#: The grade-distribution key for clusters without data (unreachable, nothing decided).
NO_GRADE = "n/a"
