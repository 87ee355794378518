"""Deliver anomalies to the work-order intake off the message path, in order.

The queue is bounded; when it is full, ingest waits (MQTT intake pauses) rather than drop
an anomaly. A delivery that keeps failing is retried with backoff, then logged and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from core.vocabulary import Anomaly, AnomalyKind, AnomalySink
from gateway.rules import metrics
from gateway.shielded import Shielded

log = logging.getLogger(__name__)

QUEUE_SIZE = 10_000
DELIVERY_TIMEOUT_S = 10.0
RETRY_DELAYS_S = (0.2, 1.0, 3.0, 10.0)
DRAIN_TIMEOUT_S = 5.0


class AnomalyOutbox:
    def __init__(self, sink: AnomalySink | None, *, queue_size: int = QUEUE_SIZE,
                 retry_delays_s: tuple[float, ...] = RETRY_DELAYS_S) -> None:
        self._sink = sink
        self._queue: asyncio.Queue[Anomaly] = asyncio.Queue(maxsize=queue_size)
        self._retry_delays_s = retry_delays_s
        self._delivering = Shielded()

    async def put(self, anomalies: Iterable[Anomaly]) -> None:
        for anomaly in anomalies:
            # An ongoing notice comes with every reading of an active rule: too many for INFO.
            level = logging.DEBUG if anomaly.kind is AnomalyKind.ONGOING else logging.INFO
            log.log(level, "anomaly %s: %s %s/%s (%s) at %s", anomaly.kind, anomaly.rule,
                     anomaly.estate_id, anomaly.device_id, anomaly.priority,
                     anomaly.at.isoformat())
            metrics.ANOMALIES.labels(kind=anomaly.kind, device_type=anomaly.device_type,
                                     rule=anomaly.rule).inc()
            if self._sink is not None:
                await self._queue.put(anomaly)
                metrics.ANOMALY_QUEUE_DEPTH.set(self._queue.qsize())

    async def run(self) -> None:
        try:
            while True:
                anomaly = await self._queue.get()
                metrics.ANOMALY_QUEUE_DEPTH.set(self._queue.qsize())
                await self._delivering.run(self._deliver(anomaly))
        except asyncio.CancelledError:
            # The rule state saying "raised" is saved at shutdown: the anomaly must go too.
            await self._delivering.settle()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(DRAIN_TIMEOUT_S):
                    await self.drain()
            raise

    async def drain(self) -> None:
        """Deliver everything queued (used at shutdown, and by tests)."""
        while not self._queue.empty():
            await self._deliver(self._queue.get_nowait())
        metrics.ANOMALY_QUEUE_DEPTH.set(0)

    async def _deliver(self, anomaly: Anomaly) -> None:
        assert self._sink is not None
        for delay in (*self._retry_delays_s, None):
            try:
                # asyncio.timeout: wait_for can swallow a cancellation on Python 3.11.
                async with asyncio.timeout(DELIVERY_TIMEOUT_S):
                    await self._sink(anomaly)
                return
            except Exception as exc:  # noqa: BLE001 - the intake's failure must not stop us
                log.warning("could not hand anomaly %s %s/%s to the work orders: %r",
                            anomaly.rule, anomaly.estate_id, anomaly.device_id, exc)
                if delay is None:
                    break
                await asyncio.sleep(delay)
        metrics.ANOMALIES_UNDELIVERED.inc()
        log.error("gave up delivering anomaly %s", anomaly)
