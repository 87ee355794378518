"""Every manager figure for one period and scope, read in one place."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.principal import Principal
from services.reports.board import board, judged_orders
from services.reports.period import Period
from services.reports.schemas import EstateChoice, Figures, LedgerRow, OverdueItem
from services.reports.scope import EstateInfo, report_estates
from services.reports.trends import ranking, repeat_faults, resident_reports, weekly
from services.workorders import queries
from services.workorders.deadlines import DUE_COLUMNS, UNMET_WHILE
from services.workorders.schemas import WorkOrderFilters
from services.workorders.tables import WorkOrder

OVERDUE_SHOWN = 100


async def _ledger(session: AsyncSession, estates: list[EstateInfo],
                  now: datetime) -> list[LedgerRow]:
    names = {info.id: info.name for info in estates}
    entries = await queries.ledger(session, estates=list(names), now=now)
    return [LedgerRow(estate_name=names[entry.estate_id], **entry.model_dump())
            for entry in entries if entry.estate_id in names]


def _passed_due(order: WorkOrder, now: datetime) -> datetime:
    """The earliest deadline the order has passed unmet (it is overdue, so there is one)."""
    passed = [getattr(order, column.key) for deadline, column in DUE_COLUMNS.items()
              if order.status in UNMET_WHILE[deadline]]
    due = [moment for moment in passed if moment is not None and moment <= now]
    return min(due) if due else order.resolve_due_at


async def _overdue(session: AsyncSession, estates: list[EstateInfo],
                   now: datetime) -> list[OverdueItem]:
    filters = WorkOrderFilters(overdue=True, active=True, limit=OVERDUE_SHOWN)
    orders, _ = await queries.list_work_orders(session, filters,
                                               estates=[info.id for info in estates], now=now)
    return [OverdueItem(id=order.id, estate_id=order.estate_id, title_zh=order.title_zh,
                        colour=order.ledger_colour, team=order.team, status=order.status,
                        due_at=_passed_due(order, now)) for order in orders]


async def manager_figures(session: AsyncSession, principal: Principal, *, period: Period,
                          now: datetime, zone: str | None = None,
                          estate: str | None = None) -> Figures:
    """The 5341 board, the ledger with overdue items, weekly trends, repeat faults and the
    ranking of estates, for the caller's estates narrowed to `zone` and `estate`."""
    estates = await report_estates(session, principal, zone=zone, estate=estate)
    ids = [info.id for info in estates]
    orders = await judged_orders(session, ids, period, now)
    reports = await resident_reports(session, ids, period)
    board_rows = board(orders, estates)
    overdue = await _overdue(session, estates, now)
    return Figures(
        period_start=period.start, period_end=period.end, label=period.label,
        estates=[EstateChoice(id=i.id, name=i.name, zone_id=i.zone_id, zone_name=i.zone_name)
                 for i in estates],
        board=board_rows, ledger=await _ledger(session, estates, now), overdue=overdue,
        weeks=weekly(period, orders, reports), repeats=await repeat_faults(session, orders),
        ranking=ranking(estates, orders, board_rows, reports,
                        Counter(item.estate_id for item in overdue)),
    )
