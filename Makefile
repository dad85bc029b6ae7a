# leadclock: the two commands a newcomer needs are `make run` and `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
PYTHON ?= python3
POLICY ?= policies/example.toml
DATA ?= data
LISTEN ?= 127.0.0.1:8080
# Local trials accept unsigned webhooks; set RUN_FLAGS= and LEADCLOCK_WEBHOOK_SECRETS to require signatures.
RUN_FLAGS ?= --insecure-no-auth
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
VENV ?= .venv
FUNCTIONS := form-ingest assignment first-touch stage escalate read-api rollup slack-notify

.PHONY: run test fmt lint check-policy unit api-fuzz web-test web-screenshots chromium venv cfn-lint checkov aws-test build deploy fuzz load deny bench bench-coldstart bench-import bench-lead soak bench-report bench-aws-rollup bench-aws-read

## Build and start the local server with the example policy.
run:
	$(CARGO) build --release --locked -p leadclock
	$(CARGO) run --release --locked -q -p leadclock -- policy check $(POLICY)
	$(CARGO) run --release --locked -q -p leadclock -- serve --policy $(POLICY) --data $(DATA) --listen $(LISTEN) $(RUN_FLAGS)

## Every test: formatting, lints, the dependency policy, the policy, Rust tests, the API against its
## OpenAPI document, the dashboard in a real browser, the template, the full AWS stack on an emulator.
test: fmt lint deny check-policy unit api-fuzz web-test cfn-lint checkov aws-test

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

check-policy:
	$(CARGO) run --locked -q -p leadclock -- policy check $(POLICY)

unit:
	mkdir -p target
	$(CARGO) test --locked --workspace 2>&1 | tee target/unit-tests.log
	@awk '/^test result:/ { p += $$4; f += $$6 } END { printf "rust: %d passed, %d failed\n", p, f }' target/unit-tests.log

## schemathesis (pinned, its own venv) against the local server and docs/openapi.json as served:
## no 5xx, every response as documented, invalid input refused. About two minutes; any finding fails.
$(VENV)-schemathesis/.installed: tests/api/requirements.txt
	$(PYTHON) -m venv $(VENV)-schemathesis || { $(PYTHON) -m pip install --quiet --user virtualenv && $(PYTHON) -m virtualenv $(VENV)-schemathesis; }
	$(VENV)-schemathesis/bin/pip install --quiet --disable-pip-version-check -r tests/api/requirements.txt
	touch $@

api-fuzz: $(VENV)-schemathesis/.installed
	$(CARGO) test --locked --workspace --no-run
	tests/api/fuzz.sh $(abspath $(TARGET_DIR))/debug/leadclock $(abspath $(VENV))-schemathesis/bin/schemathesis

## The dashboard in Debian's Chromium, driven by Playwright (pinned, its own venv; Playwright's
## own browser download is never used). Screenshots: target/web-screenshots/.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@if ! [ -x $(CHROMIUM) ]; then 	  echo "installing Debian's chromium for the browser tests"; 	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; 	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; 	fi

$(VENV)-web/.installed: tests/web/requirements.txt
	$(PYTHON) -m venv $(VENV)-web || { $(PYTHON) -m pip install --quiet --user virtualenv && $(PYTHON) -m virtualenv $(VENV)-web; }
	$(VENV)-web/bin/pip install --quiet --disable-pip-version-check -r tests/web/requirements.txt
	touch $@

web-test: chromium $(VENV)-web/.installed
	$(CARGO) test --locked --workspace --no-run
	LEADCLOCK_BIN=$(abspath $(TARGET_DIR))/debug/leadclock CHROMIUM=$(CHROMIUM) \
	  $(VENV)-web/bin/pytest -q -p no:cacheprovider tests/web

## The README's screenshots, from the browser tests' run.
web-screenshots: web-test
	mkdir -p docs/screenshots
	for p in now trends conversion people feedback rollout lead now-phone; do \
	  cp target/web-screenshots/$$p.png docs/screenshots/$$p.png; done

## Pinned Python tools (emulator, SAM translator, linters, test driver) in a local venv.
$(VENV)/.installed: tests/aws/requirements.txt
	$(PYTHON) -m venv $(VENV) || { $(PYTHON) -m pip install --quiet --user virtualenv && $(PYTHON) -m virtualenv $(VENV); }
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/aws/requirements.txt
	touch $@

venv: $(VENV)/.installed

cfn-lint: venv
	$(VENV)/bin/cfn-lint infra/template.yaml

