"""Open the telemetry store the settings ask for, and close it when done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from connectors.store.base import TelemetryStore
from connectors.store.settings import InfluxSettings


def build_store(settings: InfluxSettings, embedded_path: Path) -> TelemetryStore:
    """No URL: the embedded SQLite store; otherwise InfluxDB through its v1 or v2 API.
    Each store is imported only when asked for: the v2 client alone is ~400 modules."""
    if settings.url is None:
        from connectors.store.embedded import EmbeddedStore

        return EmbeddedStore(embedded_path)
    if settings.api_version == 1:
        from connectors.store.influx_v1 import InfluxV1Store

        password = settings.password.get_secret_value() if settings.password else None
        return InfluxV1Store(settings.url, settings.database, username=settings.username,
                             password=password, timeout_s=settings.timeout_s)
    from connectors.store.influx_v2 import InfluxV2Store

    token = settings.token.get_secret_value() if settings.token else ""
    return InfluxV2Store(settings.url, settings.org, settings.bucket, token,
                         database=settings.database, timeout_s=settings.timeout_s)


@asynccontextmanager
async def open_store(settings: InfluxSettings,
                     embedded_path: Path) -> AsyncIterator[TelemetryStore]:
    store = build_store(settings, embedded_path)
    try:
        yield store
    finally:
        await store.aclose()
