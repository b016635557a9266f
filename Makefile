# softbot: `make demo` (one bot cycle on the embedded default) and `make test`.
# Both set up everything on a fresh machine: virtual environment, pinned packages, a browser.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: help install browser dovecot demo test test-fast test-slow lint clean distclean

help:
	@echo "make demo       run the TONK bot once against the sandbox (25 sample applications)"
	@echo "make test       the whole test suite (sets everything up first)"
	@echo "make test-fast  without the slow fault/crash suites"
	@echo "make test-slow  only the slow suites"
	@echo "make lint       ruff"
	@echo "make clean      remove caches and build files (never the data directory runs/data)"

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

browser: $(STAMP)
	PY=$(PY) scripts/ensure-browser

dovecot:
	scripts/ensure-dovecot

demo: install browser
	$(PY) -m sandbox.demo

test: install browser dovecot
	$(PY) -m pytest -q

test-fast: install browser dovecot
	$(PY) -m pytest -q -m "not slow"

test-slow: install browser dovecot
	$(PY) -m pytest -q -m slow

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf .pytest_cache .ruff_cache .hypothesis build dist *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
	@echo "kept: runs/ (the data directory holds the exception queue; use 'softbot purge' for retention)"

distclean: clean
	rm -rf $(VENV)
