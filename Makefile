# make train   - create .venv, install srnet, train on the embedded sample photos (ARGS="..." for overrides)
# make test    - same set-up, then the fast test suite (what .ci/run runs first)
# make test-slow - the long tests (training runs, DDP, kill-and-resume)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.srnet-installed

.PHONY: install train test test-slow lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

train: $(STAMP)
	$(PY) train.py $(ARGS)

test: $(STAMP)
	$(PY) -m pytest $(ARGS)

test-slow: $(STAMP)
	$(PY) -m pytest -m slow $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
