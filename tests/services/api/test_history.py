"""GET .../history: parameter checks and store errors (the store here is a stand-in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.store.base import Aggregate, HistoryBucket, StoreError
from tests.services.api.factories import FakeStore

LEAK = "/api/v1/estates/longdi/devices/leak-001/history"
CHARGER = "/api/v1/estates/longdi/devices/charger-001/history"
END = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


async def test_defaults_ask_the_store_for_24h_in_5m_means(
    client: httpx.AsyncClient, fake_store: FakeStore
) -> None:
    fake_store.buckets = [HistoryBucket(start=END - timedelta(minutes=5), value=95.5),
                          HistoryBucket(start=END, value=None)]
    before = datetime.now(UTC)

    response = await client.get(LEAK, params={"field": "battery"})

    assert response.status_code == 200
    [query] = fake_store.queries
    assert (query.measurement, query.estate_id, query.device_id, query.field) == (
        "leak_sensor", "longdi", "leak-001", "battery")
    assert (query.interval_s, query.aggregate) == (300, Aggregate.MEAN)
    assert query.end - query.start == timedelta(hours=24)
    assert before <= query.end <= datetime.now(UTC)
    body = response.json()
    assert body["count"] == 2
    assert body["data"] == [{"start": "2026-11-22T11:55:00Z", "value": 95.5},
                            {"start": "2026-11-22T12:00:00Z", "value": None}]


async def test_range_aggregate_and_synonym_pass_through(
    client: httpx.AsyncClient, fake_store: FakeStore
) -> None:
    params = {"field": "water_leak", "start": "2026-11-22T08:00:00+08:00",
              "end": "2026-11-22T02:00:00", "interval": "1h", "agg": "max"}

    response = await client.get(LEAK, params=params)

    assert response.status_code == 200, response.text
    [query] = fake_store.queries
    assert query.field == "leak"
    assert query.start == datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
    assert query.end == datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # naive end taken as UTC
    assert (query.interval_s, query.aggregate) == (3600, Aggregate.MAX)
    assert response.json()["field"] == "leak"


@pytest.mark.parametrize(
    ("interval", "seconds"),
    [("300", 300), ("45s", 45), ("5m", 300), ("1h", 3600), ("1d", 86_400), (" 2m ", 120)],
)
async def test_interval_accepts_seconds_or_units(
    client: httpx.AsyncClient, fake_store: FakeStore, interval: str, seconds: int
) -> None:
    response = await client.get(LEAK, params={"field": "battery", "interval": interval})

    assert response.status_code == 200
    assert fake_store.queries[0].interval_s == seconds
    assert response.json()["interval_s"] == seconds


@pytest.mark.parametrize("interval", ["0", "0m", "-5", "5x", "m", "1.5h", ""])
async def test_bad_interval_is_422(
    client: httpx.AsyncClient, fake_store: FakeStore, interval: str
) -> None:
    response = await client.get(LEAK, params={"field": "battery", "interval": interval})

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_query"
    assert response.json()["parameter"] == "interval"
    assert fake_store.queries == []


@pytest.mark.parametrize("field", ["status", "fault_code", "connector", "bogus"])
async def test_field_must_be_numeric_or_bool_and_error_names_valid_ones(
    client: httpx.AsyncClient, fake_store: FakeStore, field: str
) -> None:
    response = await client.get(CHARGER, params={"field": field})

    assert response.status_code == 422
    body = response.json()
    assert body["valid_fields"] == ["energy_kwh", "power_kw", "temperature_c"]
    assert field in body["detail"]
    assert "energy_kwh, power_kw, temperature_c" in body["detail"]
    assert fake_store.queries == []


async def test_missing_field_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get(LEAK)

    assert response.status_code == 422


@pytest.mark.parametrize(("buckets", "status"), [(10_000, 200), (10_001, 422)])
async def test_bucket_count_is_capped(
    client: httpx.AsyncClient, buckets: int, status: int
) -> None:
    start = END - timedelta(minutes=buckets)
    params = {"field": "battery", "interval": "60", "start": start.isoformat(),
              "end": END.isoformat()}

    response = await client.get(LEAK, params=params)

    assert response.status_code == status
    if status == 422:
        assert response.json()["buckets"] == buckets


@pytest.mark.parametrize("start", [END, END + timedelta(seconds=1)])
async def test_start_must_precede_end(client: httpx.AsyncClient, start: datetime) -> None:
    params = {"field": "battery", "start": start.isoformat(), "end": END.isoformat()}

    response = await client.get(LEAK, params=params)

    assert response.status_code == 422
    assert response.json()["parameter"] == "start"


async def test_unknown_aggregate_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get(LEAK, params={"field": "battery", "agg": "median"})

    assert response.status_code == 422


async def test_unknown_device_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/estates/longdi/devices/ghost/history",
                                params={"field": "battery"})

    assert response.status_code == 404


async def test_device_type_without_profile_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/estates/longdi/devices/mystery-001/history",
                                params={"field": "power_kw"})

    assert response.status_code == 422
    assert "heat_pump" in response.json()["detail"]


async def test_store_error_is_503_with_the_reason(
    client: httpx.AsyncClient, fake_store: FakeStore
) -> None:
    fake_store.error = StoreError("connection refused by influx:8086", retryable=True)

    response = await client.get(LEAK, params={"field": "battery"})

    assert response.status_code == 503
    assert response.json()["error"] == "store_unavailable"
    assert "connection refused by influx:8086" in response.json()["detail"]
