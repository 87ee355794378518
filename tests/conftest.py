"""Shared fixtures: real servers (Mosquitto, InfluxDB 1.x, VictoriaMetrics, PostgreSQL)."""

pytest_plugins = [
    "tests.fixtures.mosquitto",
    "tests.fixtures.influx",
    "tests.fixtures.postgres",
    "tests.fixtures.database",
    "tests.fixtures.secure_broker",
]
