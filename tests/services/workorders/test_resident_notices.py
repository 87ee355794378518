"""A leak in a unit tells its contacts with a progress link (only its hash is stored), and its
resolution too; a notice's link shows the work order but rates nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.vocabulary import Team
from services.auth.principal import Role
from services.residents.errors import ProgressNotFound, RatingRefused
from services.residents.progress import progress, rate
from services.workorders.alert import Alert, AlertKind
from services.workorders.notifier import Notifier
from services.workorders.progress_links import token_hash
from services.workorders.schemas import EventKind
from services.workorders.service import get
from services.workorders.sink import intake_sink
from services.workorders.tables import ResidentNotice, WorkOrder, WorkOrderEvent
from tests.services.workorders.factories import (
    T0,
    add_contact,
    add_staff,
    charger_fault,
    leak,
    unit_of,
)
from tests.services.workorders.webhook import Webhook

Sessions = async_sessionmaker[AsyncSession]
PUBLIC = "https://wuye.example.cn"
LINK = re.compile(re.escape(PUBLIC) + r"/p/([A-Za-z0-9_-]{20,})")


@pytest.fixture
async def owner(sessions: Sessions, pks: dict[str, int], webhook: Webhook) -> None:
    await add_contact(sessions, await unit_of(sessions, pks["leak-1"]), webhook.url("owner"))


@pytest.fixture
async def plumber(sessions: Sessions, estate_id: str, webhook: Webhook) -> int:
    return await add_staff(sessions, "plumber", Role.TECHNICIAN, estates=[estate_id],
                           team=Team.REPAIR, on_duty=True, apprise_url=webhook.url("plumber"))


def token_in(message: str) -> str:
    found = LINK.search(message)
    assert found is not None, f"no progress link in {message!r}"
    return found.group(1)


async def _leak_order(sessions: Sessions, notifier: Notifier, clock: ManualClock,
                      estate_id: str, device_pk: int) -> WorkOrder:
    await intake_sink(sessions, notifier, clock)(leak(estate_id, device_pk))
    async with sessions() as session:
        work_order_id = await session.scalar(select(WorkOrder.id).where(
            WorkOrder.estate_id == estate_id, WorkOrder.rule == "water_leak"))
        assert work_order_id is not None
        return await get(session, work_order_id)


@pytest.mark.usefixtures("owner", "plumber")
async def test_the_owner_gets_a_progress_link_kept_only_as_a_hash(
        sessions: Sessions, estate_id: str, pks: dict[str, int], webhook: Webhook,
        clock: ManualClock) -> None:
    notifier = Notifier(sessions, mqtt=None, public_url=PUBLIC + "/")
    order = await _leak_order(sessions, notifier, clock, estate_id, pks["leak-1"])
    [to_owner] = webhook.messages("owner")
    token = token_in(to_owner["message"])
    assert "/p/" not in webhook.messages("plumber")[0]["message"]  # staff have the console
    async with sessions() as session:
        notices = list(await session.scalars(select(ResidentNotice)))
        seen = await progress(session, token)
        events = await session.scalars(select(WorkOrderEvent.data).where(
            WorkOrderEvent.work_order_id == order.id))
        assert token not in str(list(events))
    assert [(n.work_order_id, n.token_hash, n.alert) for n in notices] == [
        (order.id, token_hash(token), "created")]
    assert (seen.order.id, seen.report, seen.can_rate) == (order.id, None, False)
    assert seen.since == order.created_at


@pytest.mark.usefixtures("owner", "plumber")
async def test_a_notice_link_is_refused_once_altered_and_rates_nothing(
        sessions: Sessions, estate_id: str, pks: dict[str, int], webhook: Webhook,
        clock: ManualClock) -> None:
    notifier = Notifier(sessions, mqtt=None, public_url=PUBLIC)
    await _leak_order(sessions, notifier, clock, estate_id, pks["leak-1"])
    token = token_in(webhook.messages("owner")[0]["message"])
    async with sessions() as session:
        with pytest.raises(ProgressNotFound):
            await progress(session, token[:-1] + ("A" if token[-1] != "A" else "B"))
        with pytest.raises(RatingRefused):
            await rate(session, token, 5, None, now=clock.now())


@pytest.mark.usefixtures("owner", "plumber")
async def test_resolved_tells_the_owner_with_a_new_link_and_no_staff(
        sessions: Sessions, estate_id: str, pks: dict[str, int], webhook: Webhook,
        clock: ManualClock) -> None:
    notifier = Notifier(sessions, mqtt=None, public_url=PUBLIC)
    order = await _leak_order(sessions, notifier, clock, estate_id, pks["leak-1"])
    delivery = await notifier.notify(
        Alert.of(order, AlertKind.RESOLVED, at=T0 + timedelta(hours=1)))
    assert (delivery.staff_targets, delivery.resident_targets) == (0, 1)
    assert (delivery.residents_sent, delivery.published) == (True, False)
    raised, resolved = webhook.messages("owner")
    assert resolved["title"] == "已处理完毕 Resolved: 漏水 Water leak"
    assert "已处理完毕" in resolved["message"]
    assert token_in(resolved["message"]) != token_in(raised["message"])
    assert len(webhook.messages("plumber")) == 1  # the new work order's only
    async with sessions() as session:
        alerted = list(await session.scalars(select(WorkOrderEvent.data).where(
            WorkOrderEvent.work_order_id == order.id, WorkOrderEvent.kind == "alerted")))
        assert (await progress(session, token_in(resolved["message"]))).order.id == order.id
    assert [data["alert"] for data in alerted if data] == ["created", "resolved"]


@pytest.mark.usefixtures("plumber")
async def test_residents_not_told_at_the_start_are_not_told_at_the_end(
        sessions: Sessions, estate_id: str, pks: dict[str, int], webhook: Webhook,
        clock: ManualClock) -> None:
    notifier = Notifier(sessions, mqtt=None, public_url=PUBLIC)
    order = await _leak_order(sessions, notifier, clock, estate_id, pks["leak-1"])
    await add_contact(sessions, await unit_of(sessions, pks["leak-1"]), webhook.url("owner"))
    delivery = await notifier.notify(Alert.of(order, AlertKind.RESOLVED, at=T0))
    await intake_sink(sessions, notifier, clock)(charger_fault(estate_id, pks["ebike-1"]))
    assert (delivery.resident_targets, delivery.residents_sent) == (0, False)
    assert webhook.messages("owner") == []
    async with sessions() as session:
        kinds = list(await session.scalars(select(WorkOrderEvent.kind).where(
            WorkOrderEvent.work_order_id == order.id)))
        notices = list(await session.scalars(select(ResidentNotice.id)))
    assert kinds.count(EventKind.ALERTED) == 1  # the start's: the quiet end writes no "nobody" line
    assert notices == []


@pytest.mark.usefixtures("owner", "plumber")
async def test_without_a_public_url_the_notice_goes_without_a_link(
        sessions: Sessions, estate_id: str, pks: dict[str, int], webhook: Webhook,
        clock: ManualClock) -> None:
    await _leak_order(sessions, Notifier(sessions, mqtt=None), clock, estate_id,
                      pks["leak-1"])
    [to_owner] = webhook.messages("owner")
    assert "/p/" not in to_owner["message"]
    assert "漏水" in to_owner["message"]
