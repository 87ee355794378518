"""Reading work orders: filtered lists, the three-colour ledger and 5341 on-time statistics.

`estates` scopes every query: None means every estate (an admin), a collection means only
those (an empty one: nothing).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, case, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.vocabulary import Team
from registry.tables import Device
from services.workorders.deadlines import overdue_clause
from services.workorders.model import LedgerColour, Status
from services.workorders.schemas import LedgerEntry, OnTimeStats, WorkOrderFilters
from services.workorders.service import ACTIVE
from services.workorders.tables import WorkOrder

DONE = (Status.RESOLVED, Status.CLOSED)


def _in_estates(estates: Collection[str] | None) -> list[Any]:
    if estates is None:
        return []
    return [WorkOrder.estate_id.in_(list(estates))] if estates else [false()]


def _conditions(filters: WorkOrderFilters, estates: Collection[str] | None,
                now: datetime) -> list[Any]:
    conditions = _in_estates(estates)
    equal = {WorkOrder.estate_id: filters.estate, WorkOrder.status: filters.status,
             WorkOrder.priority: filters.priority, WorkOrder.team: filters.team,
             WorkOrder.ledger_colour: filters.colour, WorkOrder.source: filters.source,
             WorkOrder.assignee_id: filters.assignee}
    conditions += [column == value for column, value in equal.items() if value is not None]
    if filters.device is not None:
        conditions.append(WorkOrder.device_pk.in_(
            select(Device.id).where(Device.device_id == filters.device)))
    if filters.active is not None:
        active = WorkOrder.status.in_(list(ACTIVE))
        conditions.append(active if filters.active else ~active)
    if filters.overdue is not None:
        overdue = overdue_clause(now)
        conditions.append(overdue if filters.overdue else ~overdue)
    return conditions


async def list_work_orders(session: AsyncSession, filters: WorkOrderFilters, *,
                           estates: Collection[str] | None,
                           now: datetime) -> tuple[list[WorkOrder], int]:
    """One page of matching work orders, newest first, and how many match in all."""
    conditions = _conditions(filters, estates, now)
    count = await session.scalar(select(func.count(WorkOrder.id)).where(*conditions))
    page = await session.scalars(
        select(WorkOrder).where(*conditions)
        .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        .limit(filters.limit).offset(filters.offset)
    )
    return list(page), count or 0


def _count_where(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


async def ledger(session: AsyncSession, *, estates: Collection[str] | None,
                 now: datetime) -> list[LedgerEntry]:
    """Per estate and colour: work still active, of it overdue, and work done.

    Every estate that has work orders (or is named in `estates`) gets all three colours.
    """
    active = WorkOrder.status.in_(list(ACTIVE))
    statement = (
        select(WorkOrder.estate_id, WorkOrder.ledger_colour, _count_where(active),
               _count_where(active & overdue_clause(now)),
               _count_where(WorkOrder.status.in_(DONE)))
        .where(*_in_estates(estates))
        .group_by(WorkOrder.estate_id, WorkOrder.ledger_colour)
    )
    counts = {(estate, LedgerColour(colour)): (a, o, d)
              for estate, colour, a, o, d in await session.execute(statement)}
    named = set(estates or ()) | {estate for estate, _ in counts}
    entries = []
    for estate in sorted(named):
        for colour in LedgerColour:
            active_n, overdue_n, done_n = counts.get((estate, colour), (0, 0, 0))
            entries.append(LedgerEntry(estate_id=estate, colour=colour, active=active_n,
                                       overdue=overdue_n, done=done_n))
    return entries


def _judge(done_at: datetime | None, due_at: datetime, now: datetime) -> bool | None:
    """True on time, False late, None not decided yet (not done, not yet due)."""
    if done_at is not None:
        return done_at <= due_at
    return False if due_at <= now else None


def _percent(on_time: int, late: int) -> float | None:
    decided = on_time + late
    return round(100.0 * on_time / decided, 1) if decided else None


async def on_time_stats(session: AsyncSession, *, estates: Collection[str] | None,
                        since: datetime, now: datetime) -> list[OnTimeStats]:
    """Per team and estate, of the work orders raised since `since` (cancelled ones left out):
    how many, and how many were acknowledged and resolved within their deadlines."""
    statement = select(
        WorkOrder.estate_id, WorkOrder.team, WorkOrder.ack_due_at, WorkOrder.acknowledged_at,
        WorkOrder.resolve_due_at, WorkOrder.resolved_at,
    ).where(WorkOrder.created_at >= since, WorkOrder.status != Status.CANCELLED,
            *_in_estates(estates))
    tallies: dict[tuple[str, Team], Counter[str]] = defaultdict(Counter)
    for estate, team, ack_due, acked, resolve_due, resolved in await session.execute(statement):
        tally = tallies[(estate, team)]
        tally["count"] += 1
        for step, verdict in (("ack", _judge(acked, ack_due, now)),
                              ("resolve", _judge(resolved, resolve_due, now))):
            if verdict is not None:
                tally[f"{step}_on_time" if verdict else f"{step}_late"] += 1
    return [_stats(estate, team, tally) for (estate, team), tally in sorted(tallies.items())]


def _stats(estate_id: str, team: Team, tally: Counter[str]) -> OnTimeStats:
    return OnTimeStats(
        estate_id=estate_id, team=team, count=tally["count"],
        ack_on_time=tally["ack_on_time"], ack_late=tally["ack_late"],
        resolve_on_time=tally["resolve_on_time"], resolve_late=tally["resolve_late"],
        ack_on_time_pct=_percent(tally["ack_on_time"], tally["ack_late"]),
        resolve_on_time_pct=_percent(tally["resolve_on_time"], tally["resolve_late"]),
    )
