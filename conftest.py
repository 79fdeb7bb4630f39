"""Root conftest: intentionally empty.

The fleetcheck pytest plugin is registered through the ``pytest11`` entry
point (``pip install -e .``), so ``pytest checks/`` finds it without help
from here; loading it here too would register it twice.
"""
