# leadclock: the two commands a newcomer needs are `make run` and `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
POLICY ?= policies/example.toml
DATA ?= data
LISTEN ?= 127.0.0.1:8080

.PHONY: run test fmt lint check-policy unit

## Build and start the local server with the example policy.
run:
	$(CARGO) build --release --locked -p leadclock
	$(CARGO) run --release --locked -q -p leadclock -- policy check $(POLICY)
	$(CARGO) run --release --locked -q -p leadclock -- serve --policy $(POLICY) --data $(DATA) --listen $(LISTEN)

## Every test: formatting, lints, the policy, unit, property, fault and black-box tests.
test: fmt lint check-policy unit

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
