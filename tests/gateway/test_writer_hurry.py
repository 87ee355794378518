"""The rule flush, which every acknowledgement waits for, waits for the points put before
it to be stored; it must not also wait for the writer's batch timer. Under a live stream
that timer (0.2 s) was paid on every flush, on top of the write itself."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from connectors.store.embedded import EmbeddedStore
from gateway.writer import PointWriter
from tests.gateway.test_writer_shutdown import reading, refuse, stored_devices

BATCH_TIMER_S = 30.0  # the batch would fill this long if nobody were in a hurry


async def test_when_written_now_writes_the_filling_batch_without_its_timer(
        tmp_path: Path) -> None:
    path = tmp_path / "telemetry.sqlite3"
    store = EmbeddedStore(path)
    writer = PointWriter(store, batch_size=1000, flush_interval_s=BATCH_TIMER_S,
                         queue_size=100, on_rejected=refuse)
    running = asyncio.create_task(writer.run())
    try:
        await writer.put([reading(1), reading(2)])
        patient, hurried = asyncio.Event(), asyncio.Event()
        writer.when_written(patient.set)
        await asyncio.sleep(0.3)
        assert not patient.is_set()  # an ordinary ack lets the batch fill

        started = time.monotonic()
        writer.when_written_now(hurried.set)
        async with asyncio.timeout(5):
            await hurried.wait()
        assert time.monotonic() - started < 2.0
        assert patient.is_set()  # acks are called in order: the earlier one is done too
        assert stored_devices(path) == ["leak-1", "leak-2"]

        await writer.put([reading(3)])  # the next batch fills for its timer again
        later = asyncio.Event()
        writer.when_written(later.set)
        await asyncio.sleep(0.3)
        assert not later.is_set()
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await store.aclose()
