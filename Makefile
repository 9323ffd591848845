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

.PHONY: help venv link demo test unit emulator emulator-test integration venv-oldsdk
help:
	@echo "make demo   - run the main playbook against the bundled local Azure"
	@echo "make test   - run every test and quality gate"
	@echo "make emulator - serve the local Azure with the demo world until Ctrl-C (prints URL, CA, credentials)"

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
	$(PY) scripts/demo.py

unit: venv link
	$(PY) -m pytest -q tests/unit

test: unit emulator-test

# --- the local Azure (tests/emulator) ---------------------------------------------------------------------------------
emulator: venv link
	$(PY) -m emulator serve --world tests/emulator/worlds/demo.yaml

emulator-test: venv link
	$(PY) -m pytest -q tests/emulator_tests

integration: venv link
	$(PY) -m pytest -q tests/integration

# The oldest SDK versions the collection supports (azure.azcollection 3.x pins), for tests/emulator_tests/test_sdk_smoke.py.
OLD_SDK_PINS := azure-identity==1.19.0 azure-core==1.31.0 azure-mgmt-core==1.4.0 azure-mgmt-apimanagement==4.0.1 \
	azure-mgmt-keyvault==10.3.1 azure-mgmt-authorization==4.0.0 azure-mgmt-msi==7.0.0
venv-oldsdk: .venv-oldsdk/.installed
.venv-oldsdk/.installed:
	test -x .venv-oldsdk/bin/python || $(PYTHON) -m venv .venv-oldsdk
	.venv-oldsdk/bin/python -m pip install --quiet $(OLD_SDK_PINS)
	touch $@
