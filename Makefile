# The two commands of the README, and the checks they run.
.PHONY: demo test lint typecheck unit bootstrap

ESTATEOPS := .venv/bin/estateops

# Everything on embedded defaults: broker, store, gateway, API and a simulated estate.
demo:
	./scripts/bootstrap
	$(ESTATEOPS) demo

# The full suite on real servers (Mosquitto, InfluxDB 1.x, VictoriaMetrics, PostgreSQL).
test:
	./scripts/bootstrap --servers
	$(MAKE) lint typecheck unit

lint:
	.venv/bin/ruff check .

typecheck:
	.venv/bin/mypy

unit:
	.venv/bin/pytest
