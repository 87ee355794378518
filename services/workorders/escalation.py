"""Passed deadlines escalate: once each, marked on the timeline, and the next level is told.

"Once" is kept by the database: each escalation claims the key (work order, deadline, due
time) in work_order_escalations with INSERT ... ON CONFLICT DO NOTHING, so two workers (or a
worker restarted mid-round) never escalate the same deadline twice. A reopened work order has
new due times, so its deadlines can escalate again in its new cycle.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock
from services.workorders.alert import Alert, AlertKind, AlertSink
from services.workorders.deadlines import DUE_COLUMNS, UNMET_WHILE, Deadline
from services.workorders.schemas import SYSTEM, EventKind
from services.workorders.sql import upsert_insert
from services.workorders.tables import WorkOrder, WorkOrderEscalation
from services.workorders.timeline import record

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 15.0


@dataclass(frozen=True, slots=True)
class Escalation:
    work_order_id: int
    estate_id: str
    deadline: Deadline
    due_at: datetime
    level: int



async def _passed(session: AsyncSession, now: datetime) -> list[tuple[datetime, int, Deadline]]:
    """(due time, work order, deadline) of every passed, unmet, not yet escalated deadline."""
    found: list[tuple[datetime, int, Deadline]] = []
    for deadline, unmet_statuses in UNMET_WHILE.items():
        due = DUE_COLUMNS[deadline]
        already = exists().where(
            WorkOrderEscalation.work_order_id == WorkOrder.id,
            WorkOrderEscalation.deadline == deadline.value,
            WorkOrderEscalation.due_at == due,
        )
        statement = select(due, WorkOrder.id).where(
            WorkOrder.status.in_(list(unmet_statuses)), due.is_not(None), due <= now, ~already)
        found += [(due_at, work_order_id, deadline)
                  for due_at, work_order_id in await session.execute(statement)
                  if due_at is not None]
    return sorted(found, key=lambda item: (item[0], item[1]))


async def _escalate(session: AsyncSession, work_order_id: int, deadline: Deadline,
                    due_at: datetime, now: datetime) -> tuple[Escalation, Alert] | None:
    work_order = await session.get(WorkOrder, work_order_id, populate_existing=True)
    if work_order is None:
        return None
    level = work_order.escalation_level + 1
    claim = upsert_insert(session, WorkOrderEscalation).values(
        work_order_id=work_order_id, deadline=deadline.value, due_at=due_at, level=level, at=now,
    ).on_conflict_do_nothing().returning(WorkOrderEscalation.work_order_id)
    if (await session.execute(claim)).first() is None:
        return None  # another worker escalated it first
    await session.execute(update(WorkOrder).where(WorkOrder.id == work_order_id).values(
        escalation_level=WorkOrder.escalation_level + 1, updated_at=now))
    await session.refresh(work_order)
    await record(session, work_order_id, EventKind.ESCALATED, actor=SYSTEM, at=now,
                 note=f"{deadline.value} deadline passed ({due_at.isoformat()})",
                 data={"deadline": deadline.value, "due_at": due_at.isoformat(),
                       "level": work_order.escalation_level})
    escalation = Escalation(work_order_id, work_order.estate_id, deadline, due_at,
                            work_order.escalation_level)
    return escalation, Alert.of(work_order, AlertKind.ESCALATED, at=now,
                                deadline=deadline.value, due_at=due_at)


async def escalate_due(sessions: async_sessionmaker[AsyncSession], notifier: AlertSink, *,
                       now: datetime) -> list[Escalation]:
    """Escalate every deadline passed by `now` (committed), then alert the next level."""
    done: list[tuple[Escalation, Alert]] = []
    async with sessions.begin() as session:
        for due_at, work_order_id, deadline in await _passed(session, now):
            escalated = await _escalate(session, work_order_id, deadline, due_at, now)
            if escalated is not None:
                done.append(escalated)
    for _, alert in done:
        try:
            await notifier.notify(alert)
        except Exception:  # the escalation is recorded; keep alerting the rest
            log.exception("could not alert escalation of work order %s", alert.work_order_id)
    return [escalation for escalation, _ in done]


async def run_escalation(sessions: async_sessionmaker[AsyncSession], notifier: AlertSink,
                         clock: Clock, interval_s: float = DEFAULT_INTERVAL_S) -> None:
    """Escalate what is due every `interval_s` (by `clock`) until cancelled."""
    while True:
        try:
            escalated = await escalate_due(sessions, notifier, now=clock.now())
            if escalated:
                log.info("escalated %d deadlines", len(escalated))
        except Exception:  # a database hiccup must not end the worker
            log.exception("escalation round failed; trying again in %.0fs", interval_s)
        await clock.sleep(interval_s)
