# leadclock: the two commands a newcomer needs are `make run` and `make test`.
CARGO ?= cargo
POLICY ?= policies/example.toml
DATA ?= data
LISTEN ?= 127.0.0.1:8080

.PHONY: run test check-policy fmt lint unit

## Build and start the local server with the example policy.
run:
	$(CARGO) build --release --locked -p leadclock
	$(CARGO) run --release --locked -q -p leadclock -- policy check $(POLICY)
	$(CARGO) run --release --locked -q -p leadclock -- serve --policy $(POLICY) --data $(DATA) --listen $(LISTEN)

## Every test: formatting, lints, unit, property and black-box tests.
test: fmt lint unit check-policy

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test --locked --workspace

check-policy:
	$(CARGO) run --locked -q -p leadclock -- policy check $(POLICY)
