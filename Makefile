# Every target is what README documents. `make test` is what CI runs.
SHELL := /bin/bash
CARGO ?= cargo
PYTHON ?= python3
VENV := $(CURDIR)/.venv
TOOLS := $(CURDIR)/.tools
S3S_E2E := $(TOOLS)/bin/s3s-e2e
PY_PACKAGES := awscli boto3 'moto[server]'

export FLOWLOG_VENV := $(VENV)
export FLOWLOG_TOOLS := $(TOOLS)

.PHONY: test lint tools venv s3s-e2e clean

## test: lint, then every test (unit, snapshot, end to end, real third-party clients)
test: lint tools
	$(CARGO) test --workspace --all-targets

## lint: formatting and clippy, warnings denied
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## tools: the third-party clients the tests drive (Python virtualenv, s3s-e2e)
tools: venv s3s-e2e

venv: $(VENV)/.installed
$(VENV)/.installed:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(PY_PACKAGES)
	touch $@

s3s-e2e: $(S3S_E2E)
$(S3S_E2E):
	$(CARGO) install s3s-e2e --version 0.14.1 --locked --root $(TOOLS)

clean:
	$(CARGO) clean
	rm -rf $(VENV) $(TOOLS)
