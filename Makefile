# The user's verbs. Each target is a thin call to cargo, the project's scripts or the aws CLI.
# `make help` lists them.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

JOBS   ?= 2
# CI builds once, from nothing: incremental state would only take disk space.
ifeq ($(CI),true)
export CARGO_INCREMENTAL := 0
endif
CARGO  ?= cargo
VENV   := .venv
PY     := $(VENV)/bin/python
PRESET ?= dev
CONFIG ?=
# SET="lambda_memory_size=512 kinesis_shard_count=2" adds one --set per word.
SET    ?=
SYNTH_ARGS := --preset $(PRESET) $(if $(CONFIG),--config $(CONFIG),) $(addprefix --set ,$(SET))
SYNTH_BIN  := target/debug/synth
ZIP        := cfn-out/processor.zip
# The deploy targets (tools/stack.sh) also read, from the command line or the environment:
# STACK (default <project_name>-<environment>), REGION (default the config's), ALERT_EMAIL
# (default the config's sns_email_endpoint), ARTIFACT_BUCKET, AWS_ENDPOINT_URL (moto), SINCE
# and FOLLOW (logs), CHANGESET_NAME, FORCE=1 (destroy without asking), MAPPING_START and
# MAPPING_MARGIN (a deploy that replaces the event source mapping: docs/mapping-replacement.md).
# The processor's architecture follows the configuration (arm64 unless it says x86_64). Read
# only after the `config` target has checked the configuration, so a bad one stops make
# (exit 2, synth's message once) before anything is built or uploaded.
ARCH        = $(shell $(SYNTH_BIN) $(SYNTH_ARGS) --get lambda_architecture 2>/dev/null)
RUST_TARGET = $(if $(filter x86_64,$(ARCH)),x86_64-unknown-linux-gnu,aarch64-unknown-linux-gnu)
LAMBDA_FLAG = $(if $(filter x86_64,$(ARCH)),--x86-64,--arm64)

.PHONY: help venv build synth templates codegen lint check quick test local bench clean \
	package deploy changeset destroy outputs logs verify backfill synth-bin config

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'
	@echo "Variables: PRESET=dev CONFIG=file.toml SET='key=value ...'; for the deploy targets also"
	@echo "  STACK ALERT_EMAIL ARTIFACT_BUCKET REGION AWS_ENDPOINT_URL SINCE (see README, Deploy and review)"

venv: $(VENV)/.installed ## Install the pinned Python tools (cfn-lint, checkov, moto, aws CLI, cargo-lambda) into .venv

$(VENV)/.installed: tools/requirements.txt tools/venv.sh
	tools/venv.sh $(VENV)

build: config venv ## Build the processor with cargo-lambda into cfn-out/processor.zip (arch from the config)
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

lint: venv ## cfn-lint, checkov and the YAML/JSON check on every preset's template; the workflow lint
	$(CARGO) build -q -j$(JOBS) -p synth
	tools/lint-templates.sh target/debug/synth
	tools/lint-workflows.sh target/debug/synth

check: ## Formatting, clippy (warnings as errors), one feature set for the workspace (workspace-hack)
	$(CARGO) fmt --all -- --check
	python3 tools/check_features.py --cargo $(CARGO)
	$(CARGO) clippy -q -j$(JOBS) --workspace --all-targets -- -D warnings

quick: check ## The inner loop: formatting, clippy and the tests that need only Rust (no moto, no .venv)
	$(CARGO) test -q -j$(JOBS) --workspace

test: venv check ## Everything CI runs: format, clippy, tests (moto included), template and workflow lint, the Lambda zip, deploy on moto
	$(PY) tools/export_schemas.py --check
	$(CARGO) test -j$(JOBS) --workspace -- --include-ignored
	tools/lint-templates.sh target/debug/synth
	tools/lint-workflows.sh target/debug/synth
	$(MAKE) --no-print-directory build
	tools/check-zip.sh cfn-out/processor.zip $(ARCH)
	tools/check-make-config.sh
	EVENTS=500 $(MAKE) --no-print-directory local
	tools/deploy-on-moto.sh
	tools/mapping-replace-on-moto.sh

