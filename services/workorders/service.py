"""The work-order state machine and what people do to work orders.

Every function takes the caller's session and never commits: the caller owns the transaction
(`async with sessions.begin() as session: ...`). Each change is recorded on the timeline.
Status changes are compare-and-set updates (UPDATE ... WHERE status = what was read), so two
people acting at once cannot both move a work order: the second gets IllegalTransition.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.vocabulary import Action, Team
from registry.tables import Estate
from services.auth.principal import Role
from services.auth.tables import Staff, StaffEstate
from services.workorders.deadlines import deadlines_for, ledger_colour, policy_for
from services.workorders.errors import (
    AlreadyOpen,
    ConditionActive,
    IllegalTransition,
    InvalidReference,
    WorkOrderNotFound,
)
from services.workorders.model import Status
from services.workorders.places import Place, place_of
from services.workorders.schemas import Actor, EventKind, WorkOrderCreate
from services.workorders.tables import WorkOrder, WorkOrderEvent
from services.workorders.timeline import record

ACTIVE = frozenset({Status.OPEN, Status.ACKNOWLEDGED, Status.IN_PROGRESS})


@dataclass(frozen=True, slots=True)
class Step:
    sources: frozenset[Status]
    target: Status
    event: EventKind
    stamp: str | None = None  # the *_at column set to now


STEPS: dict[Action, Step] = {
    Action.ACKNOWLEDGE: Step(frozenset({Status.OPEN}), Status.ACKNOWLEDGED,
                             EventKind.ACKNOWLEDGED, "acknowledged_at"),
    Action.START: Step(frozenset({Status.ACKNOWLEDGED}), Status.IN_PROGRESS, EventKind.STARTED),
    Action.RESOLVE: Step(frozenset({Status.IN_PROGRESS}), Status.RESOLVED, EventKind.RESOLVED,
                         "resolved_at"),
    Action.CLOSE: Step(frozenset({Status.RESOLVED}), Status.CLOSED, EventKind.CLOSED, "closed_at"),
    Action.CANCEL: Step(ACTIVE, Status.CANCELLED, EventKind.CANCELLED),
    Action.REOPEN: Step(frozenset({Status.RESOLVED, Status.CLOSED}), Status.OPEN,
                        EventKind.REOPENED),
}


def allowed_actions(status: Status) -> list[Action]:
    """What can be done to a work order in `status` (for buttons and 409 messages)."""
    return [action for action, step in STEPS.items() if status in step.sources]


async def get(session: AsyncSession, work_order_id: int) -> WorkOrder:
    """One work order with its timeline loaded, oldest event first."""
    statement = (
        select(WorkOrder).where(WorkOrder.id == work_order_id)
        .options(selectinload(WorkOrder.events))
        .execution_options(populate_existing=True)
    )
    work_order = await session.scalar(statement)
    if work_order is None:
        raise WorkOrderNotFound(work_order_id)
    return work_order


async def _load(session: AsyncSession, work_order_id: int) -> WorkOrder:
    work_order = await session.get(WorkOrder, work_order_id, populate_existing=True)
    if work_order is None:
        raise WorkOrderNotFound(work_order_id)
    return work_order


async def create(session: AsyncSession, data: WorkOrderCreate, *, actor: Actor,
                 now: datetime) -> WorkOrder:
    """A work order reported by staff or a resident, with its deadlines from the estate policy."""
    if await session.get(Estate, data.estate_id) is None:
        raise InvalidReference("estate_id", data.estate_id, "no such estate")
    place = await place_of(session, data.estate_id, Place(
        data.building_id, data.unit_id, data.location), device_pk=data.device_pk)
    deadlines = deadlines_for(data.category, data.priority, start=now,
                              policy=await policy_for(session, data.estate_id))
    work_order = WorkOrder(
        estate_id=data.estate_id, building_id=place.building_id, unit_id=place.unit_id,
        location=place.location, device_pk=data.device_pk, rule=None, source=data.source,
        category=data.category, title_en=data.title_en, title_zh=data.title_zh,
        description=data.description, priority=data.priority, team=data.team,
        status=Status.OPEN, recurrence_count=0, escalation_level=0,
        ack_due_at=deadlines.ack_due_at, resolve_due_at=deadlines.resolve_due_at,
        plan_due_at=deadlines.plan_due_at, ledger_colour=ledger_colour(data.category),
        created_at=now, updated_at=now,
    )
    session.add(work_order)
    await session.flush()
    await record(session, work_order.id, EventKind.RAISED, actor=actor, at=now,
                 data={"source": data.source.value})
    return work_order


async def transition(session: AsyncSession, work_order_id: int, action: Action, *, actor: Actor,
                     now: datetime, note: str | None = None, confirm: bool = False) -> WorkOrder:
    """Move a work order along the state machine; IllegalTransition if `action` is not allowed.

    Closing while the condition is still active needs `confirm` (else ConditionActive)."""
    work_order = await _load(session, work_order_id)
    step = STEPS[action]
    previous = work_order.status
    if previous not in step.sources:
        raise IllegalTransition(previous, action)
    still_active = action is Action.CLOSE and work_order.condition_active
    if still_active and not confirm:
        raise ConditionActive(work_order.id, work_order.condition_since)
    values: dict[str, Any] = {"status": step.target, "updated_at": now}
    if step.stamp is not None:
        values[step.stamp] = now
    if action is Action.REOPEN:
        values |= await _new_cycle(session, work_order, now)
    await _compare_and_set(session, work_order, action, values, expected={previous})
    data: dict[str, Any] = {"from": previous.value, "to": step.target.value}
    if still_active:
        data["condition_active"] = True
    await record(session, work_order.id, step.event, actor=actor, at=now, note=note, data=data)
    return work_order


async def _new_cycle(session: AsyncSession, work_order: WorkOrder,
                     now: datetime) -> dict[str, Any]:
    """A reopened work order starts over: fresh deadlines from now, nothing met, no escalation."""
    deadlines = deadlines_for(work_order.category, work_order.priority, start=now,
                              policy=await policy_for(session, work_order.estate_id))
    return {
        "ack_due_at": deadlines.ack_due_at, "resolve_due_at": deadlines.resolve_due_at,
        "plan_due_at": deadlines.plan_due_at, "acknowledged_at": None, "resolved_at": None,
        "closed_at": None, "escalation_level": 0,
    }


async def _compare_and_set(session: AsyncSession, work_order: WorkOrder, action: str,
                           values: dict[str, Any], *, expected: Collection[Status]) -> None:
    statement = (
        update(WorkOrder)
        .where(WorkOrder.id == work_order.id, WorkOrder.status.in_(list(expected)))
        .values(values)
        .returning(WorkOrder.id)
        .execution_options(synchronize_session=False)
    )
    try:
        result = await session.execute(statement)
    except IntegrityError as exc:  # only the open-per-device-and-rule index can refuse this
        raise AlreadyOpen(work_order.id, work_order.device_pk, work_order.rule) from exc
    if result.first() is None:
        current = await session.scalar(select(WorkOrder.status).where(
            WorkOrder.id == work_order.id))
        raise IllegalTransition(current or "gone", action)
    await session.refresh(work_order)


async def assign(session: AsyncSession, work_order_id: int, assignee_id: int | None, *,
                 actor: Actor, now: datetime, team: Team | None = None) -> WorkOrder:
    """Give an active work order to a staff member of its estate (None takes it back), and
    to `team` if given (a person, a team, or both)."""
    work_order = await _load(session, work_order_id)
    if work_order.status not in ACTIVE:
        raise IllegalTransition(work_order.status, "assign")
    assignee = None
    if assignee_id is not None:
        assignee = await _assignable_staff(session, assignee_id, work_order.estate_id)
    previous, previous_team = work_order.assignee_id, work_order.team
    values: dict[str, Any] = {"assignee_id": assignee_id, "updated_at": now}
    if team is not None:
        values["team"] = team
    await _compare_and_set(session, work_order, "assign", values, expected=ACTIVE)
    await record(session, work_order.id, EventKind.ASSIGNED, actor=actor, at=now,
                 note=_assign_note(assignee, team),
                 data={"assignee_id": assignee_id, "previous_assignee_id": previous,
                       "assignee_name": None if assignee is None else assignee.display_name,
                       "team": work_order.team.value, "previous_team": previous_team.value})
    return work_order


def _assign_note(assignee: Staff | None, team: Team | None) -> str:
    parts = [f"assigned to {assignee.display_name}" if assignee is not None else "unassigned"]
    if team is not None:
        parts.append(f"team {team.value}")
    return ", ".join(parts)


async def _assignable_staff(session: AsyncSession, staff_id: int, estate_id: str) -> Staff:
    staff = await session.get(Staff, staff_id)
    if staff is None or not staff.active:
        raise InvalidReference("assignee_id", staff_id, "no active staff member")
    if staff.role is Role.VIEWER:
        raise InvalidReference("assignee_id", staff_id, "a viewer cannot take work")
    works_here = await session.get(StaffEstate, (staff_id, estate_id))
    if works_here is None:
        raise InvalidReference("assignee_id", staff_id, f"does not work in estate {estate_id}")
    return staff


async def comment(session: AsyncSession, work_order_id: int, text: str, *, actor: Actor,
                  now: datetime) -> WorkOrderEvent:
    """Add a comment to the timeline, whatever the work order's status."""
    work_order = await _load(session, work_order_id)
    work_order.updated_at = now
    return await record(session, work_order.id, EventKind.COMMENT, actor=actor, at=now, note=text)
