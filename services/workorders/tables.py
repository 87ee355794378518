"""SQL tables of work orders, their timeline, staff, alert routing and estate deadline policies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, MappedColumn, mapped_column, relationship

from core.db import Base, StrEnumColumn, UtcDateTime
from core.slug import SLUG_LENGTH
from core.vocabulary import Category, Priority, Team
from services.workorders.model import ConditionState, LedgerColour, Source, Status
from services.workorders.schemas import EventKind

NAME_LENGTH = 200
# The predicate of the "one open work order per device and rule" index. The same literal text
# is the conflict target of the intake's INSERT ... ON CONFLICT, so PostgreSQL can infer it.
OPEN_PREDICATE = "status NOT IN ('closed', 'cancelled')"


def _when() -> MappedColumn[Any]:
    return mapped_column(UtcDateTime())


class WorkOrder(Base):
    __tablename__ = "work_orders"
    __table_args__ = (
        Index(
            "uq_work_orders_open_device_rule", "device_pk", "rule", unique=True,
            sqlite_where=text(OPEN_PREDICATE), postgresql_where=text(OPEN_PREDICATE),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    estate_id: Mapped[str] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id", ondelete="SET NULL"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    location: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    device_pk: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    rule: Mapped[str | None] = mapped_column(String(SLUG_LENGTH))
    source: Mapped[Source] = mapped_column(StrEnumColumn(Source))
    category: Mapped[Category] = mapped_column(StrEnumColumn(Category))
    title_en: Mapped[str] = mapped_column(String(NAME_LENGTH))
    title_zh: Mapped[str] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[Priority] = mapped_column(StrEnumColumn(Priority, 2), index=True)
    team: Mapped[Team] = mapped_column(StrEnumColumn(Team))
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[Status] = mapped_column(StrEnumColumn(Status), index=True)
    recurrence_count: Mapped[int] = mapped_column(Integer, default=0)
    # When the sensor last raised it: a redelivered anomaly (same time) is not a recurrence.
    last_detected_at: Mapped[datetime | None] = _when()
    ack_due_at: Mapped[datetime] = _when()
    resolve_due_at: Mapped[datetime] = _when()
    plan_due_at: Mapped[datetime | None] = _when()
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    ledger_colour: Mapped[LedgerColour] = mapped_column(StrEnumColumn(LedgerColour, 8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    updated_at: Mapped[datetime] = _when()
    acknowledged_at: Mapped[datetime | None] = _when()
    resolved_at: Mapped[datetime | None] = _when()
    closed_at: Mapped[datetime | None] = _when()
    # Its rule's `notify_residents`, as it was when the rule raised it: a new work order in a
    # unit then tells the unit's resident contacts too.
    notify_residents: Mapped[bool] = mapped_column(Boolean, default=False,
                                                   server_default=false())
    # The rule's condition now, kept by the sensor's raises and clears.
    condition_active: Mapped[bool] = mapped_column(Boolean, default=False,
                                                   server_default=false())
    condition_since: Mapped[datetime | None] = _when()
    condition_cleared_at: Mapped[datetime | None] = _when()
    # The closed work order of the same device and rule this one follows, if any: the
    # condition was still there, or came back, after it was closed.
    previous_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="SET NULL"))

    @property
    def condition(self) -> ConditionState:
        return ConditionState(self.condition_active, self.condition_since,
                              self.condition_cleared_at)

    # Loaded explicitly (service.get); never lazily behind an await. In insertion order:
    # under racing intakes the row lock orders the events, while their `at` was read
    # before the lock and may be a few milliseconds out of order.
    events: Mapped[list[WorkOrderEvent]] = relationship(
        order_by="WorkOrderEvent.id", lazy="raise",
        cascade="all, delete-orphan", passive_deletes=True,
    )


class WorkOrderEvent(Base):
    """One line of a work order's timeline: what happened, who did it, when."""

    __tablename__ = "work_order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[EventKind] = mapped_column(StrEnumColumn(EventKind))
    actor: Mapped[str] = mapped_column(String(SLUG_LENGTH))  # staff id, "sensor" or "system"
    actor_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    at: Mapped[datetime] = _when()


class WorkOrderEscalation(Base):
    """A deadline of a work order that passed and was escalated: the key makes it happen once."""

    __tablename__ = "work_order_escalations"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True
    )
    deadline: Mapped[str] = mapped_column(String(16), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    level: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = _when()


class AlertRoute(Base):
    """An apprise target (a team's group bot, a mailbox) for one team of one estate."""

    __tablename__ = "alert_routes"
    __table_args__ = (UniqueConstraint("estate_id", "team", "apprise_url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    estate_id: Mapped[str] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"))
    team: Mapped[Team] = mapped_column(StrEnumColumn(Team))
    apprise_url: Mapped[str] = mapped_column(Text)


class UnitContact(Base):
    """A resident to tell when their unit leaks (the owner may be far away)."""

    __tablename__ = "unit_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    phone: Mapped[str | None] = mapped_column(String(32))
    apprise_url: Mapped[str | None] = mapped_column(Text)


class EstatePolicy(Base):
    """An estate's own deadline numbers, e.g. {"ack_s": 300, "simple_s": 1800}."""

    __tablename__ = "estate_policies"

    estate_id: Mapped[str] = mapped_column(
        ForeignKey("estates.id", ondelete="CASCADE"), primary_key=True
    )
    deadlines: Mapped[dict[str, Any]] = mapped_column(JSON)


class DutyShift(Base):
    """A stretch of time in which a staff member is on duty for one team of one estate.

    The recipients of an alert are the team's staff on duty at the alert's time: on a shift
    here, or marked on duty by hand (staff.on_duty, for "from now until I say so").
    """

    __tablename__ = "duty_shifts"
    __table_args__ = (Index("ix_duty_shifts_estate_team_ends", "estate_id", "team", "ends_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    estate_id: Mapped[str] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"))
    # None: on duty for the estate as a whole (the dispatcher's desk), not for one team.
    team: Mapped[Team | None] = mapped_column(StrEnumColumn(Team))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ResidentNotice(Base):
    """A progress link sent to a unit's resident contacts about a work order (a leak in their
    unit, say): one row per message, as only the sha256 of its token is kept (the link itself
    exists only in the message). Its presence says residents were told of the work order."""

    __tablename__ = "resident_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"),
                                               index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    alert: Mapped[str] = mapped_column(String(16))  # the alert it went with: created, resolved
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
