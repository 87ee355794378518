"""What callers pass to and get back from the work-order service (pydantic v2 models)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.db import MAX_SQL_INTEGER
from core.slug import SLUG_PATTERN
from core.vocabulary import Category, Priority, Team
from services.auth.principal import Role
from services.workorders.model import LedgerColour, Source, Status

# A row id as callers may send it: what every supported database can store.
SqlId = Annotated[int, Field(ge=1, le=MAX_SQL_INTEGER)]


class EventKind(StrEnum):
    RAISED = "raised"
    RECURRED = "recurred"
    CLEARED = "cleared"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    STARTED = "started"
    COMMENT = "comment"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    REOPENED = "reopened"
    ESCALATED = "escalated"
    ALERTED = "alerted"


class Actor(BaseModel):
    """Who did something: a staff member (id set), or the "sensor" / "system" itself."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    name: str = Field(min_length=1, max_length=200)
    role: Role | None = None

    @property
    def key(self) -> str:
        """What the timeline's `actor` column holds: the staff id, or the name."""
        return str(self.id) if self.id is not None else self.name


SENSOR = Actor(name="sensor")
SYSTEM = Actor(name="system")


class WorkOrderCreate(BaseModel):
    """A work order reported by staff or by a resident (sensor ones come through intake)."""

    estate_id: str = Field(pattern=SLUG_PATTERN)
    building_id: SqlId | None = None
    unit_id: SqlId | None = None
    device_pk: SqlId | None = None
    location: str | None = Field(default=None, max_length=200)
    source: Source = Source.STAFF
    category: Category = Category.SIMPLE
    priority: Priority = Priority.P3
    team: Team
    title_en: str = Field(default="", max_length=200)
    title_zh: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=10_000)

    @model_validator(mode="after")
    def _titled_and_not_a_sensor(self) -> Self:
        if not (self.title_en.strip() or self.title_zh.strip()):
            raise ValueError("a work order needs a title (title_zh or title_en)")
        if self.source is Source.SENSOR:
            raise ValueError("sensor work orders come from anomalies, not from people")
        return self


class WorkOrderFilters(BaseModel):
    estate: str | None = None
    status: Status | None = None
    priority: Priority | None = None
    team: Team | None = None
    overdue: bool | None = Field(default=None, description="True: only overdue; False: none")
    colour: LedgerColour | None = None
    source: Source | None = None
    assignee: int | None = Field(default=None, description="staff id of the assignee")
    device: str | None = Field(default=None, description="device id (within `estate`)")
    active: bool | None = Field(default=None,
                                description="True: open, acknowledged or in progress only")
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=MAX_SQL_INTEGER)


class WorkOrderEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: EventKind
    actor: str
    actor_name: str
    note: str | None
    data: dict[str, Any] | None
    at: datetime


class DeviceRef(BaseModel):
    device_id: str
    display_name: str | None
    device_type: str


class StaffName(BaseModel):
    """A staff member as the assign list shows them: no account details."""

    id: int
    name: str
    team: Team | None
    role: Role


class StaffNameList(BaseModel):
    data: list[StaffName]
    count: int


class ConditionPublic(BaseModel):
    """The live state of the work order's condition: `active` since `since`, or cleared at
    `cleared_at` (both null and not active: a reported work order, with no condition)."""

    model_config = ConfigDict(from_attributes=True)

    active: bool
    since: datetime | None
    cleared_at: datetime | None


class WorkOrderPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    estate_id: str
    building_id: int | None
    unit_id: int | None
    location: str | None
    device_pk: int | None
    rule: str | None
    source: Source
    category: Category
    title_en: str
    title_zh: str
    description: str
    priority: Priority
    team: Team
    assignee_id: int | None
    status: Status
    recurrence_count: int
    last_detected_at: datetime | None
    ack_due_at: datetime
    resolve_due_at: datetime
    plan_due_at: datetime | None
    escalation_level: int
    ledger_colour: LedgerColour
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    # Names from the registry and the staff list, for people (labels.py; None if unknown).
    estate_name: str | None = None
    building_name: str | None = None
    unit_name: str | None = None
    device: DeviceRef | None = None
    assignee_name: str | None = None
    condition: ConditionPublic
    previous_id: int | None = Field(
        description="the closed work order of the same device and rule this one follows")


