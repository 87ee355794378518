"""Grafana as provisioned from deploy/grafana/: the JSON is checked, and every query in the
dashboards runs against real servers — InfluxQL on a real InfluxDB 1.6 holding points the
gateway's own decoding made from contract messages, PromQL on VictoriaMetrics and against
the metrics EstateOps really exports — so a dashboard cannot ship broken."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import prometheus_client
import yaml

import bridges.metrics
import connectors.mqtt
import gateway.metrics
import gateway.rules.metrics
from connectors.store.influx_v1 import InfluxV1Store
from device_profiles import load_profiles
from gateway.decode import decode_message, parse_topic, reading_to_points
from gateway.model import Reading
from tests.fixtures.influx import HttpServer, influx_query, unique_name

REPO = Path(__file__).resolve().parents[1]
GRAFANA = REPO / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
METRIC_MODULES = (gateway.metrics, gateway.rules.metrics, connectors.mqtt, bridges.metrics)

# One message of each contract device type and event, as devices and bridges send them.
SAMPLES: dict[str, dict[str, object]] = {
    "leak_sensor/leak-1/telemetry": {"leak": True, "battery": 96, "rssi": -67,
                                     "temperature_c": 8.5},
    "leak_sensor/z2m-leak/telemetry": {"leak": False, "battery": 100, "battery_low": False,
                                       "voltage": 3025, "linkquality": 112},
    "voice_light/light-1/telemetry": {"state": "on", "current_ma": 41.5, "sound_db": 63.0},
    "voice_light/light-1/event": {"event": "triggered", "sound_db": 63.0},
    "ev_charger/car-1/telemetry": {"status": "faulted", "power_kw": 7.1, "energy_kwh": 2.5,
                                   "temperature_c": 48.5, "fault_code": "HighTemperature",
                                   "connector": 1},
    "ev_charger/car-1/event": {"event": "session_start", "session_id": "17", "energy_kwh": 1.0},
    "barrier_gate/gate-1/telemetry": {"position": "open", "loop_occupied": False},
    "barrier_gate/gate-1/event": {"event": "vehicle_entry", "plate": "黑A12345",
                                  "lane": "north-in"},
    "barrier_gate/gate-2/event": {"event": "obstruction"},
}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def targets(kind: str) -> list[tuple[str, str]]:
    """(where, query) of every query of data source `kind` in every dashboard, templating
    variables included."""
    found = []
    for path in DASHBOARDS:
        dashboard = load(path)
        for variable in dashboard.get("templating", {}).get("list", []):
            if variable["datasource"]["type"] == kind:
                found.append((f"{path.name} variable {variable['name']}", variable["query"]))
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                if target["datasource"]["type"] == kind:
                    query = target["query"] if kind == "influxdb" else target["expr"]
                    found.append((f"{path.name} panel {panel['title']!r}", query))
    return found


def provisioned_datasources() -> dict[str, str]:
    config = yaml.safe_load((GRAFANA / "provisioning/datasources/estateops.yaml").read_text())
    return {source["uid"]: source["type"] for source in config["datasources"]}


def test_the_dashboards_are_valid_and_name_only_provisioned_data_sources() -> None:
    assert {path.stem for path in DASHBOARDS} == {
        "estate-overview", "device-types", "gateway-health"}
    sources = provisioned_datasources()
    uids = [load(path)["uid"] for path in DASHBOARDS]
    assert len(set(uids)) == len(uids)
    for path in DASHBOARDS:
        dashboard = load(path)
        ids = [panel["id"] for panel in panels(dashboard)]
        assert len(set(ids)) == len(ids), f"{path.name}: panel ids repeat"
        for panel in panels(dashboard):
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, f"{path.name}: {panel['title']} is too wide"
            for target in panel.get("targets", []):
                source = target["datasource"]
                assert sources.get(source["uid"]) == source["type"], f"{path.name}: {source}"


def test_compose_mounts_the_folders_the_provisioning_reads() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    volumes = compose["services"]["grafana"]["volumes"]
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/estateops.yaml").read_text())
    dashboards_path = provider["providers"][0]["options"]["path"]
    assert f"./deploy/grafana/dashboards:{dashboards_path}:ro" in volumes
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in volumes
    environment = compose["services"]["grafana"]["environment"]
    home = environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert Path(home).parent == Path(dashboards_path)
    assert (GRAFANA / "dashboards" / Path(home).name).is_file()


def grafana_influxql(query: str, estate_id: str, start_ms: int) -> str:
    """The query as Grafana sends it, its macros and variables filled in."""
    return (query.replace("$timeFilter", f"time >= {start_ms}ms")
            .replace("$__interval", "1m").replace("$estate", re.escape(estate_id)))


async def write_samples(influxdb_v1: HttpServer, database: str, estate_id: str) -> None:
    """Points exactly as the gateway makes them from the sample messages."""
    profiles = load_profiles()
    store = InfluxV1Store(influxdb_v1.url, database)
    try:
        for where, payload in SAMPLES.items():
            topic = parse_topic(f"estates/{estate_id}/{where}")
            profile = profiles.get(topic.device_type)
            assert profile is not None
            reading = decode_message(topic, json.dumps(payload).encode(), profile,
                                     received_ns=time.time_ns())
            assert isinstance(reading, Reading)
            await store.write(reading_to_points(reading, profile))
    finally:
        await store.aclose()


def has_values(series: list[dict[str, Any]]) -> bool:
    return any(value is not None for one in series for row in one["values"]
               for value in row[1:] if not (isinstance(value, int) and value == 0))


async def test_every_influxql_query_answers_with_data_from_a_real_influxdb(
        influxdb_v1: HttpServer) -> None:
    database, estate_id = unique_name("grafana"), "longdi"
    start_ms = int(time.time() * 1000) - 60_000
    await write_samples(influxdb_v1, database, estate_id)
    queries = targets("influxdb")
    assert len(queries) >= 15
    for where, query in queries:
        series = await influx_query(influxdb_v1.url, database,
                                    grafana_influxql(query, estate_id, start_ms))
        assert has_values(series), f"{where}: no data for {query}"


def exported_metric_names() -> set[str]:
    """Every sample name EstateOps's metrics export (counters with _total, histograms with
    _bucket ...), from the modules that define them (METRIC_MODULES, imported above)."""
    assert all(module.__name__ for module in METRIC_MODULES)
    names: set[str] = set()
    for family in prometheus_client.REGISTRY.collect():
        base = family.name
        names |= {base, f"{base}_total", f"{base}_bucket", f"{base}_sum", f"{base}_count",
                  f"{base}_created"}
    return names


PROMQL_NAME = re.compile(r"\b(estateops_[a-z0-9_]+)")


async def test_every_promql_query_parses_and_names_metrics_estateops_exports(
        victoria_metrics: HttpServer) -> None:
    exported = exported_metric_names()
    queries = targets("prometheus")
    assert len(queries) >= 8
    async with httpx.AsyncClient(base_url=victoria_metrics.url, timeout=10) as client:
        for where, expr in queries:
            for name in PROMQL_NAME.findall(expr):
                assert name in exported, f"{where}: {name} is not a metric of EstateOps"
            query = expr.replace("$__rate_interval", "5m")
            response = await client.get("/api/v1/query", params={"query": query})
            assert response.status_code == 200, f"{where}: {response.text}"
