"""Alert routes (a team's group bot or mailbox per estate): list, add, remove, send a test.

Any apprise URL is a route: a WeCom/DingTalk/Feishu bot (`wecombot://`, `dingtalk://`,
`feishu://`), `mailto://`, `json://` to a webhook, `ntfy://`. The recipients of a work
order's alerts read them (recipients.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import apprise
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.vocabulary import Team
from registry.queries import estate_exists
from services.workorders.errors import InvalidReference
from services.workorders.notifier import send_with_apprise
from services.workorders.recipients import add_alert_route
from services.workorders.tables import AlertRoute

TEST_TIMEOUT_S = 20.0
TEST_TITLE = "EstateOps 测试消息 test message"


@dataclass(frozen=True, slots=True)
class TestResult:
    sent: bool
    detail: str


def check_apprise_url(url: str, *, field: str = "apprise_url") -> None:
    """Refuse a URL that apprise cannot send to (its scheme names no known service)."""
    if not apprise.Apprise().add(url):
        raise InvalidReference(field, url.split("://", 1)[0] + "://…",
                               "not an apprise URL apprise can send to")


async def list_routes(session: AsyncSession, *, estate_id: str | None = None,
                      team: Team | None = None) -> list[AlertRoute]:
    statement = select(AlertRoute).order_by(AlertRoute.estate_id, AlertRoute.team, AlertRoute.id)
    if estate_id is not None:
        statement = statement.where(AlertRoute.estate_id == estate_id)
    if team is not None:
        statement = statement.where(AlertRoute.team == team)
    return list(await session.scalars(statement))


async def add_route(session: AsyncSession, *, estate_id: str, team: Team,
                    apprise_url: str) -> AlertRoute:
    """The route of `team` in `estate_id` to `apprise_url`, added unless it exists."""
    check_apprise_url(apprise_url)
    if not await estate_exists(session, estate_id):
        raise InvalidReference("estate_id", estate_id, "no such estate")
    await add_alert_route(session, estate_id=estate_id, team=team, apprise_url=apprise_url)
    await session.flush()
    route = await session.scalar(select(AlertRoute).where(
        AlertRoute.estate_id == estate_id, AlertRoute.team == team,
        AlertRoute.apprise_url == apprise_url))
    assert route is not None  # just added or already there
    return route


async def get_route(session: AsyncSession, route_id: int) -> AlertRoute | None:
    return await session.get(AlertRoute, route_id)


async def remove_route(session: AsyncSession, route_id: int) -> bool:
    result = await session.execute(delete(AlertRoute).where(AlertRoute.id == route_id))
    return bool(getattr(result, "rowcount", 0))


def test_body(estate_id: str, team: Team) -> str:
    return (f"这是一条测试消息：{estate_id} 的 {team.value} 班组告警会发到这里。\n"
            f"A test: alerts of team {team.value} in {estate_id} will arrive here.")


async def send_test(apprise_url: str, *, estate_id: str, team: Team,
                    timeout_s: float = TEST_TIMEOUT_S) -> TestResult:
    """Really send a test message through apprise; never raises."""
    try:
        sent = await asyncio.wait_for(asyncio.to_thread(
            send_with_apprise, [apprise_url], TEST_TITLE, test_body(estate_id, team)), timeout_s)
    except TimeoutError:
        return TestResult(False, f"no answer within {timeout_s:.0f} s")
    except Exception as exc:  # noqa: BLE001 - a test reports any failure as its result
        return TestResult(False, f"{type(exc).__name__}: {exc}")
    if sent:
        return TestResult(True, "sent")
    return TestResult(False, "apprise could not deliver it (see the server log)")
