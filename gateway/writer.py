"""Batch points to the telemetry store; retry while it is away, lose nothing it accepts.

Overflow policy: the queue is bounded and `put` waits when it is full, so a store that is
down slows MQTT intake instead of growing memory without limit.

Acknowledgement: `when_written(ack)` calls `ack` once every point put before it is in the
store, in the on-disk spool, or set aside as bad data (dead-lettered); `when_written_now`
does the same without letting the batch fill for `flush_interval_s` (the rule flush, which
every acknowledgement waits for, must not also wait for the batch timer). Points are done in
the order they were put, so a count of points done is enough. Acks wait in a deque holding
one entry per unacknowledged message: the broker's in-flight limit bounds it.

The spool (optional): when a write fails with a retryable error, the batch goes to the spool
and counts as done, and later batches go straight to the spool until the store answers
again. A replay task writes the spool back oldest first, beside the new data, which goes to
the store directly once it is back: current readings are not held behind an hour of
backlog, the store orders points by their timestamps, not by arrival, and the new data is
not written to disk twice. A full spool (its bound, or a full disk) refuses the batch: it
stays here unacknowledged, the queue fills, MQTT intake pauses and the broker holds the
rest; nothing is dropped.
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
from gateway.acks import Ack
from gateway.shielded import Shielded
from gateway.spool import Spool, SpooledBatch, SpoolError

log = logging.getLogger(__name__)

RejectedPoints = Callable[[Sequence[Point], str], Awaitable[None]]

MAX_BACKOFF_S = 30.0
# The replay is what notices the store is back while new batches go to the spool.
MAX_REPLAY_BACKOFF_S = 5.0


class PointWriter:
    def __init__(self, store: TelemetryStore, *, batch_size: int, flush_interval_s: float,
                 queue_size: int, on_rejected: RejectedPoints,
                 spool: Spool | None = None) -> None:
        self._store = store
        self._spool = spool
        self._store_up = True  # False from a failed write until a write succeeds again
        self._spool_refusing = False
        self._spooled_more = asyncio.Event()  # wakes the replay
        self._spool_progress = asyncio.Event()  # the store is back or the spool has room
        self._batch_size = batch_size
        self._flush_interval_s = flush_interval_s
        self._queue: asyncio.Queue[Point] = asyncio.Queue(maxsize=queue_size)
        self._on_rejected = on_rejected
        self._writing = Shielded()
        self._unwritten: list[Point] = []
        self._put_count = 0  # points ever put
        self._done_count = 0  # of those, stored, spooled or dead-lettered as bad data, in order
        self._acks: deque[tuple[int, Ack]] = deque()
        self._hurry_to = 0  # a `when_written_now` waits for the points put up to here
        self._arrived = asyncio.Event()  # points were put, or someone is in a hurry
        self._gave_up = False  # a batch was dead-lettered at shutdown: acknowledge no more

    async def put(self, points: Sequence[Point]) -> None:
        for point in points:
            await self._queue.put(point)
            self._put_count += 1
        self._arrived.set()
        metrics.QUEUE_DEPTH.set(self._queue.qsize())

    def when_written(self, ack: Ack) -> None:
        """Call `ack` once every point put so far is stored or spooled (now, if it is)."""
        if self._done_count >= self._put_count:
            ack()
        else:
            self._acks.append((self._put_count, ack))

    def when_written_now(self, ack: Ack) -> None:
        """`when_written`, and the batch now filling is written without waiting for more."""
        self.when_written(ack)
        if self._done_count < self._put_count:
            self._hurry_to = self._put_count
            self._arrived.set()

    def _in_a_hurry(self) -> bool:
        return self._hurry_to > self._done_count

    def _done(self, points: int) -> None:
        """`points` more, in queue order, are stored, spooled or set aside as bad data."""
        self._done_count += points
        acks = self._acks
        while acks and acks[0][0] <= self._done_count and not self._gave_up:
            acks.popleft()[1]()

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def run(self) -> None:
        """Write batches (and replay the spool) until cancelled; on cancel, flush what is
        queued first."""
        spool = self._spool
        if spool is None:
            await self._write_batches()
            return
        await spool.open()
        self._show_spool(spool)
        if spool.points:
            log.info("the spool holds %d points from before: replaying them", spool.points)
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._replay(spool), name="spool-replay")
                tasks.create_task(self._write_batches(), name="batch-writer")
        finally:
            await spool.close()

    async def _write_batches(self) -> None:
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
        while True:
            batch.extend(self._take_ready(self._batch_size - len(batch)))
            remaining = deadline - time.monotonic()
            if len(batch) >= self._batch_size or remaining <= 0 or self._in_a_hurry():
                return batch
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns the item when
            # the get completes as the task is cancelled, swallowing the cancellation, so a
            # gateway under load never stops on SIGTERM.
            self._arrived.clear()
            try:
                async with asyncio.timeout(remaining):
                    await self._arrived.wait()
            except TimeoutError:
                return batch

    def _take_ready(self, limit: int) -> list[Point]:
        taken: list[Point] = []
        while len(taken) < limit and not self._queue.empty():
            taken.append(self._queue.get_nowait())
        return taken

    async def _write_until_stored(self, batch: list[Point], attempts: int | None = None) -> bool:
        """True once stored or spooled (bad points set aside); False if given up after
        `attempts`."""
        delay = 0.2
        attempt = 0
        while True:
            attempt += 1
            failure = await self._store_or_spool(batch)
            if failure is None:
                return True
            if attempts is not None and attempt >= attempts:
                log.error("giving up on %d points at shutdown: %s", len(batch), failure)
                await self._on_rejected(batch, f"store unavailable at shutdown: {failure}")
                return False
            metrics.WRITE_RETRIES.inc()
            log.warning("%s; retrying in %.1fs", failure, delay)
            await self._pause(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, MAX_BACKOFF_S)

    async def _store_or_spool(self, batch: list[Point]) -> str | None:
        """One try: None once the batch is done, else why not. While the store is known to
        be down, the spool first; the store is tried when the spool cannot take it."""
        spool_first = self._spool is not None and not self._store_up
        if spool_first and await self._spooled(batch):
            return None
        failure = await self._stored(batch)
        if failure is None or self._spool is None or spool_first:
            return failure
        if self._store_up:
            log.warning("%s: spooling to %s until it is back", failure, self._spool.path)
            self._store_up = False
        return None if await self._spooled(batch) else failure

    async def _stored(self, batch: list[Point]) -> str | None:
        try:
            await self._writing.run(self._write(batch))
        except StoreError as exc:
            if exc.retryable:
                return f"store write failed ({exc})"
            await self._isolate_bad_points(batch, str(exc))
        self._store_back()
        return None

    async def _spooled(self, batch: list[Point]) -> bool:
        spool = self._spool
        assert spool is not None
        try:
            await self._writing.run(self._spool_write(spool, batch))
        except SpoolError as exc:
            metrics.SPOOL_REFUSALS.inc()
            metrics.SPOOL_FULL.set(1)
            if not self._spool_refusing:
                log.error("%s: holding %d points unacknowledged; the broker keeps the rest",
                          exc, len(batch) + self._queue.qsize())
                self._spool_refusing = True
            return False
        self._spool_not_refusing("the spool takes batches again")
        return True

    def _spool_not_refusing(self, why: str) -> None:
        if self._spool_refusing:
            log.warning("%s: acknowledging again", why)
            self._spool_refusing = False
            metrics.SPOOL_FULL.set(0)

    async def _spool_write(self, spool: Spool, batch: list[Point]) -> None:
        self._unwritten = batch
        await spool.append(batch)
        self._unwritten = []
        self._done(len(batch))
        metrics.POINTS_SPOOLED.inc(len(batch))
        self._show_spool(spool)
        self._spooled_more.set()

    def _store_back(self) -> None:
        if not self._store_up:
            log.info("the store is back: writing to it directly")
            self._store_up = True
        self._spool_not_refusing("the store is back")
        self._spool_progress.set()

    async def _pause(self, seconds: float) -> None:
        """Sleep up to `seconds`; sooner when the store is back or the spool has room."""
        self._spool_progress.clear()
        try:
            async with asyncio.timeout(seconds):
                await self._spool_progress.wait()
        except TimeoutError:
            pass

    async def _replay(self, spool: Spool) -> None:
        """Write the spool back to the store, oldest batch first, removing each once stored."""
        delay = 0.2
        while True:
            self._spooled_more.clear()  # before the read: an append during it wakes the wait
            oldest = await spool.oldest(self._batch_size)
            if oldest is None:
                await self._spooled_more.wait()
                continue
            try:
                await self._replay_batch(spool, oldest)
            except StoreError as exc:
                metrics.WRITE_RETRIES.inc()
                log.warning("spool replay: store write failed (%s); retrying in %.1fs",
                            exc, delay)
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, MAX_REPLAY_BACKOFF_S)
                continue
            delay = 0.2
            self._store_back()
            if spool.points == 0:
                log.info("spool replayed: empty again")

    async def _replay_batch(self, spool: Spool, batch: SpooledBatch) -> None:
        await self._replay_points(batch.points)
        await spool.remove(batch.last_id)
        metrics.POINTS_REPLAYED.inc(len(batch.points))
        self._show_spool(spool)

    async def _replay_points(self, points: list[Point]) -> None:
        """Store `points`; bad data is split off and dead-lettered; a retryable error raises."""
        try:
            await self._store.write(points)
        except StoreError as exc:
            if exc.retryable:
                raise
            if len(points) == 1:
                metrics.POINTS_DROPPED.inc()
                await self._on_rejected(points, str(exc))
                return
            middle = len(points) // 2
            for half in (points[:middle], points[middle:]):
                await self._replay_points(half)
            return
        metrics.POINTS_WRITTEN.inc(len(points))

    @staticmethod
    def _show_spool(spool: Spool) -> None:
        metrics.SPOOL_POINTS.set(spool.points)
        metrics.SPOOL_BYTES.set(spool.bytes)

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
