# Two entry points: `make demo` (set up + run the main job on generated data) and `make test`.
# Both create .venv when it is missing. torch is installed first and alone: `torch==2.13.0` takes
# the CPU wheel on this machine's disk, any other spelling pulls a multi-GB CUDA build.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.paperzoo-installed
PYTEST_WORKERS ?= 2

.PHONY: venv demo test lint report clean

venv: $(STAMP)

$(STAMP): pyproject.toml requirements/requirements.txt requirements/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -c requirements/constraints.txt \
		-r requirements/requirements.txt -e ".[dev]"
	touch $(STAMP)

# Main job: CNP vs BNP on generated GP tasks (no data needed), 3 seeds in two worker processes,
# ~7 min on 2 cores (the committed run took 422 s wall). It prints each claim's verdict, then
# the run directory (report.md, results.json, figures/).
demo: $(STAMP)
	$(VENV)/bin/paperzoo reproduce neural_processes --preset demo --workers 2 --out runs

# pytest exits 5 when it collects no tests; that is not a failure of the suite.
test: $(STAMP)
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile; rc=$$?; \
		if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

report: $(STAMP)
	$(VENV)/bin/paperzoo report --update-docs

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
