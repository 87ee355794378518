"""The duty rota decides who hears of an alert: a shift covering the alert's time, for the
work order's team and estate (or the hand-set on_duty flag, as before)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Category, Priority, Team
from services.auth.principal import Role
from services.workorders import rota
from services.workorders.alert import Alert, AlertKind
from services.workorders.errors import InvalidReference
from services.workorders.model import Status
from services.workorders.recipients import route_alert
from tests.services.workorders.factories import T0, add_staff

Sessions = async_sessionmaker[AsyncSession]
NIGHT = (T0 + timedelta(hours=12), T0 + timedelta(hours=24))  # 20:00 to 08:00 local


def created(estate_id: str, *, at_hours: float, team: Team = Team.REPAIR,
            kind: AlertKind = AlertKind.CREATED, level: int = 0) -> Alert:
    return Alert(kind=kind, work_order_id=1, estate_id=estate_id, priority=Priority.P1,
                 team=team, category=Category.SIMPLE, status=Status.OPEN, title_en="Water leak",
                 title_zh="漏水", location="水表间", building_id=None, unit_id=None,
                 device_pk=None, rule="water_leak", assignee_id=None, level=level,
                 at=T0 + timedelta(hours=at_hours))


async def _shift(sessions: Sessions, staff_id: int, estate_id: str, team: Team) -> None:
    async with sessions.begin() as session:
        await rota.add_shift(session, staff_id=staff_id, estate_id=estate_id, team=team,
                             starts_at=NIGHT[0], ends_at=NIGHT[1])


async def _targets(sessions: Sessions, alert: Alert) -> list[str]:
    async with sessions() as session:
        return (await route_alert(session, alert)).staff_urls


async def test_the_night_shift_hears_of_a_night_leak_and_the_day_shift_does_not(
        sessions: Sessions, estate_id: str) -> None:
    night = await add_staff(sessions, "night", Role.TECHNICIAN, estates=[estate_id],
                            apprise_url="json://h/night")
    await add_staff(sessions, "day", Role.TECHNICIAN, estates=[estate_id], team=Team.REPAIR,
                    apprise_url="json://h/day")  # in the team, but on no shift and not on duty
    await _shift(sessions, night, estate_id, Team.REPAIR)

    assert await _targets(sessions, created(estate_id, at_hours=13)) == ["json://h/night"]
    assert await _targets(sessions, created(estate_id, at_hours=2)) == []
    assert await _targets(sessions, created(estate_id, at_hours=24)) == []  # shift over
    assert await _targets(sessions, created(estate_id, at_hours=13, team=Team.SAFETY)) == []


async def test_on_duty_by_hand_still_counts_and_a_dispatcher_on_shift_hears_escalations(
        sessions: Sessions, estate_id: str) -> None:
    await add_staff(sessions, "fixer", Role.TECHNICIAN, estates=[estate_id], team=Team.REPAIR,
                    on_duty=True, apprise_url="json://h/fixer")
    dispatcher = await add_staff(sessions, "desk", Role.DISPATCHER, estates=[estate_id],
                                 apprise_url="json://h/desk")
    await _shift(sessions, dispatcher, estate_id, Team.SAFETY)
    escalated = created(estate_id, at_hours=13, kind=AlertKind.ESCALATED, level=1)

    assert await _targets(sessions, created(estate_id, at_hours=13)) == ["json://h/fixer"]
    assert sorted(await _targets(sessions, escalated)) == ["json://h/desk", "json://h/fixer"]
    assert await _targets(sessions, replace(escalated, at=T0)) == ["json://h/fixer"]


async def test_a_shift_needs_a_staff_member_of_the_estate_and_an_end_after_its_start(
        sessions: Sessions, estate_id: str) -> None:
    outsider = await add_staff(sessions, "outsider", Role.TECHNICIAN, estates=[])
    async with sessions.begin() as session:
        with pytest.raises(InvalidReference, match="staff_id"):
            await rota.add_shift(session, staff_id=outsider, estate_id=estate_id,
                                 team=Team.REPAIR, starts_at=NIGHT[0], ends_at=NIGHT[1])
        with pytest.raises(InvalidReference, match="ends_at"):
            await rota.add_shift(session, staff_id=outsider, estate_id=estate_id,
                                 team=Team.REPAIR, starts_at=NIGHT[1], ends_at=NIGHT[0])
