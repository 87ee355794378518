"""Alerts reach people through apprise (a local webhook) and the MQTT alert topic, once."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.vocabulary import AnomalyKind, Team
from services.auth.principal import Role
from services.workorders.alert import Alert, AlertKind
from services.workorders.notifier import Notifier
from services.workorders.service import assign, get
from services.workorders.sink import intake_sink
from services.workorders.tables import WorkOrder
from tests.fixtures.mosquitto import Broker
from tests.fixtures.processes import free_port
from tests.services.workorders.alerting import alert_listener, broker_notifier
from tests.services.workorders.factories import (
    DISPATCHER,
    T0,
    add_contact,
    add_route,
    add_staff,
    charger_fault,
    leak,
    low_battery,
    unit_of,
)
from tests.services.workorders.webhook import Webhook

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def repair_on_duty(sessions: Sessions, estate_id: str, webhook: Webhook) -> int:
    await add_staff(sessions, "off-duty", Role.TECHNICIAN, estates=[estate_id],
                    team=Team.REPAIR, apprise_url=webhook.url("off-duty"))
    return await add_staff(sessions, "plumber", Role.TECHNICIAN, estates=[estate_id],
                           team=Team.REPAIR, on_duty=True, apprise_url=webhook.url("plumber"))


async def test_a_flapping_unit_leak_alerts_the_plumber_and_the_resident_once(
        sessions: Sessions, estate_id: str, pks: dict[str, int], webhook: Webhook,
        mosquitto: Broker, clock: ManualClock, repair_on_duty: int) -> None:
    await add_contact(sessions, await unit_of(sessions, pks["leak-1"]), webhook.url("owner"))
    async with (alert_listener(mosquitto, estate_id) as listener,
                broker_notifier(mosquitto, sessions) as (notifier, client)):
        take_in = intake_sink(sessions, notifier, clock)
        for flap in range(20):
            await take_in(leak(estate_id, pks["leak-1"], seconds=60 * flap))
            await take_in(leak(estate_id, pks["leak-1"], seconds=60 * flap + 30,
                               kind=AnomalyKind.CLEARED))
            clock.advance(60)
        published = await listener.settled(client)
    [staff_message] = webhook.messages("plumber")
    assert staff_message["title"].startswith("[P1] 新工单 new: 漏水")
    assert "41号楼 2单元 水表间" in staff_message["message"]
    [owner_message] = webhook.messages("owner")
    assert "漏水" in owner_message["message"]
    assert "41号楼 2单元 水表间" in owner_message["message"]
    assert webhook.messages("off-duty") == []
    [(topic, payload)] = published
    assert topic == f"estateops/alerts/{estate_id}/P1/{payload['work_order_id']}"
    assert (payload["kind"], payload["priority"], payload["team"]) == ("created", "P1", "repair")
    assert payload["place"] == "41号楼 2单元 水表间"


async def test_only_new_p1_and_p2_work_orders_alert_and_only_leaks_tell_residents(
        sessions: Sessions, estate_id: str, pks: dict[str, int], webhook: Webhook,
        mosquitto: Broker, clock: ManualClock, repair_on_duty: int) -> None:
    await add_contact(sessions, await unit_of(sessions, pks["leak-1"]), webhook.url("owner"))
    await add_route(sessions, estate_id, Team.TELECOM, webhook.url("telecom-group"))
    async with (alert_listener(mosquitto, estate_id) as listener,
                broker_notifier(mosquitto, sessions) as (notifier, client)):
        take_in = intake_sink(sessions, notifier, clock)
        await take_in(low_battery(estate_id, pks["leak-1"]))  # P4: on the books, no alarm
        await take_in(charger_fault(estate_id, pks["ebike-1"]))  # P2, not in a unit
        published = await listener.settled(client)
    assert webhook.messages("plumber") == []
    assert webhook.messages("owner") == []
    [group_message] = webhook.messages("telecom-group")
    assert group_message["title"].startswith("[P2] 新工单 new: 充电桩故障")
    assert [payload["priority"] for _, payload in published] == ["P2"]


async def test_the_rule_not_the_device_type_decides_whether_residents_hear(
        sessions: Sessions, estate_id: str, pks: dict[str, int], webhook: Webhook,
        clock: ManualClock, repair_on_duty: int) -> None:
    await add_contact(sessions, await unit_of(sessions, pks["leak-1"]), webhook.url("owner"))
    notifier = Notifier(sessions, mqtt=None)
    quiet = replace(leak(estate_id, pks["leak-1"]), notify_residents=False)
    await intake_sink(sessions, notifier, clock)(quiet)
    async with sessions() as session:
        [work_order] = await _all(session, estate_id)
    assert work_order.notify_residents is False
    assert len(webhook.messages("plumber")) == 1
    assert webhook.messages("owner") == []


async def test_a_notifying_work_order_remembers_it(
        sessions: Sessions, estate_id: str, pks: dict[str, int], clock: ManualClock) -> None:
    notifier = Notifier(sessions, mqtt=None)
    await intake_sink(sessions, notifier, clock)(leak(estate_id, pks["leak-1"]))
    await intake_sink(sessions, notifier, clock)(low_battery(estate_id, pks["leak-1"]))
    async with sessions() as session:
        orders = await _all(session, estate_id)
    assert [(wo.rule, wo.notify_residents) for wo in orders] == [
        ("water_leak", True), ("low_battery", False)]


async def test_assignment_alerts_the_assignee_and_the_team_route_only(
        sessions: Sessions, estate_id: str, pks: dict[str, int], webhook: Webhook,
        mosquitto: Broker, clock: ManualClock, repair_on_duty: int) -> None:
    await add_route(sessions, estate_id, Team.REPAIR, webhook.url("repair-group"))
    fitter = await add_staff(sessions, "fitter", Role.TECHNICIAN, estates=[estate_id],
                             team=Team.REPAIR, apprise_url=webhook.url("fitter"))
    async with (alert_listener(mosquitto, estate_id) as listener,
                broker_notifier(mosquitto, sessions) as (notifier, client)):
        await intake_sink(sessions, notifier, clock)(low_battery(estate_id, pks["leak-1"]))
        async with sessions.begin() as session:
            [work_order_id] = [wo.id for wo in await _all(session, estate_id)]
            work_order = await assign(session, work_order_id, fitter, actor=DISPATCHER,
                                      now=clock.now())
        delivery = await notifier.notify(Alert.of(work_order, AlertKind.ASSIGNED, at=T0))
        published = await listener.settled(client)
    assert (delivery.staff_targets, delivery.staff_sent, delivery.published) == (2, True, True)
    [to_fitter] = webhook.messages("fitter")
    assert to_fitter["title"] == "[P4] 派单 assigned: 电量低"
    assert len(webhook.messages("repair-group")) == 1
    assert webhook.messages("plumber") == []
    assert [(p["kind"], p["assignee_id"]) for _, p in published] == [("assigned", fitter)]


async def test_a_dead_webhook_does_not_stop_the_mqtt_alert(
        sessions: Sessions, estate_id: str, pks: dict[str, int], mosquitto: Broker,
        clock: ManualClock) -> None:
    dead = f"json://127.0.0.1:{free_port()}/nobody-listens"
    await add_staff(sessions, "plumber", Role.TECHNICIAN, estates=[estate_id],
                    team=Team.REPAIR, on_duty=True, apprise_url=dead)
    async with (alert_listener(mosquitto, estate_id) as listener,
                broker_notifier(mosquitto, sessions) as (notifier, client)):
        await intake_sink(sessions, notifier, clock)(leak(estate_id, pks["leak-1"]))
        async with sessions() as session:
            [work_order] = await _all(session, estate_id)
        delivery = await notifier.notify(Alert.of(work_order, AlertKind.CREATED, at=T0))
        published = await listener.settled(client)
    assert (delivery.staff_targets, delivery.staff_sent, delivery.published) == (1, False, True)
    assert len(published) == 2


async def test_without_a_broker_the_notifier_still_sends_through_apprise(
        sessions: Sessions, estate_id: str, pks: dict[str, int], webhook: Webhook,
        clock: ManualClock, repair_on_duty: int) -> None:
    notifier = Notifier(sessions, mqtt=None)
    await intake_sink(sessions, notifier, clock)(leak(estate_id, pks["leak-1"]))
    assert len(webhook.messages("plumber")) == 1


async def _all(session: AsyncSession, estate_id: str) -> list[WorkOrder]:
    ids = await session.scalars(
        select(WorkOrder.id).where(WorkOrder.estate_id == estate_id).order_by(WorkOrder.id))
    return [await get(session, work_order_id) for work_order_id in ids]


async def test_the_timeline_says_whom_each_alert_reached_by_name_never_by_url(
        sessions: Sessions, estate_id: str, pks: dict[str, int], webhook: Webhook,
        clock: ManualClock, repair_on_duty: int) -> None:
    await add_route(sessions, estate_id, Team.REPAIR, webhook.url("repair-group"))
    await add_contact(sessions, await unit_of(sessions, pks["leak-1"]), webhook.url("owner"))
    notifier = Notifier(sessions, mqtt=None)
    await intake_sink(sessions, notifier, clock)(leak(estate_id, pks["leak-1"]))
    await intake_sink(sessions, notifier, clock)(charger_fault(estate_id, pks["ebike-1"]))
    async with sessions() as session:
        orders = {wo.rule: wo.id for wo in await _all(session, estate_id)}
        leak_events = (await get(session, orders["water_leak"])).events
        charger_events = (await get(session, orders["fault"])).events
    [told] = [event for event in leak_events if event.kind == "alerted"]
    assert told.actor == "system"
    assert told.data == {"alert": "created", "staff": ["Plumber"], "team_routes": 1,
                         "residents": ["业主 王女士"], "staff_sent": True,
                         "residents_sent": True, "published": False}
    assert "http" not in str(told.data)
    # Nobody on duty for the charger's team and no route: the timeline says so.
    [nobody] = [event for event in charger_events if event.kind == "alerted"]
    assert nobody.data is not None
    assert (nobody.data["staff"], nobody.data["team_routes"]) == ([], 0)
