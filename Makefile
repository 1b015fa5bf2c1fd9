# The user's verbs. Each target is a thin call to cargo, the project's scripts or the aws CLI.
# `make help` lists them.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

JOBS   ?= 2
CARGO  ?= cargo
VENV   := .venv
PY     := $(VENV)/bin/python
PRESET ?= dev
CONFIG ?=
SYNTH_ARGS := --preset $(PRESET) $(if $(CONFIG),--config $(CONFIG),)
SYNTH_BIN  := target/debug/synth
# The processor's architecture follows the configuration (arm64 unless it says x86_64).
ARCH        = $(shell $(CARGO) run -q -p synth -- $(SYNTH_ARGS) --get lambda_architecture)
RUST_TARGET = $(if $(filter x86_64,$(ARCH)),x86_64-unknown-linux-gnu,aarch64-unknown-linux-gnu)
LAMBDA_FLAG = $(if $(filter x86_64,$(ARCH)),--x86-64,--arm64)

.PHONY: help venv build synth templates codegen lint check test local bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## Install the pinned Python tools (cfn-lint, checkov) into .venv

$(VENV)/.installed: tools/requirements.txt tools/venv.sh
	tools/venv.sh $(VENV)

build: venv ## Build the processor with cargo-lambda into cfn-out/processor.zip (arch from the config)
	rustup target add $(RUST_TARGET)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(CARGO) lambda build -j$(JOBS) -p processor --release $(LAMBDA_FLAG) \
	  --output-format zip --lambda-dir target/lambda
	mkdir -p cfn-out && cp target/lambda/bootstrap/bootstrap.zip cfn-out/processor.zip
	@ls -l cfn-out/processor.zip

synth: ## Write cfn-out/stack.yaml and stack.json (PRESET=dev, CONFIG=file.toml)
	$(CARGO) run -q -j$(JOBS) -p synth -- $(SYNTH_ARGS) --out-dir cfn-out

templates: ## Refresh the committed templates/<preset>.yaml
	UPDATE_TEMPLATES=1 $(CARGO) test -q -j$(JOBS) -p synth --test templates

codegen: venv ## Re-export the resource schemas from the pinned cfn-lint and regenerate crates/cfn/src/resources
	$(PY) tools/export_schemas.py
	$(CARGO) run -q -j$(JOBS) -p cfn-codegen

lint: venv ## cfn-lint, checkov and the YAML/JSON equivalence check on every preset's template
	$(CARGO) build -q -j$(JOBS) -p synth
	tools/lint-templates.sh target/debug/synth

check: ## Formatting and clippy, warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy -q -j$(JOBS) --workspace --all-targets -- -D warnings

test: venv check ## Everything CI runs: format, clippy, unit and integration tests (moto included), template lint, the Lambda zip
	$(PY) tools/export_schemas.py --check
	$(CARGO) test -j$(JOBS) --workspace
	tools/lint-templates.sh target/debug/synth
	$(MAKE) --no-print-directory build
	tools/check-zip.sh cfn-out/processor.zip
	EVENTS=500 $(MAKE) --no-print-directory local

local: build ## The whole pipeline on moto: stack, producer, local-runner, report (EVENTS=1000)
	$(CARGO) build -q -j$(JOBS) -p synth -p producer -p local-runner
	tools/local.sh cfn-out/processor.zip target/debug/synth target/debug/producer target/debug/local-runner $(SYNTH_ARGS)

bench: ## Time the release synth binary over repeated runs (needs hyperfine)
	$(CARGO) build -q -j$(JOBS) --release -p synth
	tools/bench-synth.sh target/release/synth

clean: ## Remove build output (target/, cfn-out/)
	rm -rf target cfn-out
