# The two commands of the README. Each installs what it needs from a fresh clone.
PYTHON ?= python3

.PHONY: demo test lint

demo:
	PYTHON=$(PYTHON) bash scripts/setup.sh
	$(PYTHON) -m fleetcheck.cli demo

test:
	PYTHON=$(PYTHON) bash scripts/setup.sh --test
	$(MAKE) lint
	$(PYTHON) -m pytest -q -p no:randomly; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests ran" >&2; exit 1; fi; exit $$rc

lint:
	$(PYTHON) -m ruff check fleetcheck checks tests bench
	$(PYTHON) -m mypy
