# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make run    virtual environment + dependencies, then the app on the shipped data and checkpoints
#   make test   the same plus test tools and Debian's chromium, then the whole suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test chromium

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

$(VENV)/.installed-test: requirements-test.txt $(VENV)/.installed
	$(PY) -m pip install -q -r requirements-test.txt
	touch $@

chromium:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		($(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver)

run: $(VENV)/.installed
	$(PY) -m streamlit run app.py

test: $(VENV)/.installed-test chromium
	$(PY) -m ruff check .
	$(PY) -m pytest -q $(PYTEST_ARGS)
