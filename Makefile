# The two commands of the README. Each installs what it needs from a fresh clone,
# into a virtual environment of the repo's own (.venv), so nothing else on the machine changes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip

demo: $(PY)
	PYTHON=$(PY) bash scripts/setup.sh
	$(PY) -m fleetcheck.cli demo

test: $(PY)
	PYTHON=$(PY) bash scripts/setup.sh --test
	$(MAKE) lint
	$(PY) -m pytest -q -p no:randomly; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests ran" >&2; exit 1; fi; exit $$rc

lint: $(PY)
	$(PY) -m ruff check fleetcheck checks tests bench
	$(PY) -m mypy
	$(VENV)/bin/lint-imports --no-cache
