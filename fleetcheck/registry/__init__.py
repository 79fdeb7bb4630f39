"""Which clusters exist (the fleet) and how each is judged (its profile)."""

from fleetcheck.registry.declared import DeclaredFacts
from fleetcheck.registry.fleet import load_fleet
from fleetcheck.registry.fleet_model import ClusterEntry, Fleet
from fleetcheck.registry.profile import Profile, Waiver, load_profile

__all__ = ["ClusterEntry", "DeclaredFacts", "Fleet", "Profile", "Waiver", "load_fleet", "load_profile"]
