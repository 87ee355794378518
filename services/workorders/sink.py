"""The gateway's AnomalySink: each anomaly is taken in, and a new P1/P2 work order is alerted."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock
from core.vocabulary import Anomaly, AnomalySink, Priority
from services.workorders.alert import Alert, AlertKind, AlertSink
from services.workorders.intake import intake
from services.workorders.tables import WorkOrder

ALERTED_PRIORITIES = frozenset({Priority.P1, Priority.P2})


def intake_sink(sessions: async_sessionmaker[AsyncSession], notifier: AlertSink,
                clock: Clock) -> AnomalySink:
    """An AnomalySink for build_gateway(anomalies=...).

    Database errors propagate to the caller (the gateway logs and counts them); alerting
    never raises. A recurrence, a clear or a redelivery is never alerted.
    """

    async def take_in(anomaly: Anomaly) -> None:
        now = clock.now()
        async with sessions.begin() as session:
            result = await intake(session, anomaly, now=now)
            work_order = None
            if result.created and anomaly.priority in ALERTED_PRIORITIES:
                work_order = await session.get(WorkOrder, result.work_order_id)
        if work_order is not None:
            await notifier.notify(Alert.of(work_order, AlertKind.CREATED, at=now))

    return take_in
