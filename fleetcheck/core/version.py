"""The package version, where every layer can read it (``fleetcheck.__version__`` re-exports it).

It lives here rather than in ``fleetcheck/__init__.py`` because importing
the top-level package loads the check API (views, catalog, outcomes): a
probe or a report that only wants the version string would otherwise import
layers above its own.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
