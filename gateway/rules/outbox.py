"""Deliver anomalies to the work-order intake off the message path, in order, from the
`anomaly_outbox` table.

An anomaly is written to the table in the same transaction as the rule state that says it
was raised or cleared (gateway/rules/persistence.py); a row is deleted only once the intake
has taken it in, so after a crash whatever is left is delivered at the next start. The
intake takes a redelivery as a no-op (services/workorders/intake.py): a crash between its
commit and the row's deletion costs nothing.

A delivery that keeps failing is retried with backoff; the row stays, and the next round
(the next commit, or `RETRY_ROUND_S` later) starts again from it.

ONGOING notices (a reading still meets an active rule) are not saved: they change no rule
state, come with every such reading, and the next reading brings one again. They wait in
memory, the newest per device and rule, and go after the saved rows of each round, so one
never overtakes the raise it follows (it would open the work order itself, and the raise
would then count as a recurrence).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Anomaly, AnomalyKind, AnomalySink, Category, Priority, Team
from gateway.rules import metrics
from gateway.rules.tables import OutboxAnomaly
from gateway.shielded import Shielded

log = logging.getLogger(__name__)

DELIVERY_TIMEOUT_S = 10.0
RETRY_DELAYS_S = (0.2, 1.0, 3.0, 10.0)
RETRY_ROUND_S = 10.0
DRAIN_TIMEOUT_S = 5.0
READ_BATCH = 200


def anomaly_to_json(anomaly: Anomaly) -> dict[str, Any]:
    return {"kind": str(anomaly.kind), "estate_id": anomaly.estate_id,
            "device_pk": anomaly.device_pk, "device_id": anomaly.device_id,
            "device_type": anomaly.device_type, "rule": anomaly.rule,
            "at": anomaly.at.isoformat(), "priority": str(anomaly.priority),
            "team": str(anomaly.team), "category": str(anomaly.category),
            "title_en": anomaly.title_en, "title_zh": anomaly.title_zh,
            "readings": [dict(reading) for reading in anomaly.readings],
            "notify_residents": anomaly.notify_residents}


def anomaly_from_json(data: dict[str, Any]) -> Anomaly:
    return Anomaly(
        kind=AnomalyKind(data["kind"]), estate_id=data["estate_id"],
        device_pk=int(data["device_pk"]), device_id=data["device_id"],
        device_type=data["device_type"], rule=data["rule"],
        at=datetime.fromisoformat(data["at"]), priority=Priority(data["priority"]),
        team=Team(data["team"]), category=Category(data["category"]),
        title_en=data["title_en"], title_zh=data["title_zh"],
        readings=tuple(data.get("readings") or ()),
        notify_residents=bool(data.get("notify_residents")),
    )


def count(anomalies: Iterable[Anomaly]) -> None:
    """Log and count anomalies as the engine raises them."""
    for anomaly in anomalies:
        # An ongoing notice comes with every reading of an active rule: too many for INFO.
        level = logging.DEBUG if anomaly.kind is AnomalyKind.ONGOING else logging.INFO
        log.log(level, "anomaly %s: %s %s/%s (%s) at %s", anomaly.kind, anomaly.rule,
                anomaly.estate_id, anomaly.device_id, anomaly.priority, anomaly.at.isoformat())
        metrics.ANOMALIES.labels(kind=anomaly.kind, device_type=anomaly.device_type,
                                 rule=anomaly.rule).inc()


class AnomalyOutbox:
    """Delivers the saved rows in `id` order; `wake()` after a commit that added some."""

    def __init__(self, sink: AnomalySink | None, sessions: async_sessionmaker[AsyncSession], *,
                 owner: str = "", retry_delays_s: tuple[float, ...] = RETRY_DELAYS_S,
                 retry_round_s: float = RETRY_ROUND_S) -> None:
        self.sink = sink
        self.owner = owner  # rows of this gateway only (tables.OutboxAnomaly)
        self._sessions = sessions
        self._retry_delays_s = retry_delays_s
        self._retry_round_s = retry_round_s
        self._added = asyncio.Event()
        self._last_save: asyncio.Event | None = None
        self._delivering = Shielded()
        self._ongoing: dict[tuple[int, str], Anomaly] = {}

    @property
    def enabled(self) -> bool:
        """Without an intake, anomalies are only logged and counted, never saved."""
        return self.sink is not None

    def wake(self) -> None:
        self._added.set()

    def expect_last_save(self) -> asyncio.Event:
        """At shutdown, wait (within DRAIN_TIMEOUT_S) for the event returned here before the
        last delivery: the rule stage's final flush saves rows that must go too, so a clean
        stop hands every anomaly to the intake instead of leaving it for the next start."""
        self._last_save = asyncio.Event()
        return self._last_save

    def add_ongoing(self, anomalies: Iterable[Anomaly]) -> None:
        """ONGOING notices whose raise (if any) is saved: the newest per device and rule."""
        if self.sink is None:
            return
        for anomaly in anomalies:
            self._ongoing[(anomaly.device_pk, anomaly.rule)] = anomaly
        if self._ongoing:
            self._added.set()

    async def run(self) -> None:
        """Deliver what an earlier process left, then each commit's rows, until cancelled."""
        if self.sink is None:
            return
        try:
            while True:
                self._added.clear()
                await self._delivering.run(self._deliver_all())
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._retry_round_s):
                        await self._added.wait()
        except asyncio.CancelledError:
            await self._delivering.settle()
            with contextlib.suppress(Exception, TimeoutError):
                async with asyncio.timeout(DRAIN_TIMEOUT_S):
                    if self._last_save is not None:
                        await self._last_save.wait()
                    await self.drain()
            raise

    async def _deliver_all(self) -> None:
        ongoing, self._ongoing = self._ongoing, {}  # before the rows: none overtakes its raise
        if await self.drain():
            for anomaly in ongoing.values():
                await self._deliver(None, anomaly)

    async def drain(self) -> bool:
        """Deliver every saved row, oldest first; False if one could not be delivered (it
        and those after it stay for the next round)."""
        while rows := await self._oldest():
            for row_id, data in rows:
                if not await self._deliver(row_id, anomaly_from_json(data)):
                    return False
        metrics.ANOMALY_QUEUE_DEPTH.set(0)
        return True

    async def pending(self) -> int:
        async with self._sessions() as session:
            return len((await session.scalars(
                select(OutboxAnomaly.id).where(OutboxAnomaly.owner == self.owner))).all())

    async def _oldest(self) -> list[tuple[int, dict[str, Any]]]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(OutboxAnomaly.id, OutboxAnomaly.anomaly)
                .where(OutboxAnomaly.owner == self.owner)
                .order_by(OutboxAnomaly.id).limit(READ_BATCH))
            return [(row.id, row.anomaly) for row in rows]

    async def _deliver(self, row_id: int | None, anomaly: Anomaly) -> bool:
        assert self.sink is not None
        for delay in (*self._retry_delays_s, None):
            try:
                # asyncio.timeout: wait_for can swallow a cancellation on Python 3.11.
                async with asyncio.timeout(DELIVERY_TIMEOUT_S):
                    await self.sink(anomaly)
                if row_id is not None:
                    await self._forget(row_id)
                return True
            except Exception as exc:  # noqa: BLE001 - the intake's failure must not stop us
                log.warning("could not hand anomaly %s %s/%s to the work orders: %r",
                            anomaly.rule, anomaly.estate_id, anomaly.device_id, exc)
                if delay is None:
                    break
                await asyncio.sleep(delay)
        metrics.ANOMALIES_UNDELIVERED.inc()
        log.error("could not deliver anomaly %s yet; it stays in the outbox", anomaly)
        return False

    async def _forget(self, row_id: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(OutboxAnomaly).where(OutboxAnomaly.id == row_id))
