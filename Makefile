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

# Python may write bytecode while the tests run, even where the environment says not to
# (PYTHONDONTWRITEBYTECODE=1 on the CI machine): every `estateops` process a test starts
# would otherwise compile its imports again, ~3.5 s of CPU each on 2 cores. The slowest 25
# tests are listed at the end, to show where CI's time goes.
unit:
	PYTHONDONTWRITEBYTECODE= .venv/bin/pytest --durations=25
