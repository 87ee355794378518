"""Anomalies from the gateway become work orders: one open work order per device and rule.

The database enforces it: a partial unique index on (device_pk, rule) over the work orders
that are not closed or cancelled, and one INSERT ... ON CONFLICT DO UPDATE per anomaly. Two
gateways racing, a redelivered message or a flapping sensor therefore all land on the same row:
a new condition counts as a recurrence; the very same anomaly again (same device, rule and
detection time: a redelivery) changes nothing. Each work order keeps its condition's live
state (active since, cleared at); a condition still there after its work order was closed
opens a new one, linked to it (`previous_id`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.vocabulary import Action, Anomaly, AnomalyKind
from services.workorders.deadlines import deadlines_for, ledger_colour, policy_for
from services.workorders.model import Source, Status
from services.workorders.places import device_place
from services.workorders.schemas import SENSOR, EventKind
from services.workorders.service import transition
from services.workorders.sql import upsert_insert
from services.workorders.tables import OPEN_PREDICATE, WorkOrder
from services.workorders.timeline import record

CLOSED_STATUSES = (Status.CLOSED, Status.CANCELLED)


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What an anomaly did: `created` a work order, or added to the open one.

    work_order_id is None for a CLEARED anomaly with no open work order; `duplicate` is True
    when the anomaly had already been taken in (a redelivery) and nothing changed.
    """

    work_order_id: int | None
    created: bool
    recurrence_count: int
    duplicate: bool = False


def _evidence(anomaly: Anomaly) -> dict[str, Any]:
    return {"device_id": anomaly.device_id, "device_type": anomaly.device_type,
            "rule": anomaly.rule, "detected_at": anomaly.at.isoformat(),
            "readings": [dict(reading) for reading in anomaly.readings]}


async def intake(session: AsyncSession, anomaly: Anomaly, *, now: datetime) -> IntakeResult:
    """Take one anomaly in; the caller commits (and alerts if `created`)."""
    if anomaly.kind is AnomalyKind.CLEARED:
        return await _cleared(session, anomaly, now)
    if anomaly.kind is AnomalyKind.ONGOING:
        return await _ongoing(session, anomaly, now)
    previous = await _latest(session, anomaly, Status.CLOSED)
    done_with = await _closed_since_taken_in(session, anomaly)
    if done_with is not None:
        # Taken in before, and its order closed or cancelled since (the gateway's outbox
        # redelivers what it had not yet marked delivered when it stopped).
        return IntakeResult(done_with, created=False, recurrence_count=0, duplicate=True)
    row = await _upsert(session, anomaly, now, follows=previous)
    if row is None:
        return await _duplicate(session, anomaly)
    work_order_id, count, status = row.id, row.recurrence_count, row.status
    if count == 0:
        await record(session, work_order_id, EventKind.RAISED, actor=SENSOR, at=now,
                     data=_raised_evidence(anomaly, previous))
        return IntakeResult(work_order_id, created=True, recurrence_count=0)
    await record(session, work_order_id, EventKind.RECURRED, actor=SENSOR, at=now,
                 data={**_evidence(anomaly), "recurrence_count": count})
    if status == Status.RESOLVED:  # the fix did not hold: back to the people who resolved it
        await transition(session, work_order_id, Action.REOPEN, actor=SENSOR, now=now,
                         note="the condition came back after the work order was resolved")
    return IntakeResult(work_order_id, created=False, recurrence_count=count)


def _raised_evidence(anomaly: Anomaly, previous: Earlier | None) -> dict[str, Any]:
    evidence = _evidence(anomaly)
    if previous is not None:
        evidence["previous_id"] = previous.id
    return evidence


async def _ongoing(session: AsyncSession, anomaly: Anomaly, now: datetime) -> IntakeResult:
    """A reading still meets an active rule: nothing while its work order is open; after it
    was closed, a new work order linked to it (cancelled: staff said it is no job)."""
    current = (await session.execute(
        select(WorkOrder.id, WorkOrder.recurrence_count).where(_open_for(anomaly))
    )).one_or_none()
    if current is not None:
        return IntakeResult(current.id, created=False, recurrence_count=current.recurrence_count,
                            duplicate=True)
    previous = await _latest(session, anomaly, None)
    if previous is not None and previous.status != Status.CLOSED:
        return IntakeResult(None, created=False, recurrence_count=0, duplicate=True)
    row = await _upsert(session, anomaly, now, follows=previous, only_new=True)
    if row is None:  # another intake opened it a moment ago
        return await _duplicate(session, anomaly)
    await record(session, row.id, EventKind.RAISED, actor=SENSOR, at=now,
                 note="the condition was still there after the last work order was closed",
                 data=_raised_evidence(anomaly, previous))
    return IntakeResult(row.id, created=True, recurrence_count=0)


@dataclass(frozen=True, slots=True)
class Earlier:
    """The last work order of a device and rule, which a new one may follow."""

    id: int
    status: Status
    condition_active: bool
    condition_since: datetime | None


async def _latest(session: AsyncSession, anomaly: Anomaly,
                  status: Status | None) -> Earlier | None:
    """The newest work order of the anomaly's device and rule (of `status`, if given)."""
    statement = select(WorkOrder.id, WorkOrder.status, WorkOrder.condition_active,
                       WorkOrder.condition_since).where(
        WorkOrder.device_pk == anomaly.device_pk, WorkOrder.rule == anomaly.rule)
    if status is not None:
        statement = statement.where(WorkOrder.status == status)
    row = (await session.execute(statement.order_by(WorkOrder.id.desc()).limit(1))).first()
    return None if row is None else Earlier(*row)