## checkov has its own venv: its pins clash with the emulator's.
$(VENV)-checkov/.installed: tests/aws/requirements-checkov.txt
	$(PYTHON) -m venv $(VENV)-checkov || { $(PYTHON) -m pip install --quiet --user virtualenv && $(PYTHON) -m virtualenv $(VENV)-checkov; }
	$(VENV)-checkov/bin/pip install --quiet --disable-pip-version-check -r tests/aws/requirements-checkov.txt
	touch $@

checkov: $(VENV)-checkov/.installed
	$(VENV)-checkov/bin/checkov -f infra/template.yaml --config-file infra/.checkov.yaml 2>/dev/null

## Deploys infra/template.yaml to ministack with the functions built for this host, and drives it.
aws-test: venv
	# The workspace's own feature set, as `make unit` builds it: the Lambda bins land in
	# target/debug and nothing is compiled twice (a -p build unifies features differently).
	$(CARGO) test --locked --workspace --no-run
	mkdir -p target
	LEADCLOCK_LAMBDA_BIN_DIR=$(TARGET_DIR)/debug $(VENV)/bin/pytest -q -p no:cacheprovider tests/aws

## Lambda zips for AWS (arm64, release), each with the policy; prints their sizes.
## With a manifest of policy versions (POLICY_VERSIONS), every version is bundled too; the build
## refuses a manifest whose past versions changed or whose current version is not POLICY.
POLICY_VERSIONS ?= $(dir $(POLICY))versions.toml
build: venv
	$(CARGO) run --locked -q -p leadclock -- policy check $(POLICY)
	if [ -f $(POLICY_VERSIONS) ]; then \
	  $(CARGO) run --locked -q -p leadclock -- policy versions check $(POLICY_VERSIONS) --current $(POLICY); fi
	$(VENV)/bin/pip install --quiet --disable-pip-version-check cargo-lambda==1.9.2
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(CARGO) lambda build --release --arm64 -p leadclock-aws
	mkdir -p dist
	for f in $(FUNCTIONS); do \
	  d=$$(mktemp -d); cp $(TARGET_DIR)/lambda/$$f/bootstrap $$d/bootstrap; cp $(POLICY) $$d/policy.toml; files="bootstrap policy.toml"; \
	  if [ -f $(POLICY_VERSIONS) ]; then \
	    cp $(POLICY_VERSIONS) $$d/policy-versions.toml; files="$$files policy-versions.toml"; \
	    vfiles=$$($(CARGO) run --locked -q -p leadclock -- policy versions list --manifest $(POLICY_VERSIONS) --files); \
	    for v in $$vfiles; do \
	      mkdir -p $$d/$$(dirname $$v); cp $(dir $(POLICY_VERSIONS))$$v $$d/$$v; files="$$files $$v"; done; \
	  fi; \
	  rm -f dist/$$f.zip; (cd $$d && $(CURDIR)/$(VENV)/bin/python -m zipfile -c $(CURDIR)/dist/$$f.zip $$files); rm -rf $$d; \
	done
	@ls -l dist/*.zip | awk '{ printf "%-28s %8.1f KiB\n", $$9, $$5 / 1024 }'

## Deploys to your AWS account with SAM (guided the first time).
deploy: build
	$(VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli
	if [ -f samconfig.toml ]; then $(VENV)/bin/sam deploy --template-file infra/template.yaml; \
	else $(VENV)/bin/sam deploy --guided --template-file infra/template.yaml --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND; fi

## Bounded fuzzing of every event parser, the policy parser and the calendar (FUZZ_SECONDS each).
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := form assignment touch stage policy calendar
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install --locked cargo-fuzz --version 0.13.2
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 2>&1 | tail -n 3; \
	done

## Bounded load test on this machine: LOAD_CLIENTS concurrent clients for LOAD_DURATION, signed webhooks.
LOAD_CLIENTS ?= 50
LOAD_DURATION ?= 2m
load:
	$(CARGO) build --release --locked -p leadclock -p leadclock-loadtest
	dir=$$(mktemp -d); export LEADCLOCK_WEBHOOK_SECRETS=load-secret LEADCLOCK_READ_TOKENS=load-token; \
	$(TARGET_DIR)/release/leadclock serve --data $$dir --listen 127.0.0.1:18099 > $$dir/server.log 2>&1 & pid=$$!; \
	sleep 1; $(TARGET_DIR)/release/leadclock-load --url http://127.0.0.1:18099 --clients $(LOAD_CLIENTS) --duration $(LOAD_DURATION); rc=$$?; \
	ps -o rss= -p $$pid | awk '{ printf "server RSS after the run: %.1f MiB\n", $$1 / 1024 }'; \
	kill $$pid; rm -rf $$dir; exit $$rc

## Dependency policy (deny.toml): licenses, banned crates, sources; offline, no advisory fetch.
## cargo-deny is installed once, pinned, into a cache outside the work tree.
CARGO_DENY_VERSION := 0.20.2
TOOLS_DIR ?= $(HOME)/.cache/leadclock-tools
CARGO_DENY := $(TOOLS_DIR)/bin/cargo-deny
deny:
	if [ "$$($(CARGO_DENY) --version 2>/dev/null)" != "cargo-deny $(CARGO_DENY_VERSION)" ]; then \
	  $(CARGO) install --locked --quiet cargo-deny --version $(CARGO_DENY_VERSION) --root $(TOOLS_DIR); \
	fi
	# cargo-deny reads `cargo metadata` for every platform: fetch those crates (from crates.io) first.
	$(CARGO) fetch --locked --quiet
	$(CARGO_DENY) --offline check --hide-inclusion-graph bans licenses sources

## The kill -9 delivery test at ten times `make test`'s size: 3,400 leads, 10,200 steps.
SOAK_LEADS ?= 3400
soak:
	LEADCLOCK_KILL_LEADS=$(SOAK_LEADS) $(CARGO) test --locked -p leadclock --test delivery -- --nocapture

## Benchmarks on this machine; results are printed, never asserted.
bench: bench-coldstart bench-import bench-lead bench-report bench-aws-rollup bench-aws-read

## `leadclock import` of BENCH_IMPORT_LEADS leads (4 events each), beside SQLite's raw commit rate.
BENCH_IMPORT_LEADS ?= 100000
bench-import:
	$(CARGO) build --release --locked -p leadclock
	$(PYTHON) bench/import.py --bin $(TARGET_DIR)/release/leadclock --policy $(POLICY) --leads $(BENCH_IMPORT_LEADS)

## A 30-day report's time and peak RSS over BENCH_REPORT_LEADS leads (each size imported fresh);
## BENCH_REPORT_BASELINE, an older build's leadclock binary, is measured side by side.
BENCH_REPORT_LEADS ?= 50000,1000000
BENCH_REPORT_BASELINE ?=
bench-report:
	$(CARGO) build --release --locked -p leadclock
	$(PYTHON) bench/report.py --bin $(TARGET_DIR)/release/leadclock --policy $(POLICY) --leads $(BENCH_REPORT_LEADS) $(if $(BENCH_REPORT_BASELINE),--baseline-bin $(BENCH_REPORT_BASELINE))

## The nightly rollup on the emulator over BENCH_OPEN_LEADS open leads, seeded through the DynamoDB
## adapter; its requests by operation and its item size land in target/aws-rollup-scale.json.
BENCH_OPEN_LEADS ?= 100000
bench-aws-rollup: venv
	$(CARGO) test --locked --workspace --no-run
	mkdir -p target
	LEADCLOCK_OPEN_LEADS=$(BENCH_OPEN_LEADS) LEADCLOCK_LAMBDA_BIN_DIR=$(TARGET_DIR)/debug $(VENV)/bin/pytest -q -p no:cacheprovider tests/aws -k thousands
	cat target/aws-rollup-scale.json

## A 90-day report through the emulator's API over days of BENCH_FACTS_LEADS settled leads each
## (a real day's sum, copied to 90 days); its seconds and requests land in target/aws-read-scale.json.
BENCH_FACTS_LEADS ?= 1000
bench-aws-read: venv
	$(CARGO) test --locked --workspace --no-run
	mkdir -p target
	LEADCLOCK_FACTS_LEADS=$(BENCH_FACTS_LEADS) LEADCLOCK_LAMBDA_BIN_DIR=$(TARGET_DIR)/debug $(VENV)/bin/pytest -q -p no:cacheprovider tests/aws -k ninety
	cat target/aws-read-scale.json

## One lead's POST latency at its first and its BENCH_LEAD_EVENTS-th event, then the cap's answer.
BENCH_LEAD_EVENTS ?= 2000
bench-lead:
	$(CARGO) build --release --locked -p leadclock
	$(PYTHON) bench/lead_history.py --bin $(TARGET_DIR)/release/leadclock --policy $(POLICY) --events $(BENCH_LEAD_EVENTS) --past-cap

## Cold start of each function (release, this host) and of hello-lambda, against a local fake Runtime API.
## BENCH_BIN_DIR measures other builds with the same harness, e.g. an older commit's target/release.
BENCH_RUNS ?= 15
BENCH_BIN_DIR ?= $(TARGET_DIR)/release
bench-coldstart:
	$(CARGO) build --release --locked -p leadclock-aws --bins
	$(CARGO) build --release --locked -p leadclock-hello-lambda
	$(PYTHON) bench/coldstart.py --bin-dir $(BENCH_BIN_DIR) --hello $(TARGET_DIR)/release/hello-lambda \
	  --policy $(POLICY) --runs $(BENCH_RUNS)
