"""The demo's crew on duty and team routes: a new P1 reaches the on-duty technician of its
team and the team's group (and every --alert-url); a second run replaces the first's."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Category, Priority, Team
from estateops.demo_crew import CREW, put_crew_on_duty
from estateops.demo_inbox import demo_inbox
from services.workorders.alert import Alert, AlertKind
from services.workorders.model import Status
from services.workorders.notifier import send_with_apprise
from services.workorders.recipients import route_alert
from services.workorders.tables import AlertRoute, DutyShift
from tests.utils.auth import password_hash
from tests.utils.estates import register_small_estate

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


def p1(estate_id: str, team: Team, at: datetime) -> Alert:
    return Alert(kind=AlertKind.CREATED, work_order_id=1, estate_id=estate_id,
                 priority=Priority.P1, team=team, category=Category.SIMPLE, status=Status.OPEN,
                 title_en="Water leak", title_zh="漏水", location=None, building_id=None,
                 unit_id=None, device_pk=None, rule="water_leak", assignee_id=None, level=0,
                 at=at)


async def _count(sessions: Sessions, table: type[DutyShift] | type[AlertRoute]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_the_crew_hears_of_a_p1_and_a_second_run_replaces_the_first(
        sessions: Sessions) -> None:
    estate_id = await register_small_estate(sessions)
    for inbox in ("json://127.0.0.1:1/demo-inbox", "json://127.0.0.1:2/demo-inbox"):
        await put_crew_on_duty(sessions, [estate_id], inbox=inbox,
                               alert_urls=("json://example.test/all",),
                               password_hash=password_hash(), now=NOW)
    async with sessions() as session:
        route = await route_alert(session, p1(estate_id, Team.REPAIR, NOW + timedelta(hours=1)))
        later = await route_alert(session, p1(estate_id, Team.REPAIR, NOW + timedelta(days=2)))

    assert sorted(route.staff_urls) == ["json://127.0.0.1:2/demo-inbox/group-repair",
                                        "json://127.0.0.1:2/demo-inbox/staff-wang",
                                        "json://example.test/all"]
    assert "json://127.0.0.1:2/demo-inbox/staff-wang" not in later.staff_urls  # shift over
    assert await _count(sessions, DutyShift) == len(CREW)
    assert await _count(sessions, AlertRoute) == 2 * len(Team)


async def test_the_inbox_prints_what_apprise_sends_it() -> None:
    shown: list[str] = []
    async with demo_inbox(show=shown.append) as inbox:
        sent = await asyncio.to_thread(send_with_apprise, [f"{inbox}/staff-wang"],
                                       "[P1] 新工单 new: 漏水", "41号楼 2单元")
    assert sent
    assert shown == ["📨 staff-wang: [P1] 新工单 new: 漏水"]