def _since(anomaly: Anomaly, follows: Earlier | None) -> datetime:
    """Active since: from the order it follows if the condition never cleared in between."""
    if anomaly.kind is AnomalyKind.ONGOING and follows is not None and follows.condition_active:
        since: datetime = follows.condition_since or anomaly.at
        return since
    return anomaly.at


async def _upsert(session: AsyncSession, anomaly: Anomaly, now: datetime, *,
                  follows: Earlier | None,
                  only_new: bool = False) -> Row[tuple[int, int, str]] | None:
    place = await device_place(session, anomaly.device_pk, anomaly.estate_id)
    deadlines = deadlines_for(anomaly.category, anomaly.priority, start=now,
                              policy=await policy_for(session, anomaly.estate_id))
    statement = upsert_insert(session, WorkOrder).values(
        estate_id=anomaly.estate_id, building_id=place.building_id, unit_id=place.unit_id,
        location=place.location, device_pk=anomaly.device_pk, rule=anomaly.rule,
        source=Source.SENSOR, category=anomaly.category, title_en=anomaly.title_en,
        title_zh=anomaly.title_zh, description="", priority=anomaly.priority, team=anomaly.team,
        status=Status.OPEN, recurrence_count=0, last_detected_at=anomaly.at,
        ack_due_at=deadlines.ack_due_at, resolve_due_at=deadlines.resolve_due_at,
        plan_due_at=deadlines.plan_due_at, escalation_level=0,
        ledger_colour=ledger_colour(anomaly.category), created_at=now, updated_at=now,
        notify_residents=anomaly.notify_residents, condition_active=True,
        condition_since=_since(anomaly, follows), condition_cleared_at=None,
        previous_id=None if follows is None else follows.id,
    )
    if only_new:
        statement = statement.on_conflict_do_nothing(
            index_elements=[WorkOrder.device_pk, WorkOrder.rule], index_where=text(OPEN_PREDICATE))
    else:
        statement = statement.on_conflict_do_update(
            index_elements=[WorkOrder.device_pk, WorkOrder.rule],
            index_where=text(OPEN_PREDICATE),
            set_={"recurrence_count": WorkOrder.recurrence_count + 1,
                  "last_detected_at": statement.excluded.last_detected_at,
                  "updated_at": statement.excluded.updated_at, "condition_active": True,
                  "condition_since": statement.excluded.condition_since,
                  "condition_cleared_at": None},
            where=or_(WorkOrder.last_detected_at.is_(None),
                      WorkOrder.last_detected_at != statement.excluded.last_detected_at),
        )
    result = await session.execute(
        statement.returning(WorkOrder.id, WorkOrder.recurrence_count, WorkOrder.status))
    row: Row[tuple[int, int, str]] | None = result.one_or_none()
    return row


def _open_for(anomaly: Anomaly) -> Any:
    return and_(WorkOrder.device_pk == anomaly.device_pk, WorkOrder.rule == anomaly.rule,
                WorkOrder.status.not_in(CLOSED_STATUSES))


async def _duplicate(session: AsyncSession, anomaly: Anomaly) -> IntakeResult:
    row = (await session.execute(
        select(WorkOrder.id, WorkOrder.recurrence_count).where(_open_for(anomaly))
    )).one()
    return IntakeResult(row.id, created=False, recurrence_count=row.recurrence_count,
                        duplicate=True)


async def _cleared(session: AsyncSession, anomaly: Anomaly, now: datetime) -> IntakeResult:
    """The condition is gone: say so on the open work order, which people still close, and
    on any closed one that still showed it active. The same clear again (a redelivery)
    changes nothing."""
    if await _cleared_before(session, anomaly):
        return IntakeResult(None, created=False, recurrence_count=0, duplicate=True)
    was_active = (await session.execute(
        update(WorkOrder).where(
            WorkOrder.device_pk == anomaly.device_pk, WorkOrder.rule == anomaly.rule,
            WorkOrder.condition_active.is_(True))
        .values(condition_active=False, condition_cleared_at=anomaly.at, updated_at=now)
        .returning(WorkOrder.id).execution_options(synchronize_session=False)
    )).scalars().all()
    row = (await session.execute(
        select(WorkOrder.id, WorkOrder.recurrence_count).where(_open_for(anomaly))
    )).one_or_none()
    told = set(was_active) | ({row.id} if row is not None else set())
    for work_order_id in sorted(told):
        await record(session, work_order_id, EventKind.CLEARED, actor=SENSOR, at=now,
                     data=_evidence(anomaly))
    if row is None:
        return IntakeResult(None, created=False, recurrence_count=0)
    await session.execute(update(WorkOrder).where(WorkOrder.id == row.id).values(updated_at=now))
    return IntakeResult(row.id, created=False, recurrence_count=row.recurrence_count)


async def _cleared_before(session: AsyncSession, anomaly: Anomaly) -> bool:
    """A work order of the device and rule already shows this very clear."""
    found = await session.scalar(select(WorkOrder.id).where(
        WorkOrder.device_pk == anomaly.device_pk, WorkOrder.rule == anomaly.rule,
        WorkOrder.condition_active.is_(False),
        WorkOrder.condition_cleared_at == anomaly.at).limit(1))
    return found is not None


async def _closed_since_taken_in(session: AsyncSession, anomaly: Anomaly) -> int | None:
    """A closed (or cancelled) work order of the device and rule last detected by this very
    anomaly, if there is one."""
    found: int | None = await session.scalar(select(WorkOrder.id).where(
        WorkOrder.device_pk == anomaly.device_pk, WorkOrder.rule == anomaly.rule,
        WorkOrder.status.in_(CLOSED_STATUSES),
        WorkOrder.last_detected_at == anomaly.at).limit(1))
    return found
