"""History round trip through the real embedded store, opened by the API's own lifespan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store.embedded import EmbeddedStore
from core.telemetry import Point
from estateops.settings import Settings
from services.api import create_app
from services.api.deps import ApiResources
from tests.services.api.conftest import serving

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)  # on a 5-minute boundary


def _battery(estate: str, device: str, at: datetime, value: float) -> Point:
    return Point(measurement="leak_sensor", tags={"estate": estate, "device": device},
                 fields={"battery": value, "leak": False},
                 time_ns=int(at.timestamp()) * 10**9)


POINTS = [
    _battery("longdi", "leak-001", T0, 90.0),
    _battery("longdi", "leak-001", T0 + timedelta(minutes=1), 80.0),
    _battery("longdi", "leak-001", T0 + timedelta(minutes=7), 70.0),
    _battery("songhua", "leak-001", T0 + timedelta(minutes=2), 10.0),  # same id, other estate
    _battery("longdi", "leak-001", T0 + timedelta(minutes=30), 1.0),  # after the range
]


async def test_history_reads_back_what_the_embedded_store_holds(
    settings: Settings, seeded: async_sessionmaker[AsyncSession], admin_headers: dict[str, str]
) -> None:
    app = create_app(settings, sessions=seeded)  # the lifespan opens the store from settings
    params = {"field": "battery", "start": T0.isoformat(),
              "end": (T0 + timedelta(minutes=15)).isoformat(), "interval": "5m"}

    async with serving(app, admin_headers) as client:
        resources: ApiResources = app.state.resources
        assert isinstance(resources.store, EmbeddedStore)
        await resources.store.write(POINTS)
        mean = (await client.get("/api/v1/estates/longdi/devices/leak-001/history",
                                 params=params)).json()
        highest = (await client.get("/api/v1/estates/longdi/devices/leak-001/history",
                                    params={**params, "agg": "max", "interval": "15m"})).json()
        health = (await client.get("/healthz")).json()

    by_start = {bucket["start"]: bucket["value"] for bucket in mean["data"]}
    assert by_start["2026-11-22T08:00:00Z"] == 85.0
    assert by_start["2026-11-22T08:05:00Z"] == 70.0
    assert all(value is None for start, value in by_start.items()
               if start not in ("2026-11-22T08:00:00Z", "2026-11-22T08:05:00Z"))
    assert highest["data"] == [{"start": "2026-11-22T08:00:00Z", "value": 90.0}]
    assert health == {"status": "ok", "database": True, "store": True}
    assert settings.embedded_telemetry_path.exists()
