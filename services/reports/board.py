"""The 5341 board: per team, estate and zone, the share of deadlines met over a period.

Each work order raised in the period (cancelled ones left out) is judged against its own
deadlines: acknowledged by ack_due_at; a simple or complex job resolved by resolve_due_at; an
external job's plan (work started, or resolved) by plan_due_at. A deadline not met and not
yet passed is undecided and counts in no share.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.vocabulary import Category, Team
from services.reports.period import Period
from services.reports.schemas import BoardRow, Group, Share
from services.reports.scope import EstateInfo
from services.workorders.model import Source, Status
from services.workorders.schemas import EventKind
from services.workorders.tables import WorkOrder, WorkOrderEvent

STEPS = ("ack", "simple", "complex", "plan")


@dataclass(frozen=True, slots=True)
class Judged:
    """One work order of the period and its verdict per step (None: undecided or n/a)."""

    id: int
    estate_id: str
    team: Team
    category: Category
    source: Source
    created_at: datetime
    device_pk: int | None
    recurrences: int
    verdicts: dict[str, bool | None]


def judge(done_at: datetime | None, due_at: datetime | None, now: datetime) -> bool | None:
    """True on time, False late, None not decided yet (or no such deadline)."""
    if due_at is None:
        return None
    if done_at is not None:
        return done_at <= due_at
    return False if due_at <= now else None


def _earliest(*moments: datetime | None) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return min(known) if known else None


async def judged_orders(session: AsyncSession, estates: Collection[str], period: Period,
                        now: datetime) -> list[Judged]:
    started = (select(WorkOrderEvent.work_order_id, func.min(WorkOrderEvent.at).label("at"))
               .where(WorkOrderEvent.kind == EventKind.STARTED)
               .group_by(WorkOrderEvent.work_order_id).subquery())
    statement = (
        select(WorkOrder, started.c.at).outerjoin(started, started.c.work_order_id == WorkOrder.id)
        .where(WorkOrder.estate_id.in_(list(estates)), WorkOrder.status != Status.CANCELLED,
               WorkOrder.created_at >= period.start, WorkOrder.created_at < period.end)
        .order_by(WorkOrder.id))
    rows = await session.execute(statement)
    return [_judged(order, started_at, now) for order, started_at in rows]


def _judged(order: WorkOrder, started_at: datetime | None, now: datetime) -> Judged:
    resolve = judge(order.resolved_at, order.resolve_due_at, now)
    verdicts = {
        "ack": judge(order.acknowledged_at, order.ack_due_at, now),
        "simple": resolve if order.category is Category.SIMPLE else None,
        "complex": resolve if order.category is Category.COMPLEX else None,
        "plan": judge(_earliest(started_at, order.resolved_at), order.plan_due_at, now),
    }
    return Judged(id=order.id, estate_id=order.estate_id, team=Team(order.team),
                  category=Category(order.category), source=Source(order.source),
                  created_at=order.created_at, device_pk=order.device_pk,
                  recurrences=order.recurrence_count, verdicts=verdicts)


def share(verdicts: Iterable[bool | None]) -> Share:
    decided = [verdict for verdict in verdicts if verdict is not None]
    on_time = sum(decided)
    pct = round(100.0 * on_time / len(decided), 1) if decided else None
    return Share(on_time=on_time, late=len(decided) - on_time, pct=pct)


def board_row(group: Group, key: str, name: str, orders: list[Judged]) -> BoardRow:
    shares = {step: share(order.verdicts[step] for order in orders) for step in STEPS}
    return BoardRow(group=group, key=key, name=name, count=len(orders), **shares)


def _grouped(orders: list[Judged], key: Callable[[Judged], str]) -> dict[str, list[Judged]]:
    groups: dict[str, list[Judged]] = defaultdict(list)
    for order in orders:
        groups[key(order)].append(order)
    return groups


def board(orders: list[Judged], estates: list[EstateInfo]) -> list[BoardRow]:
    """Rows per team (those with work), then per estate and zone (every one in scope)."""
    by_estate = {info.id: info for info in estates}
    teams = _grouped(orders, lambda order: order.team.value)
    per_estate = _grouped(orders, lambda order: order.estate_id)
    per_zone = _grouped(orders, lambda order: by_estate[order.estate_id].zone_id or "")
    zones = {info.zone_id or "": info.zone_name or "未分区" for info in estates}
    return [
        *(board_row("team", team.value, team.value, teams.get(team.value, []))
          for team in Team if team.value in teams),
        *(board_row("estate", info.id, info.name, per_estate.get(info.id, []))
          for info in estates),
        *(board_row("zone", zone, name, per_zone.get(zone, []))
          for zone, name in sorted(zones.items())),
    ]
