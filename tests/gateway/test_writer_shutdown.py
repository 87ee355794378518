"""A point taken off the writer's queue into a batch that is still filling is written when
the gateway stops, not lost with the batch (found by the fifth-type test under load)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from connectors.store.embedded import EmbeddedStore
from core.telemetry import Point
from gateway.writer import PointWriter
from tests.utils.waiting import wait_until

T0_NS = 1_795_305_600 * 1_000_000_000


def reading(number: int) -> Point:
    return Point(measurement="leak_sensor", tags={"estate": "e1", "device": f"leak-{number}"},
                 fields={"leak": False, "battery": 90}, time_ns=T0_NS + number)


def stored_devices(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT DISTINCT device FROM series ORDER BY device")
        return [row[0] for row in rows]


async def refuse(points: Sequence[Point], reason: str) -> None:
    raise AssertionError(f"{len(points)} points refused: {reason}")


async def test_a_batch_cut_short_by_shutdown_is_written(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.sqlite3"
    store = EmbeddedStore(path)
    # A long flush interval: the batch is still filling when the writer is cancelled.
    writer = PointWriter(store, batch_size=1000, flush_interval_s=60, queue_size=100,
                         on_rejected=refuse)
    running = asyncio.create_task(writer.run())
    await writer.put([reading(1), reading(2)])
    assert await wait_until(lambda: writer.pending == 0)  # both are in the filling batch
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    await store.aclose()
    assert stored_devices(path) == ["leak-1", "leak-2"]
