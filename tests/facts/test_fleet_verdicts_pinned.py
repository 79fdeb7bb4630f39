"""Every fleet check's verdict and message, pinned, for the five shapes of a fleet comparison.

Scenarios (clusters a, b, c, d of one profile; side A and side B differ in
every compared dimension, see :mod:`tests.facts.fleet_kit`):

- ``declared``: the profile declares side A in ``standards``; a runs A, b runs B;
- ``majority``: a, b, c run A, d runs B;
- ``split``: a, b run A, c, d run B (no strict majority);
- ``reference``: a runs A and is the reference cluster; b, c, d run B;
- ``unreadable``: a, b run A, c runs B, and x cannot be read at all (HTTP 403 on every request).

The expectation lives in ``pinned_verdicts.json`` next to this file. It was
recorded from the code before the one comparison rule (issue 13); every
entry the rule changed carries ``was`` (the old verdict and message) and
``why``, so the change is visible in the file itself. Regenerate with
``FLEETCHECK_PIN_WRITE=1`` only to record a deliberate change, and say why.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetcheck.replay import ReplayServer
from fleetcheck.state.snapshot import load_snapshot
from tests.facts import fleet_kit as kit
from tests.harness import NESTED_OPTIONS, verdicts_of

PINNED = Path(__file__).with_name("pinned_verdicts.json")
Obj = dict[str, Any]

#: scenario -> (clusters: name -> (side, tier), profile fields)
SCENARIOS: dict[str, tuple[dict[str, tuple[kit.Variant, str]], Obj]] = {
    "declared": ({"a": (kit.A, "canary"), "b": (kit.B, "prod")}, {"standards": kit.declared_standards()}),
    "majority": (
        {"a": (kit.A, "canary"), "b": (kit.A, "prod"), "c": (kit.A, "prod"), "d": (kit.B, "prod")},
        {},
    ),
    "split": ({"a": (kit.A, "canary"), "b": (kit.A, "prod"), "c": (kit.B, "prod"), "d": (kit.B, "prod")}, {}),
    "reference": (
        {"a": (kit.A, "prod"), "b": (kit.B, "prod"), "c": (kit.B, "prod"), "d": (kit.B, "canary")},
        {"reference_cluster": "a", "settings": {"FC-RBAC-001": {"reference_cluster": "a"}}},
    ),
    "unreadable": (
        {"a": (kit.A, "canary"), "b": (kit.A, "prod"), "c": (kit.B, "prod"), "x": (kit.A, "prod")},
        {},
    ),
}


def scan(pytester: pytest.Pytester, tmp_path: Path, scenario: str) -> dict[str, dict[str, Obj]]:
    """Run every fleet check module over the scenario's fleet, served by the replay server."""
    clusters, fields = SCENARIOS[scenario]
    folders = [kit.write_cluster(tmp_path / "snaps", name, side, tier) for name, (side, tier) in clusters.items()]
    profile = kit.write_profile(tmp_path, **fields)
    snapshots = [load_snapshot(folder) for folder in folders]
    with ReplayServer(snapshots) as server:
        if "x" in clusters:
            server.add_fault("x", r".*", status=403)
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        fleet = tmp_path / "fleet.yaml"
        entries = [{"name": n, "context": n, "labels": {"tier": tier}} for n, (_, tier) in clusters.items()]
        fleet.write_text(yaml.safe_dump({"defaults": {"kubeconfig": str(kubeconfig)}, "clusters": entries}))
        argv = [str(kit.CHECKS / m) for m in kit.FLEET_MODULES]
        result = pytester.runpytest_inprocess(
            *argv,
            "--fleet",
            str(fleet),
            "--profile",
            str(profile),
            "--no-reports",
            "-q",
            "--tb=native",
            *NESTED_OPTIONS,
        )
    verdicts = verdicts_of(result)
    assert verdicts.records, result.stdout.str()
    out: dict[str, dict[str, Obj]] = {}
    for (code, cluster), record in sorted(verdicts.records.items()):
        if code in kit.FLEET_CODES:
            out.setdefault(code, {})[cluster] = {"outcome": record["outcome"], "message": record["message"]}
    return out


def _expected() -> dict[str, Any]:
    return json.loads(PINNED.read_text()) if PINNED.is_file() else {}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_fleet_verdicts_are_pinned(pytester: pytest.Pytester, tmp_path: Path, scenario: str) -> None:
    got = scan(pytester, tmp_path, scenario)
    if os.environ.get("FLEETCHECK_PIN_WRITE") == "1":
        pinned = _expected()
        pinned[scenario] = got
        PINNED.write_text(json.dumps(pinned, indent=1, sort_keys=True) + "\n")
        pytest.skip("pinned verdicts rewritten")
    expected = _expected()[scenario]
    for code in kit.FLEET_CODES:
        want = {c: {"outcome": v["outcome"], "message": v["message"]} for c, v in expected.get(code, {}).items()}
        assert got.get(code, {}) == want, f"{scenario} {code}"
