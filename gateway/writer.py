"""Batch points to the telemetry store; retry while it is away, lose nothing it accepts.

Overflow policy: the queue is bounded and `put` waits when it is full, so a store that is
down slows MQTT intake instead of growing memory without limit.

Acknowledgement: `when_written(ack)` calls `ack` once every point put before it is in the
store (or set aside as bad data, dead-lettered). Points are written in the order they were
put, so a count of points done is enough. Acks wait in a deque holding one entry per
unacknowledged message: the broker's in-flight limit bounds it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from connectors.store.base import StoreError, TelemetryStore
from core.telemetry import Point
from gateway import metrics
from gateway.shielded import Shielded

log = logging.getLogger(__name__)

RejectedPoints = Callable[[Sequence[Point], str], Awaitable[None]]
Ack = Callable[[], None]

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
        self._put_count = 0  # points ever put
        self._done_count = 0  # of those, written (or dead-lettered as bad data), in order
        self._acks: deque[tuple[int, Ack]] = deque()
        self._gave_up = False  # a batch was dead-lettered at shutdown: acknowledge no more

    async def put(self, points: Sequence[Point]) -> None:
        for point in points:
            await self._queue.put(point)
            self._put_count += 1
        metrics.QUEUE_DEPTH.set(self._queue.qsize())

    def when_written(self, ack: Ack) -> None:
        """Call `ack` once every point put so far is stored (now, if it already is)."""
        if self._done_count >= self._put_count:
            ack()
        else:
            self._acks.append((self._put_count, ack))

    def _done(self, points: int) -> None:
        """`points` more, in queue order, are stored or set aside as bad data."""
        self._done_count += points
        acks = self._acks
        while acks and acks[0][0] <= self._done_count and not self._gave_up:
            acks.popleft()[1]()

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
        few times each; points that still cannot be written are dead-lettered, and their
        messages (and all after them) stay unacknowledged, so the broker redelivers them."""
        if self._unwritten and not await self._write_until_stored(self._unwritten, attempts=3):
            self._gave_up = True
        while not self._queue.empty():
            batch = self._take_ready(self._batch_size)
            if not await self._write_until_stored(batch, attempts=3):
                self._gave_up = True

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

    async def _write_until_stored(self, batch: list[Point], attempts: int | None = None) -> bool:
        """True once stored (bad points set aside); False if given up after `attempts`."""
        delay = 0.2
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._writing.run(self._write(batch))
                return True
            except StoreError as exc:
                if not exc.retryable:
                    await self._isolate_bad_points(batch, str(exc))
                    return True
                if attempts is not None and attempt >= attempts:
                    log.error("giving up on %d points at shutdown: %s", len(batch), exc)
                    await self._on_rejected(batch, f"store unavailable at shutdown: {exc}")
                    return False
                metrics.WRITE_RETRIES.inc()
                log.warning("store write failed (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, MAX_BACKOFF_S)

    async def _write(self, batch: list[Point]) -> None:
        self._unwritten = batch
        started = time.perf_counter()
        await self._store.write(batch)
        self._unwritten = []
        self._done(len(batch))
        metrics.WRITE_LATENCY.observe(time.perf_counter() - started)
        metrics.BATCH_SIZE.observe(len(batch))
        metrics.POINTS_WRITTEN.inc(len(batch))
        metrics.QUEUE_DEPTH.set(self._queue.qsize())

    async def _isolate_bad_points(self, batch: list[Point], reason: str) -> None:
        """The store refused the batch as bad data: split it to keep every good point."""
        if len(batch) == 1:
            metrics.POINTS_DROPPED.inc()
            await self._on_rejected(batch, reason)
            self._done(1)
            return
        middle = len(batch) // 2
        for half in (batch[:middle], batch[middle:]):
            await self._write_until_stored(half)
