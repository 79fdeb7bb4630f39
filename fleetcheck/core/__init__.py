"""The bottom layer: vocabulary every other layer shares, with no I/O and no fleetcheck import above it.

- :mod:`fleetcheck.core.kinds`: the kinds fleetcheck may read and how a check names them;
- :mod:`fleetcheck.core.quantity`: Kubernetes quantities (``500m``, ``2Gi``);
- :mod:`fleetcheck.core.imageref`: container image references;
- :mod:`fleetcheck.core.providers`: the providers and distributions, their names and namespaces;
- :mod:`fleetcheck.core.refs`: the one object-reference format and the one "and N more";
- :mod:`fleetcheck.core.exit_codes`: the one set of exit codes;
- :mod:`fleetcheck.core.grades`: the letter grades and their thresholds;
- :mod:`fleetcheck.core.version`: ``__version__``;
- :mod:`fleetcheck.core.prometheus_text`: the Prometheus text format, parsed.
- :mod:`fleetcheck.core.plugin_options`: the plugin options ``fleetcheck run`` hands on to pytest.

:mod:`fleetcheck.errors` (errors and exit codes), :mod:`fleetcheck.redact`
and :mod:`fleetcheck.paths` belong to this layer too and stay at the top of
the package for now; the import contract (``[tool.importlinter]`` in
``pyproject.toml``) holds them to the same rule.
"""
