"""Who hears about an alert, read from staff, alert routes and unit contacts.

On duty means on a shift of the rota (services/workorders/rota.py) at the alert's time, or
marked on duty by hand.
- created: the team's on-duty staff of the estate, and the team's alert routes; for a work
  order in a unit whose rule says `notify_residents` in its device profile (a leak sensor's
  leak, say), the unit's resident contacts too (in a separate, resident message).
- assigned: the assignee, and the team's alert routes.
- resolved: no staff; the unit's resident contacts if they were told of the work order when
  it was raised (a resident_notices row), so they can see the photos behind the link.
- escalated to level N: the team on duty, the assignee and the routes; from level 1 also the
  estate's on-duty dispatchers; from level 2 also the estate's admins, on duty or not.
Staff count only if active, linked to the estate (staff_estates) and given an apprise_url.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.vocabulary import Team
from registry.tables import Building, Estate, Unit
from services.auth.principal import Role
from services.auth.tables import Staff, StaffEstate
from services.workorders.alert import Alert, AlertKind
from services.workorders.progress_links import residents_were_told
from services.workorders.rota import on_duty_anywhere, on_duty_for_team
from services.workorders.tables import AlertRoute, UnitContact

DISPATCHERS_FROM_LEVEL = 1
ADMINS_FROM_LEVEL = 2
RESIDENT_ALERTS = (AlertKind.CREATED, AlertKind.RESOLVED)


@dataclass(frozen=True, slots=True)
class Route:
    staff_urls: list[str] = field(default_factory=list)
    resident_urls: list[str] = field(default_factory=list)
    place: str = ""
    timezone: str = "Asia/Shanghai"
    # Whom the URLs stand for, for the timeline (a URL may hold a bot's key: never shown).
    staff_names: list[str] = field(default_factory=list)
    team_routes: int = 0
    resident_names: list[str] = field(default_factory=list)


def _staff_conditions(alert: Alert) -> list[Any]:
    on_duty_team = on_duty_for_team(estate_id=alert.estate_id, team=alert.team, at=alert.at)
    assignee = Staff.id == alert.assignee_id if alert.assignee_id is not None else None
    if alert.kind is AlertKind.RESOLVED:
        return []
    if alert.kind is AlertKind.CREATED:
        return [on_duty_team]
    if alert.kind is AlertKind.ASSIGNED:
        return [assignee] if assignee is not None else []
    conditions = [on_duty_team] + ([assignee] if assignee is not None else [])
    if alert.level >= DISPATCHERS_FROM_LEVEL:
        conditions.append(and_(Staff.role == Role.DISPATCHER,
                               on_duty_anywhere(estate_id=alert.estate_id, at=alert.at)))
    if alert.level >= ADMINS_FROM_LEVEL:
        conditions.append(Staff.role == Role.ADMIN)
    return conditions


async def _staff(session: AsyncSession, alert: Alert) -> dict[str, str]:
    """{apprise URL: display name} of the staff to tell."""
    conditions = _staff_conditions(alert)
    if not conditions:
        return {}
    statement = (
        select(Staff.apprise_url, Staff.display_name)
        .join(StaffEstate, StaffEstate.staff_id == Staff.id)
        .where(StaffEstate.estate_id == alert.estate_id, Staff.active.is_(True),
               Staff.apprise_url.is_not(None), or_(*conditions))
    )
    return {url: name for url, name in await session.execute(statement) if url}


async def _route_urls(session: AsyncSession, alert: Alert) -> list[str]:
    if alert.kind is AlertKind.RESOLVED:
        return []
    statement = select(AlertRoute.apprise_url).where(
        AlertRoute.estate_id == alert.estate_id, AlertRoute.team == alert.team)
    return list(await session.scalars(statement))


def tells_residents(alert: Alert) -> bool:
    """A new (or, once they were told, resolved) work order in a unit whose rule notifies
    residents (the work order remembers what its rule's profile said when it was raised)."""
    return (alert.kind in RESIDENT_ALERTS and alert.notify_residents
            and alert.unit_id is not None)


async def _residents(session: AsyncSession, alert: Alert) -> dict[str, str]:
    """{apprise URL: name} of the unit's contacts to tell."""
    if not tells_residents(alert):
        return {}
    if alert.kind is AlertKind.RESOLVED and not await residents_were_told(
            session, alert.work_order_id):
        return {}
    statement = select(UnitContact.apprise_url, UnitContact.name).where(
        UnitContact.unit_id == alert.unit_id, UnitContact.apprise_url.is_not(None))
    return {url: name for url, name in await session.execute(statement) if url}


async def _place(session: AsyncSession, alert: Alert) -> str:
    """Human words for where it is: 41号楼 2单元 水表间."""
    parts: list[str | None] = []
    if alert.building_id is not None:
        parts.append(await session.scalar(
            select(Building.name).where(Building.id == alert.building_id)))
    if alert.unit_id is not None:
        parts.append(await session.scalar(select(Unit.name).where(Unit.id == alert.unit_id)))
    parts.append(alert.location)
    return " ".join(part for part in parts if part)


async def route_alert(session: AsyncSession, alert: Alert) -> Route:
    timezone = await session.scalar(select(Estate.timezone).where(Estate.id == alert.estate_id))
    staff = await _staff(session, alert)
    routes = await _route_urls(session, alert)
    residents = await _residents(session, alert)
    return Route(
        staff_urls=list(dict.fromkeys([*staff, *routes])),
        resident_urls=list(residents),
        place=await _place(session, alert), timezone=timezone or "Asia/Shanghai",
        staff_names=list(dict.fromkeys(staff.values())), team_routes=len(set(routes)),
        resident_names=list(dict.fromkeys(residents.values())),
    )


async def add_alert_route(session: AsyncSession, *, estate_id: str, team: Team,
                          apprise_url: str) -> bool:
    """Send `team`'s alerts of `estate_id` to `apprise_url` too; False if it already was."""
    existing = await session.scalar(select(AlertRoute.id).where(
        AlertRoute.estate_id == estate_id, AlertRoute.team == team,
        AlertRoute.apprise_url == apprise_url))
    if existing is not None:
        return False
    session.add(AlertRoute(estate_id=estate_id, team=team, apprise_url=apprise_url))
    return True
