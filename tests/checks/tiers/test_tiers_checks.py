from __future__ import annotations
import time


def test_smoke(kit, run, tmp_path):
    a = kit.write_snapshot(tmp_path / "prod-eu", [], labels={"tier": "prod", "owner": "x"})
    b = kit.write_snapshot(tmp_path / "canary-eu", [], labels={"tier": "canary"})
    for i in range(3):
        t = time.time()
        res = run("test_tiers.py", [a, b])
        print("took", time.time() - t)
    assert 0
