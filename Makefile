# `make run` starts everything with demo data; `make test` runs lint and the whole test suite.
# Both create .venv and install the pinned dependencies on first use.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.requirements-installed

.PHONY: run test venv bench clean

run: $(STAMP)
	$(VENV)/bin/python scripts/dev.py run

test: $(STAMP)
	$(VENV)/bin/python scripts/dev.py test $(ARGS)

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

clean:
	rm -rf $(VENV) .creneau staticfiles test-output
