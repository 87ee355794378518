"""Run a real gateway inside a test, against real servers, and wait for its effects."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store import TelemetryStore
from core.clock import Clock
from core.vocabulary import AnomalySink
from device_profiles import load_profiles
from estateops.settings import Settings
from gateway.runner import Gateway, build_gateway

T = TypeVar("T")


def gateway_settings(*, broker_url: str, database_url: str, data_dir: Path,
                     estate_id: str, **gateway: float) -> Settings:
    """Settings for one test: its own client id, and only its own estate's topics."""
    return Settings(
        data_dir=data_dir, database_url=database_url,
        mqtt={"url": broker_url, "client_id": f"gw-{uuid.uuid4().hex[:8]}",
              "topic": f"estates/{estate_id}/+/+/+"},
        gateway={"flush_interval_s": 0.05, "state_flush_interval_s": 0.05, **gateway},
    )


@contextlib.asynccontextmanager
async def running_gateway(settings: Settings, *, store: TelemetryStore,
                          sessions: async_sessionmaker[AsyncSession],
                          anomalies: AnomalySink | None = None,
                          clock: Clock | None = None) -> AsyncIterator[Gateway]:
    gateway = build_gateway(settings, profiles=load_profiles(), store=store, sessions=sessions,
                            anomalies=anomalies, clock=clock)
    task = asyncio.create_task(gateway.run(), name="gateway-under-test")
    try:
        await asyncio.wait_for(gateway.connected.wait(), timeout=15)
        yield gateway
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def eventually(probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], *,
                     within: float = 15.0, interval: float = 0.1) -> T:
    """Poll `probe` until `done(result)`; return the last result either way (assert on it)."""
    deadline = time.monotonic() + within
    result = await probe()
    while not done(result) and time.monotonic() < deadline:
        await asyncio.sleep(interval)
        result = await probe()
    return result
