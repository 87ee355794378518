"""The demo's people on duty: a technician per team and a dispatcher, on a shift of the rota
from now, each with a personal inbox, and a group route per team, so every alert of the
demo reaches someone (the `--alert-url` targets get every team's alerts as well)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Team
from services.auth.accounts import NewStaff, create_staff
from services.auth.principal import Role
from services.auth.tables import Staff, StaffEstate
from services.workorders.recipients import add_alert_route
from services.workorders.rota import add_shift
from services.workorders.tables import AlertRoute, DutyShift

SHIFT = timedelta(days=1)
INBOX_MARK = "/demo-inbox/"  # routes of an earlier run's inbox (another port) are replaced


@dataclass(frozen=True, slots=True)
class Member:
    username: str
    display_name: str
    role: Role
    team: Team | None


CREW = (
    Member("wang", "王师傅", Role.TECHNICIAN, Team.REPAIR),
    Member("zhao", "赵队长", Role.TECHNICIAN, Team.SAFETY),
    Member("li", "李工", Role.TECHNICIAN, Team.TELECOM),
    Member("sun", "孙阿姨", Role.TECHNICIAN, Team.CLEANING),
    Member("chen", "陈调度", Role.DISPATCHER, None),
)


async def _member(session: AsyncSession, member: Member, estates: frozenset[str],
                  password_hash: str, inbox: str) -> int:
    url = f"{inbox}/staff-{member.username}"
    staff = await session.scalar(select(Staff).where(Staff.username == member.username))
    if staff is None:
        principal = await create_staff(session, NewStaff(
            username=member.username, display_name=member.display_name, role=member.role,
            team=member.team, estates=estates, password_hash=password_hash, apprise_url=url))
        return principal.staff_id
    staff.apprise_url, staff.password_hash, staff.active = url, password_hash, True
    staff.display_name = member.display_name
    linked = set(await session.scalars(select(StaffEstate.estate_id)
                                       .where(StaffEstate.staff_id == staff.id)))
    session.add_all(StaffEstate(staff_id=staff.id, estate_id=estate)
                    for estate in estates - linked)
    return staff.id


async def _routes(session: AsyncSession, estate_id: str, inbox: str,
                  alert_urls: Iterable[str]) -> None:
    await session.execute(delete(AlertRoute).where(
        AlertRoute.estate_id == estate_id, AlertRoute.apprise_url.contains(INBOX_MARK)))
    for team in Team:
        for url in (f"{inbox}/group-{team.value}", *alert_urls):
            await add_alert_route(session, estate_id=estate_id, team=team, apprise_url=url)


async def put_crew_on_duty(sessions: async_sessionmaker[AsyncSession], estate_ids: list[str], *,
                           inbox: str, alert_urls: tuple[str, ...], password_hash: str,
                           now: datetime) -> None:
    """The crew on a shift in every estate from `now`, and each team's routes."""
    async with sessions.begin() as session:
        for member in CREW:
            staff_id = await _member(session, member, frozenset(estate_ids), password_hash,
                                     inbox)
            await session.flush()
            # A demo run replaces the crew's shifts of an earlier run rather than piling up.
            await session.execute(delete(DutyShift).where(DutyShift.staff_id == staff_id))
            for estate_id in estate_ids:
                await add_shift(session, staff_id=staff_id, estate_id=estate_id,
                                team=member.team, starts_at=now, ends_at=now + SHIFT)
        for estate_id in estate_ids:
            await _routes(session, estate_id, inbox, alert_urls)