class WorkOrderDetail(WorkOrderPublic):
    events: list[WorkOrderEventPublic]
    allowed_actions: list[str] = Field(
        default_factory=list,
        description="what the caller may do now: acknowledge, assign, start, comment, "
                    "resolve, close, reopen, cancel (role, estate, assignment and status)")


class WorkOrdersPublic(BaseModel):
    data: list[WorkOrderPublic]
    count: int


class LedgerEntry(BaseModel):
    """One colour of one estate's ledger: work still active, of it overdue, and work done."""

    estate_id: str
    colour: LedgerColour
    active: int
    overdue: int
    done: int


class OnTimeStats(BaseModel):
    """5341 performance of one team in one estate. Percentages count decided deadlines only
    (met, or passed unmet); None when none is decided yet."""

    estate_id: str
    team: Team
    count: int
    ack_on_time: int
    ack_late: int
    resolve_on_time: int
    resolve_late: int
    ack_on_time_pct: float | None
    resolve_on_time_pct: float | None


class LedgerPublic(BaseModel):
    data: list[LedgerEntry] = Field(description="three colours per estate")
    count: int


class OnTimeStatsList(BaseModel):
    data: list[OnTimeStats] = Field(description="one row per estate and team")
    count: int


class TransitionRequest(BaseModel):
    note: str | None = Field(default=None, max_length=10_000)
    confirm: bool = Field(default=False, description="close although the condition is active")


class AssignRequest(BaseModel):
    assignee_id: SqlId | None = Field(description="staff id; null takes the work order back")
    team: Team | None = Field(default=None, description="hand the work order to this team")


class CommentCreate(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)


# ---- administration: rota, alert routes, resident contacts, deadlines, rule overrides ----

class ShiftCreate(BaseModel):
    staff_id: int
    estate_id: str = Field(pattern=SLUG_PATTERN)
    team: Team | None = Field(description="null: on duty for the whole estate (dispatchers)")
    starts_at: datetime
    ends_at: datetime

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("a shift must end after it starts")
        return self


class ShiftPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    staff_id: int
    estate_id: str
    team: Team | None
    starts_at: datetime
    ends_at: datetime


class ShiftList(BaseModel):
    data: list[ShiftPublic]
    count: int


class AlertRouteCreate(BaseModel):
    estate_id: str = Field(pattern=SLUG_PATTERN)
    team: Team
    apprise_url: str = Field(min_length=4, max_length=2000,
                             examples=["wecombot://BOTKEY", "mailto://user:pass@example.com",
                                       "json://127.0.0.1:9000/hook"])


class AlertRoutePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    estate_id: str
    team: Team
    apprise_url: str


class AlertRouteList(BaseModel):
    data: list[AlertRoutePublic]
    count: int


class SendTestPublic(BaseModel):
    sent: bool
    detail: str


class UnitContactCreate(BaseModel):
    unit_id: int
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    apprise_url: str | None = Field(default=None, max_length=2000)


class UnitContactPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    unit_id: int
    name: str
    phone: str | None
    apprise_url: str | None


class UnitContactList(BaseModel):
    data: list[UnitContactPublic]
    count: int


class EstatePolicyPublic(BaseModel):
    estate_id: str
    overrides: dict[str, int] = Field(description="the estate's own numbers (seconds)")
    effective: dict[str, int] = Field(description="what applies: the 5341 defaults + overrides")
    defaults: dict[str, int]


class EstatePolicyUpdate(BaseModel):
    deadlines: dict[str, int] = Field(
        description="seconds per step: ack_s, simple_s, complex_s, plan_s, external_s; "
                    "{} restores the 5341 defaults")


class RuleOverrideUpdate(BaseModel):
    enabled: bool = True
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="value, by_kind, for_s, in_a_row, count, within_s, silence_intervals, "
                    "priority, team, category")


class RuleOverridePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    estate_id: str
    device_type: str
    rule: str
    enabled: bool
    params: dict[str, Any]


class RuleOverrideList(BaseModel):
    data: list[RuleOverridePublic]
    count: int


class RuleInfoPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    device_type: str
    rule: str
    kind: str
    title_zh: str
    title_en: str
    defaults: dict[str, Any]


class RuleInfoList(BaseModel):
    data: list[RuleInfoPublic]
    count: int
