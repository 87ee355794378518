"""Anomalies become work orders: one open work order per device and rule, on both databases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Action, AnomalyKind, Category
from services.workorders.intake import intake
from services.workorders.model import LedgerColour, Source, Status
from services.workorders.schemas import SENSOR, EventKind
from services.workorders.service import get, transition
from services.workorders.tables import WorkOrder
from tests.services.workorders.factories import DISPATCHER, T0, leak, low_battery

Sessions = async_sessionmaker[AsyncSession]


async def kinds(sessions: Sessions, work_order_id: int) -> list[EventKind]:
    async with sessions() as session:
        return [event.kind for event in (await get(session, work_order_id)).events]


async def open_count(sessions: Sessions, device_pk: int) -> int:
    async with sessions() as session:
        count = await session.scalar(select(func.count(WorkOrder.id)).where(
            WorkOrder.device_pk == device_pk,
            WorkOrder.status.not_in([Status.CLOSED, Status.CANCELLED])))
    return count or 0


async def test_a_leak_becomes_an_open_work_order_with_5341_deadlines(
        sessions: Sessions, estate_id: str, pks: dict[str, int]) -> None:
    now = T0 + timedelta(seconds=3)
    async with sessions.begin() as session:
        result = await intake(session, leak(estate_id, pks["leak-1"]), now=now)
    assert result.created
    assert result.recurrence_count == 0
    assert result.work_order_id
    async with sessions() as session:
        work_order = await get(session, result.work_order_id)
    assert (work_order.status, work_order.source, work_order.rule) == (
        Status.OPEN, Source.SENSOR, "water_leak")
    assert work_order.location == "水表间"
    assert work_order.unit_id is not None
    assert work_order.building_id is not None
    assert work_order.ack_due_at == now + timedelta(minutes=5)
    assert work_order.resolve_due_at == now + timedelta(minutes=30)
    assert work_order.plan_due_at is None
    assert (work_order.category, work_order.ledger_colour) == (Category.SIMPLE,
                                                               LedgerColour.GREEN)
    [raised] = work_order.events
    assert (raised.kind, raised.actor) == (EventKind.RAISED, "sensor")
    assert raised.data is not None
    assert raised.data["readings"] == [{"leak": True, "battery": 96}]


async def test_a_flapping_leak_sensor_makes_one_work_order_with_a_recurrence_count(
        sessions: Sessions, estate_id: str, pks: dict[str, int]) -> None:
    ids = set()
    for flap in range(20):
        wet = leak(estate_id, pks["leak-1"], seconds=60 * flap)
        dry = leak(estate_id, pks["leak-1"], seconds=60 * flap + 30, kind=AnomalyKind.CLEARED)
        async with sessions.begin() as session:
            raised = await intake(session, wet, now=wet.at)
            cleared = await intake(session, dry, now=dry.at)
        ids |= {raised.work_order_id, cleared.work_order_id}
        assert raised.created is (flap == 0)
        assert raised.recurrence_count == flap
    [work_order_id] = ids
    assert work_order_id is not None
    assert await open_count(sessions, pks["leak-1"]) == 1
    events = await kinds(sessions, work_order_id)
    assert events.count(EventKind.RAISED) == 1
    assert events.count(EventKind.RECURRED) == 19
    assert events.count(EventKind.CLEARED) == 20
    async with sessions() as session:
        work_order = await get(session, work_order_id)
    assert (work_order.status, work_order.recurrence_count) == (Status.OPEN, 19)


async def test_a_redelivered_anomaly_is_taken_in_once(
        sessions: Sessions, estate_id: str, pks: dict[str, int]) -> None:
    anomaly = leak(estate_id, pks["leak-1"])
    results = []
    for attempt in range(3):
        async with sessions.begin() as session:
            results.append(await intake(session, anomaly, now=T0 + timedelta(seconds=attempt)))
    assert [(r.created, r.duplicate, r.recurrence_count) for r in results] == [
        (True, False, 0), (False, True, 0), (False, True, 0)]
    assert len({r.work_order_id for r in results}) == 1
    assert await kinds(sessions, results[0].work_order_id or 0) == [EventKind.RAISED]


async def test_a_clear_with_no_open_work_order_changes_nothing(
        sessions: Sessions, estate_id: str, pks: dict[str, int]) -> None:
    async with sessions.begin() as session:
        result = await intake(session, leak(estate_id, pks["leak-1"], kind=AnomalyKind.CLEARED),
                              now=T0)
    assert (result.work_order_id, result.created) == (None, False)
    assert await open_count(sessions, pks["leak-1"]) == 0


async def test_each_rule_of_a_device_has_its_own_work_order(
        sessions: Sessions, estate_id: str, pks: dict[str, int]) -> None:
    async with sessions.begin() as session:
        wet = await intake(session, leak(estate_id, pks["leak-1"]), now=T0)
        battery = await intake(session, low_battery(estate_id, pks["leak-1"]), now=T0)
    assert wet.created
    assert battery.created
    assert wet.work_order_id != battery.work_order_id


async def close(sessions: Sessions, work_order_id: int) -> None:
    for action in (Action.ACKNOWLEDGE, Action.START, Action.RESOLVE, Action.CLOSE):
        async with sessions.begin() as session:
            await transition(session, work_order_id, action, actor=DISPATCHER, now=T0)


async def test_after_close_the_same_condition_opens_a_new_work_order(
        sessions: Sessions, estate_id: str, pks: dict[str, int]) -> None:
    async with sessions.begin() as session:
        first = await intake(session, leak(estate_id, pks["leak-1"]), now=T0)
        await intake(session, leak(estate_id, pks["leak-1"], seconds=60,
                                   kind=AnomalyKind.CLEARED), now=T0)
    assert first.work_order_id is not None
    await close(sessions, first.work_order_id)
    again = leak(estate_id, pks["leak-1"], seconds=3600)
    async with sessions.begin() as session:
        second = await intake(session, again, now=again.at)
    assert second.created
    assert second.work_order_id != first.work_order_id
    async with sessions() as session:
        follower = await get(session, second.work_order_id or 0)
    assert follower.previous_id == first.work_order_id
    assert (follower.condition.active, follower.condition.since) == (True, again.at)


async def test_a_condition_back_after_resolve_reopens_the_work_order_with_new_deadlines(
        sessions: Sessions, estate_id: str, pks: dict[str, int]) -> None:
    async with sessions.begin() as session:
        first = await intake(session, leak(estate_id, pks["leak-1"]), now=T0)
    work_order_id = first.work_order_id or 0
    for action in (Action.ACKNOWLEDGE, Action.START, Action.RESOLVE):
        async with sessions.begin() as session:
            await transition(session, work_order_id, action, actor=DISPATCHER, now=T0)
    back = leak(estate_id, pks["leak-1"], seconds=7200)
    async with sessions.begin() as session:
        result = await intake(session, back, now=back.at)
    assert (result.work_order_id, result.created, result.recurrence_count) == (
        work_order_id, False, 1)
    async with sessions() as session:
        work_order = await get(session, work_order_id)
    assert work_order.status is Status.OPEN
    assert work_order.resolved_at is None
    assert work_order.acknowledged_at is None
    assert work_order.ack_due_at == back.at + timedelta(minutes=5)
    assert [e.kind for e in work_order.events][-2:] == [EventKind.RECURRED, EventKind.REOPENED]
    assert work_order.events[-1].actor == SENSOR.name


async def test_a_clear_delivered_twice_is_recorded_once(
        sessions: Sessions, estate_id: str, pks: dict[str, int]) -> None:
    dry = leak(estate_id, pks["leak-1"], seconds=30, kind=AnomalyKind.CLEARED)
    async with sessions.begin() as session:
        raised = await intake(session, leak(estate_id, pks["leak-1"]), now=T0)
    results = []
    for attempt in range(2):  # the gateway's outbox redelivers after a crash
        async with sessions.begin() as session:
            results.append(await intake(session, dry, now=T0 + timedelta(seconds=attempt)))
    assert [result.duplicate for result in results] == [False, True]
    assert await kinds(sessions, raised.work_order_id or 0) == [EventKind.RAISED,
                                                                EventKind.CLEARED]


async def test_a_raise_redelivered_after_its_work_order_was_cancelled_opens_none(
        sessions: Sessions, estate_id: str, pks: dict[str, int]) -> None:
    wet = leak(estate_id, pks["leak-1"])
    async with sessions.begin() as session:
        first = await intake(session, wet, now=T0)
    async with sessions.begin() as session:  # staff cancel it while the gateway is down
        await transition(session, first.work_order_id or 0, Action.CANCEL, actor=DISPATCHER,
                         now=T0, confirm=True)
    async with sessions.begin() as session:
        again = await intake(session, wet, now=T0 + timedelta(minutes=5))
    assert (again.created, again.duplicate, again.work_order_id) == (
        False, True, first.work_order_id)
    async with sessions() as session:
        orders = await session.scalar(select(func.count(WorkOrder.id)).where(
            WorkOrder.device_pk == pks["leak-1"]))
    assert orders == 1
