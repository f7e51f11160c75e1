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

.PHONY: demo test lint bench tools venv s3s-e2e clean

## demo: the whole chain offline in ~20 s (generator -> emulated S3 -> forwarder -> mock Site24x7)
demo:
	$(CARGO) run --quiet -p flowlog-forwarder -- demo $(DEMO_ARGS)

## test: lint, then every test (unit, snapshot, end to end, real third-party clients, doc examples)
test: lint tools
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc

BENCH_DIR := $(CURDIR)/target/bench

## bench: release-mode speed of the generator and of the forwarder's record path (figures to stdout)
bench:
	$(CARGO) build --release -p flowlog-emulator -p flowlog-forwarder --bins --examples
	rm -rf $(BENCH_DIR) && mkdir -p $(BENCH_DIR)
	$(CURDIR)/target/release/examples/generator_bench 3 1
	$(CURDIR)/target/release/flowlog-emulator generate --seed 7 --start 2026-01-15T08:00:00Z \
	  --duration 2h --aggregation 60 --vpcs 4 --enis-per-vpc 26 --rate 10 --out $(BENCH_DIR)/objects
	find $(BENCH_DIR)/objects -name '*.log.gz' | sort | xargs cat | gzip -dc | awk 'NR == 1 || !/^version /' > $(BENCH_DIR)/flows.log
	$(CURDIR)/target/release/examples/throughput $(BENCH_DIR)/flows.log

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
