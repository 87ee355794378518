"""Batch points to the telemetry store; retry while it is away, lose nothing it accepts.

Overflow policy: the queue is bounded and `put` waits when it is full, so a store that is
down slows MQTT intake instead of growing memory without limit.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence

from connectors.store.base import StoreError, TelemetryStore
from core.telemetry import Point
from gateway import metrics
from gateway.shielded import Shielded

log = logging.getLogger(__name__)

RejectedPoints = Callable[[Sequence[Point], str], Awaitable[None]]

MAX_BACKOFF_S = 30.0


class PointWriter:
    def __init__(self, store: TelemetryStore, *, batch_size: int, flush_interval_s: float,
                 queue_size: int, on_rejected: RejectedPoints) -> None:
        self._store = store
        self._batch_size = batch_size
        self._flush_interval_s = flush_interval_s
        self._queue: asyncio.Queue[Point] = asyncio.Queue(maxsize=queue_size)
        self._on_rejected = on_rejected
        self._writing = Shielded()
        self._unwritten: list[Point] = []

    async def put(self, points: Sequence[Point]) -> None:
        for point in points:
            await self._queue.put(point)
        metrics.QUEUE_DEPTH.set(self._queue.qsize())

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def run(self) -> None:
        """Write batches until cancelled; on cancel, flush what is queued first."""
        try:
            while True:
                batch = await self._next_batch()
                await self._write_until_stored(batch)
        except asyncio.CancelledError:
            await self._writing.settle()
            await self.drain()
            raise

    async def drain(self) -> None:
        """Write what is left (a batch cut short by shutdown, then the queue), trying a
        few times each; points that still cannot be written are dead-lettered, not lost."""
        if self._unwritten:
            await self._write_until_stored(self._unwritten, attempts=3)
        while not self._queue.empty():
            batch = self._take_ready(self._batch_size)
            await self._write_until_stored(batch, attempts=3)

    async def _next_batch(self) -> list[Point]:
        batch = [await self._queue.get()]
        # Taken off the queue, so the batch is what drain() must write if shutdown comes
        # while it is still filling.
        self._unwritten = batch
        deadline = time.monotonic() + self._flush_interval_s
        while len(batch) < self._batch_size:
            batch.extend(self._take_ready(self._batch_size - len(batch)))
            remaining = deadline - time.monotonic()
            if len(batch) >= self._batch_size or remaining <= 0:
                break
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns the item when
            # the get completes as the task is cancelled, swallowing the cancellation, so a
            # gateway under load never stops on SIGTERM.
            try:
                async with asyncio.timeout(remaining):
                    batch.append(await self._queue.get())
            except TimeoutError:
                break
        return batch

    def _take_ready(self, limit: int) -> list[Point]:
        taken: list[Point] = []
        while len(taken) < limit and not self._queue.empty():
            taken.append(self._queue.get_nowait())
        return taken

    async def _write_until_stored(self, batch: list[Point], attempts: int | None = None) -> None:
        delay = 0.2
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._writing.run(self._write(batch))
                return
            except StoreError as exc:
                if not exc.retryable:
                    await self._isolate_bad_points(batch, str(exc))
                    return
                if attempts is not None and attempt >= attempts:
                    log.error("giving up on %d points at shutdown: %s", len(batch), exc)
                    await self._on_rejected(batch, f"store unavailable at shutdown: {exc}")
                    return
                metrics.WRITE_RETRIES.inc()
                log.warning("store write failed (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, MAX_BACKOFF_S)

    async def _write(self, batch: list[Point]) -> None:
        self._unwritten = batch
        started = time.perf_counter()
        await self._store.write(batch)
        self._unwritten = []
        metrics.WRITE_LATENCY.observe(time.perf_counter() - started)
        metrics.BATCH_SIZE.observe(len(batch))
        metrics.POINTS_WRITTEN.inc(len(batch))
        metrics.QUEUE_DEPTH.set(self._queue.qsize())

    async def _isolate_bad_points(self, batch: list[Point], reason: str) -> None:
        """The store refused the batch as bad data: split it to keep every good point."""
        if len(batch) == 1:
            metrics.POINTS_DROPPED.inc()
            await self._on_rejected(batch, reason)
            return
        middle = len(batch) // 2
        for half in (batch[:middle], batch[middle:]):
            await self._write_until_stored(half)
