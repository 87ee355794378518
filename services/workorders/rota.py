"""The duty rota: shifts of staff on duty for a team of an estate, and who is on duty when.

Someone is on duty for a team of an estate at a moment when a shift of theirs covers it, or
when they are marked on duty by hand (`staff.on_duty`) and belong to that team. Both count,
so an estate without a rota keeps working as before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.vocabulary import Team
from services.auth.tables import Staff, StaffEstate
from services.workorders.errors import InvalidReference
from services.workorders.tables import DutyShift


def on_shift(*, estate_id: str, at: datetime, team: Team | None = None) -> Any:
    """SQL: the Staff row has a shift in `estate_id` covering `at` (for `team`, if given)."""
    conditions = [DutyShift.staff_id == Staff.id, DutyShift.estate_id == estate_id,
                  DutyShift.starts_at <= at, DutyShift.ends_at > at]
    if team is not None:
        conditions.append(DutyShift.team == team)
    return exists().where(*conditions)


def on_duty_for_team(*, estate_id: str, team: Team, at: datetime) -> Any:
    """SQL: the Staff row is on duty for `team` of `estate_id` at `at`."""
    by_hand = and_(Staff.team == team, Staff.on_duty.is_(True))
    return or_(by_hand, on_shift(estate_id=estate_id, at=at, team=team))


def on_duty_anywhere(*, estate_id: str, at: datetime) -> Any:
    """SQL: the Staff row is on duty in `estate_id` at `at`, for any team."""
    return or_(Staff.on_duty.is_(True), on_shift(estate_id=estate_id, at=at))


async def add_shift(session: AsyncSession, *, staff_id: int, estate_id: str, team: Team | None,
                    starts_at: datetime, ends_at: datetime) -> DutyShift:
    """Put a staff member of the estate on duty for `team` (None: the whole estate, as a
    dispatcher is) from `starts_at` to `ends_at`."""
    if ends_at <= starts_at:
        raise InvalidReference("ends_at", ends_at.isoformat(), "a shift must end after it starts")
    linked = await session.scalar(select(StaffEstate.staff_id).where(
        StaffEstate.staff_id == staff_id, StaffEstate.estate_id == estate_id))
    if linked is None:
        raise InvalidReference("staff_id", staff_id,
                               f"no staff member of estate {estate_id!r} has this id")
    shift = DutyShift(staff_id=staff_id, estate_id=estate_id, team=team,
                      starts_at=starts_at, ends_at=ends_at)
    session.add(shift)
    await session.flush()
    return shift


async def list_shifts(session: AsyncSession, *, estate_id: str | None = None,
                      ending_after: datetime | None = None) -> list[DutyShift]:
    """Shifts in start order; those that ended before `ending_after` are left out."""
    statement = select(DutyShift).order_by(DutyShift.starts_at, DutyShift.id)
    if estate_id is not None:
        statement = statement.where(DutyShift.estate_id == estate_id)
    if ending_after is not None:
        statement = statement.where(DutyShift.ends_at > ending_after)
    return list(await session.scalars(statement))


async def remove_shift(session: AsyncSession, shift_id: int) -> bool:
    result = await session.execute(delete(DutyShift).where(DutyShift.id == shift_id))
    return bool(getattr(result, "rowcount", 0))