local: build ## The whole pipeline on moto: stack, producer, local-runner, report (EVENTS=1000)
	$(CARGO) build -q -j$(JOBS) -p synth -p producer -p local-runner
	tools/local.sh cfn-out/processor.zip target/debug/synth target/debug/producer target/debug/local-runner $(SYNTH_ARGS)

package: config $(ZIP) venv synth-bin ## Upload cfn-out/processor.zip to S3 as processor/<sha256>.zip (ARTIFACT_BUCKET or a new one)
	tools/stack.sh package $(SYNTH_BIN) $(SYNTH_ARGS)

deploy: config $(ZIP) venv synth-bin ## Synth, package, aws cloudformation deploy (STACK, ALERT_EMAIL), print the outputs
	tools/stack.sh deploy $(SYNTH_BIN) $(SYNTH_ARGS)

changeset: config $(ZIP) venv synth-bin ## Synth, package, create a change set and write cfn-out/changeset.md; not executed
	tools/stack.sh changeset $(SYNTH_BIN) $(SYNTH_ARGS)

destroy: config venv synth-bin ## Delete the stack, name what its DeletionPolicy keeps; refused while dead letters wait (FORCE=1: no prompt, delete them)
	tools/stack.sh destroy $(SYNTH_BIN) $(SYNTH_ARGS)

outputs: config venv synth-bin ## The stack's outputs as a table
	tools/stack.sh outputs $(SYNTH_BIN) $(SYNTH_ARGS)

logs: config venv synth-bin ## Follow the processor's log (SINCE=10m; FOLLOW=0 prints and exits)
	tools/stack.sh logs $(SYNTH_BIN) $(SYNTH_ARGS)

verify: config synth-bin ## Send a marked batch to the deployed stack; check table, queue, log, latency (VERIFY_ARGS='--timeout 60')
	$(CARGO) build -q -j$(JOBS) -p verify
	tools/stack.sh verify $(SYNTH_BIN) $(SYNTH_ARGS)

# STACK, REGION and AWS_ENDPOINT_URL as for the deploy targets (STACK defaults to
# <project_name>-<environment> of the configuration, REGION to its region).
backfill: config synth-bin ## Give stored events the index keys after dynamodb_index_write_shards changed (BACKFILL_ARGS='--dry-run')
	$(CARGO) build -q -j$(JOBS) -p backfill
	target/debug/backfill \
	  --stack-name "$${STACK:-$$($(SYNTH_BIN) $(SYNTH_ARGS) --get project_name)-$$($(SYNTH_BIN) $(SYNTH_ARGS) --get environment)}" \
	  --region "$${REGION:-$$($(SYNTH_BIN) $(SYNTH_ARGS) --get region)}" \
	  $${AWS_ENDPOINT_URL:+--endpoint-url "$$AWS_ENDPOINT_URL"} $(BACKFILL_ARGS)

# The deploy targets take the zip as it is: `make build` makes it, they never rebuild it.
# Without it they stop before installing the ~1 GB venv: a fresh clone has neither, and the
# zip is what to make first. The zip is listed before venv (make builds prerequisites in
# order), and with make -j the venv waits for the check too.
$(ZIP):
	@echo "error: $(ZIP) not found; run make build" >&2; exit 1

ifneq ($(filter package deploy changeset,$(MAKECMDGOALS)),)
$(VENV)/.installed: | $(ZIP)
endif

synth-bin:
	@$(CARGO) build -q -j$(JOBS) -p synth

# Stops make with synth's exit status (2) and its one-line message when the configuration
# (PRESET, CONFIG, SET) is bad, before any target builds, uploads or deploys anything.
config: synth-bin
	@$(SYNTH_BIN) $(SYNTH_ARGS) --get lambda_architecture >/dev/null

bench: ## Time the release synth binary over repeated runs (hyperfine when installed, else a shell loop)
	$(CARGO) build -q -j$(JOBS) --release -p synth
	tools/bench-synth.sh target/release/synth

clean: ## Remove build output (target/, cfn-out/)
	rm -rf target cfn-out
