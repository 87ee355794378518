"""Weekly trends, resident satisfaction, repeat faults per device and the estates' ranking."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from statistics import fmean

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.tables import Device
from services.reports.board import Judged, share
from services.reports.period import Period, iso_week, weeks_of
from services.reports.schemas import BoardRow, RankRow, RepeatFault, WeekRow
from services.reports.scope import EstateInfo
from services.residents.tables import ResidentReport
from services.workorders.model import Status
from services.workorders.tables import WorkOrder

DONE = (Status.RESOLVED, Status.CLOSED)
REPEAT_AT_LEAST = 2
REPEATS_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Report:
    """A resident's report of the period: where, when, and how it was rated."""

    estate_id: str
    created_at: datetime
    done: bool
    rating: int | None


async def resident_reports(session: AsyncSession, estates: Collection[str],
                           period: Period) -> list[Report]:
    statement = (
        select(WorkOrder.estate_id, ResidentReport.created_at, WorkOrder.status,
               ResidentReport.rating)
        .join(WorkOrder, WorkOrder.id == ResidentReport.work_order_id)
        .where(WorkOrder.estate_id.in_(list(estates)), ResidentReport.created_at >= period.start,
               ResidentReport.created_at < period.end))
    return [Report(estate, created, Status(status) in DONE, rating)
            for estate, created, status, rating in await session.execute(statement)]


def _average(values: list[int]) -> float | None:
    return round(fmean(values), 2) if values else None


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _week_row(week: str, orders: list[Judged], reports: list[Report]) -> WeekRow:
    categories = Counter(order.category.value for order in orders)
    sources = Counter(order.source.value for order in orders)
    ratings = [report.rating for report in reports if report.rating is not None]
    done = sum(report.done for report in reports)
    return WeekRow(week=week, work_orders=len(orders), simple=categories["simple"],
                   complex=categories["complex"], external=categories["external"],
                   sensor=sources["sensor"], resident=sources["resident"], staff=sources["staff"],
                   resident_reports=len(reports), rated=len(ratings),
                   rating_avg=_average(ratings), response_rate_pct=_rate(len(ratings), done))


def weekly(period: Period, orders: list[Judged], reports: list[Report]) -> list[WeekRow]:
    orders_by: dict[str, list[Judged]] = defaultdict(list)
    reports_by: dict[str, list[Report]] = defaultdict(list)
    for order in orders:
        orders_by[iso_week(order.created_at)].append(order)
    for report in reports:
        reports_by[iso_week(report.created_at)].append(report)
    return [_week_row(week, orders_by[week], reports_by[week]) for week in weeks_of(period)]


async def repeat_faults(session: AsyncSession, orders: list[Judged]) -> list[RepeatFault]:
    """Devices with two faults or more in the period: work orders raised plus recurrences."""
    tally: dict[int, Counter[str]] = defaultdict(Counter)
    for order in orders:
        if order.device_pk is not None:
            tally[order.device_pk]["orders"] += 1
            tally[order.device_pk]["recurrences"] += order.recurrences
    repeated = {pk: t for pk, t in tally.items() if t.total() >= REPEAT_AT_LEAST}
    if not repeated:
        return []
    devices = await session.scalars(select(Device).where(Device.id.in_(list(repeated))))
    rows = [RepeatFault(estate_id=d.estate_id, device_id=d.device_id,
                        name=d.display_name or d.location or d.device_id,
                        work_orders=repeated[d.id]["orders"],
                        recurrences=repeated[d.id]["recurrences"], faults=repeated[d.id].total())
            for d in devices]
    return sorted(rows, key=lambda row: (-row.faults, row.estate_id, row.device_id))[:REPEATS_SHOWN]


def _score(row: BoardRow, resolve_pct: float | None) -> float | None:
    shares = [pct for pct in (row.ack.pct, resolve_pct, row.plan.pct) if pct is not None]
    return round(fmean(shares), 1) if shares else None


def _rank_row(info: EstateInfo, orders: list[Judged], row: BoardRow, reports: list[Report],
              overdue_now: int) -> RankRow:
    resolve = share(order.verdicts["simple"] if order.verdicts["simple"] is not None
                    else order.verdicts["complex"] for order in orders)
    ratings = [report.rating for report in reports if report.rating is not None]
    return RankRow(rank=0, estate_id=info.id, estate_name=info.name, zone_name=info.zone_name,
                   count=row.count, ack_pct=row.ack.pct, resolve_pct=resolve.pct,
                   plan_pct=row.plan.pct, rating_avg=_average(ratings), overdue_now=overdue_now,
                   score=_score(row, resolve.pct))


def ranking(estates: list[EstateInfo], orders: list[Judged], board_rows: list[BoardRow],
            reports: list[Report], overdue_now: Counter[str]) -> list[RankRow]:
    """Every estate in scope, best first: by score, then satisfaction, then fewer overdue."""
    rows_of = {row.key: row for row in board_rows if row.group == "estate"}
    rows = [_rank_row(info, [o for o in orders if o.estate_id == info.id], rows_of[info.id],
                      [r for r in reports if r.estate_id == info.id], overdue_now[info.id])
            for info in estates]
    rows.sort(key=lambda row: (row.score is None, -(row.score or 0.0),
                               -(row.rating_avg or 0.0), row.overdue_now, row.estate_id))
    return [row.model_copy(update={"rank": index}) for index, row in enumerate(rows, start=1)]
