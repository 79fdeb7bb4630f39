"""Typed per-cluster facts, and the one rule fleet checks compare them by.

- :mod:`fleetcheck.facts.key`: :class:`Fact` keys and the per-cluster cache
  (``cluster.fact(KEY)``: computed at most once per cluster per run);
- :mod:`fleetcheck.facts.compare`: the comparison rule (cohort, standard,
  voters, quorum, split);
- :mod:`fleetcheck.facts.builtin`: the facts the built-in fleet checks read;
- :mod:`fleetcheck.facts.edge`: ingress and mesh detection.

Only the key and the rule are re-exported here, so importing the package
(as :mod:`fleetcheck.view` does) loads no parser.
"""

from fleetcheck.facts.compare import RULE, RULE_TITLE, Reading, Reference, Standard, decide
from fleetcheck.facts.key import Fact, FactCache, FactDefinitionError, FactInput

__all__ = [
    "RULE",
    "RULE_TITLE",
    "Fact",
    "FactCache",
    "FactDefinitionError",
    "FactInput",
    "Reading",
    "Reference",
    "Standard",
    "decide",
]
