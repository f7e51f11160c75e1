# Every target is what README documents. `make test` is what CI runs.
SHELL := /bin/bash
CARGO ?= cargo
PYTHON ?= python3
VENV := $(CURDIR)/.venv
TOOLS := $(CURDIR)/.tools
S3S_E2E := $(TOOLS)/bin/s3s-e2e
PY_PACKAGES := awscli boto3 'moto[server]' cfn-lint pyarrow

export FLOWLOG_VENV := $(VENV)
export FLOWLOG_TOOLS := $(TOOLS)

.PHONY: demo test lint bench tools venv s3s-e2e chromium clean lambda lambda-check lint-template

## demo: the whole chain offline in ~20 s (generator -> emulated S3 -> forwarder -> mock Site24x7);
## prints the mock's live page address first; `make demo DEMO_ARGS=--serve` keeps it up until Ctrl-C
demo:
	$(CARGO) run --quiet -p flowlog-forwarder -- demo $(DEMO_ARGS)

## test: lint, then every test (unit, snapshot, end to end, real third-party clients, doc examples),
## then the Lambda package: built, checked (x86-64, glibc <= 2.34) and run against the emulator
test: lint tools
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc
	$(MAKE) lambda lambda-check

## bench: release build; the forwarder end to end against the emulator vs the floor measured in
## the same run (gunzip + gzip), parse, the generator, gzip levels; table + JSON (BENCHMARKS.md)
bench:
	$(CARGO) bench -p flowlog-forwarder --bench forwarding -- $(BENCH_ARGS)

## lint: formatting and clippy, warnings denied; cfn-lint on the SAM template
lint: lint-template
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## lint-template: cfn-lint on deploy/template.yaml
lint-template: venv
	test -x $(VENV)/bin/cfn-lint || $(VENV)/bin/pip install --quiet --disable-pip-version-check cfn-lint
	$(VENV)/bin/cfn-lint deploy/template.yaml

LAMBDA_DIR := $(CURDIR)/target/lambda

## lambda: target/lambda/bootstrap.zip for provided.al2023 x86_64 (no `demo` feature; glibc <= 2.34)
lambda:
	$(CARGO) build --release -p flowlog-forwarder --no-default-features
	mkdir -p $(LAMBDA_DIR)
	cp "$${CARGO_TARGET_DIR:-$(CURDIR)/target}/release/flowlog-forwarder" $(LAMBDA_DIR)/bootstrap
	strip $(LAMBDA_DIR)/bootstrap
	deploy/check_bootstrap.sh $(LAMBDA_DIR)/bootstrap
	rm -f $(LAMBDA_DIR)/bootstrap.zip
	$(PYTHON) deploy/zip_bootstrap.py $(LAMBDA_DIR)/bootstrap $(LAMBDA_DIR)/bootstrap.zip

## lambda-check: the built bootstrap is an x86-64 ELF, needs glibc <= 2.34, and passes the Lambda e2e test
lambda-check:
	deploy/check_bootstrap.sh $(LAMBDA_DIR)/bootstrap
	FLOWLOG_FORWARDER_BIN=$(LAMBDA_DIR)/bootstrap $(CARGO) test --test lambda_ground_truth

## tools: the third-party clients the tests drive (Python virtualenv, s3s-e2e, headless chromium)
tools: venv s3s-e2e chromium

# The stamp is named after the package list, so a new package reaches existing virtualenvs.
VENV_STAMP := $(VENV)/.installed-$(shell echo $(PY_PACKAGES) | cksum | cut -d' ' -f1)
venv: $(VENV_STAMP)
$(VENV_STAMP):
	test -x $(VENV)/bin/pip || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(PY_PACKAGES)
	touch $@

# Debian's chromium and its chromedriver, for the live page's browser test
# (emulator/tests/ingest_page_browser.rs); installed with apt-get when missing.
CHROMIUM_PACKAGES := chromium chromium-driver
chromium:
	@if [ -n "$$FLOWLOG_CHROMIUM$$FLOWLOG_CHROMEDRIVER" ] || \
	    { command -v chromium && command -v chromedriver; } >/dev/null; then :; \
	elif command -v apt-get >/dev/null; then \
	    sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	    echo "installing $(CHROMIUM_PACKAGES) (apt-get)"; \
	    $$sudo apt-get update -qq && \
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(CHROMIUM_PACKAGES); \
	else \
	    echo "install chromium and chromedriver (Debian: apt-get install -y $(CHROMIUM_PACKAGES))," \
	        "or set FLOWLOG_CHROMIUM and FLOWLOG_CHROMEDRIVER to them" >&2; exit 1; \
	fi

s3s-e2e: $(S3S_E2E)
$(S3S_E2E):
	$(CARGO) install s3s-e2e --version 0.14.1 --locked --root $(TOOLS)

clean:
	$(CARGO) clean
	rm -rf $(VENV) $(TOOLS)
