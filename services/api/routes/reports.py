"""Manager figures: the 5341 board, ledger, trends, satisfaction, repeat faults and ranking of
estates over a month or a range of days, by zone and estate, as JSON, CSV or XLSX. Every figure
holds only the caller's estates (services.reports.scope)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.deps import CurrentStaff, NowDep, SessionDep
from services.api.errors import InvalidQuery
from services.api.models import ErrorPublic
from services.auth.principal import Principal
from services.reports import (
    EstateChoice,
    Figures,
    Period,
    current_month,
    manager_figures,
    month_period,
    to_csv,
    to_xlsx,
    visible_estates,
)

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

Month = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$",
                                    description="a calendar month, e.g. 2026-11 (default: now)")]
Day = Annotated[date | None, Query(description="first/last day instead of a month (inclusive)")]
Zone = Annotated[str | None, Query(description="one zone; default: all in scope")]
Estate = Annotated[str | None, Query(description="one estate; default: all in scope")]
TableName = Literal["board", "ledger", "overdue", "weeks", "repeats", "ranking"]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {
    "model": ErrorPublic, "description": "a zone or estate the caller sees nothing of"}}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period(month: str | None, first: date | None, last: date | None, now_month: str) -> Period:
    try:
        if first is not None or last is not None:
            if first is None or last is None:
                raise ValueError("give both `from` and `to`, or a month")
            return Period(first, last)
        return month_period(month or now_month)
    except ValueError as exc:
        raise InvalidQuery(f"bad period: {exc}") from exc


async def _figures(session: AsyncSession, principal: Principal, now: datetime,
                   month: str | None, first: date | None, last: date | None, zone: str | None,
                   estate: str | None) -> Figures:
    period = _period(month, first, last, current_month(now))
    return await manager_figures(session, principal, period=period, now=now, zone=zone,
                                 estate=estate)


@router.get("/estates", response_model=list[EstateChoice])
async def read_estates(session: SessionDep, principal: CurrentStaff) -> list[EstateChoice]:
    """The estates in the caller's scope with their zones: what the filters offer."""
    return [EstateChoice(id=i.id, name=i.name, zone_id=i.zone_id, zone_name=i.zone_name)
            for i in await visible_estates(session, principal)]


@router.get("/figures", response_model=Figures, responses=NOT_FOUND)
async def read_figures(session: SessionDep, principal: CurrentStaff, now: NowDep,
                       month: Month = None, first: Annotated[Day, Query(alias="from")] = None,
                       last: Annotated[Day, Query(alias="to")] = None, zone: Zone = None,
                       estate: Estate = None) -> Figures:
    """Every figure of the period for the caller's estates, narrowed to a zone or estate."""
    return await _figures(session, principal, now, month, first, last, zone, estate)


@router.get("/figures.csv", response_class=Response, responses=NOT_FOUND)
async def export_csv(session: SessionDep, principal: CurrentStaff, now: NowDep,
                     table: TableName = "board", month: Month = None,
                     first: Annotated[Day, Query(alias="from")] = None,
                     last: Annotated[Day, Query(alias="to")] = None, zone: Zone = None,
                     estate: Estate = None) -> Response:
    """One table of the figures as CSV (UTF-8 with BOM)."""
    figures = await _figures(session, principal, now, month, first, last, zone, estate)
    return Response(to_csv(figures, table), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="estateops-{table}.csv"'})


@router.get("/figures.xlsx", response_class=Response, responses=NOT_FOUND)
async def export_xlsx(session: SessionDep, principal: CurrentStaff, now: NowDep,
                      month: Month = None, first: Annotated[Day, Query(alias="from")] = None,
                      last: Annotated[Day, Query(alias="to")] = None, zone: Zone = None,
                      estate: Estate = None) -> Response:
    """Every table of the figures, one sheet each."""
    figures = await _figures(session, principal, now, month, first, last, zone, estate)
    return Response(to_xlsx(figures), media_type=XLSX, headers={
        "Content-Disposition": 'attachment; filename="estateops-figures.xlsx"'})
