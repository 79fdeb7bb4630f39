"""Which clusters exist (the fleet) and how each is judged (its profile)."""

from fleetcheck.registry.fleet import ClusterEntry, DeclaredFacts, Fleet, load_fleet
from fleetcheck.registry.profile import Profile, Waiver, load_profile

__all__ = ["ClusterEntry", "DeclaredFacts", "Fleet", "Profile", "Waiver", "load_fleet", "load_profile"]
