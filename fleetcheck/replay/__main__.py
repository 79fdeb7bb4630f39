"""``python -m fleetcheck.replay DIR [DIR...] --kubeconfig-out PATH``: see :func:`fleetcheck.replay.main`."""

from __future__ import annotations

import sys

from fleetcheck.replay.cli import main

if __name__ == "__main__":
    sys.exit(main())
