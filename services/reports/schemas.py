"""What the manager figures look like to callers (pydantic v2 models)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from core.vocabulary import Team
from services.workorders.model import LedgerColour, Status

Group = Literal["team", "estate", "zone"]


class Share(BaseModel):
    """Deadlines met and missed; `pct` counts decided ones only (None: none decided)."""

    on_time: int = 0
    late: int = 0
    pct: float | None = None


class BoardRow(BaseModel):
    """The 5341 board for one team, estate or zone: acknowledged within 5 min, simple jobs
    resolved within 30 min, complex within 4 h, plans within 1 day (each order's own
    deadlines, which an estate may set otherwise)."""

    group: Group
    key: str
    name: str
    count: int
    ack: Share
    simple: Share
    complex: Share
    plan: Share


class LedgerRow(BaseModel):
    estate_id: str
    estate_name: str
    colour: LedgerColour
    active: int
    overdue: int
    done: int


class OverdueItem(BaseModel):
    id: int
    estate_id: str
    title_zh: str
    colour: LedgerColour
    team: Team
    status: Status
    due_at: datetime = Field(description="the deadline it has passed (ack, plan or resolve)")


class WeekRow(BaseModel):
    week: str = Field(description="ISO week, e.g. 2026-W45 (Asia/Shanghai)")
    work_orders: int
    simple: int
    complex: int
    external: int
    sensor: int
    resident: int
    staff: int
    resident_reports: int
    rated: int
    rating_avg: float | None
    response_rate_pct: float | None = Field(
        description="reports rated, of the reports whose work order is done")


class RepeatFault(BaseModel):
    estate_id: str
    device_id: str
    name: str
    work_orders: int
    recurrences: int
    faults: int


class RankRow(BaseModel):
    rank: int
    estate_id: str
    estate_name: str
    zone_name: str | None
    count: int
    ack_pct: float | None
    resolve_pct: float | None
    plan_pct: float | None
    rating_avg: float | None
    overdue_now: int
    score: float | None = Field(description="mean of the 5341 shares that are decided")


class EstateChoice(BaseModel):
    id: str
    name: str
    zone_id: str | None
    zone_name: str | None


class Figures(BaseModel):
    """Every manager figure for one period and scope."""

    period_start: datetime
    period_end: datetime
    label: str
    estates: list[EstateChoice]
    board: list[BoardRow]
    ledger: list[LedgerRow]
    overdue: list[OverdueItem]
    weeks: list[WeekRow]
    repeats: list[RepeatFault]
    ranking: list[RankRow]
