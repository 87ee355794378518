"""A day of deadlines in seconds: each passed deadline escalates once, to the next level."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.db import create_engine_for, session_factory
from core.vocabulary import Action, Category, Team
from services.auth.principal import Role
from services.workorders.alert import Alert
from services.workorders.escalation import escalate_due, run_escalation
from services.workorders.intake import intake
from services.workorders.schemas import EventKind, WorkOrderCreate
from services.workorders.service import create, get, transition
from services.workorders.sink import intake_sink
from services.workorders.tables import WorkOrder
from tests.fixtures.mosquitto import Broker
from tests.services.workorders.alerting import alert_listener, broker_notifier
from tests.services.workorders.factories import DISPATCHER, T0, add_staff, charger_fault, leak
from tests.services.workorders.webhook import Webhook
from tests.utils.gateway import eventually

Sessions = async_sessionmaker[AsyncSession]
STEP_S = 300
DAY_S = 86400


class Recorder:
    """An AlertSink that only remembers (for tests of escalation without a broker)."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    async def notify(self, alert: Alert) -> None:
        self.alerts.append(alert)


async def add_people(sessions: Sessions, estate_id: str, webhook: Webhook) -> None:
    people = [("plumber", Role.TECHNICIAN, Team.REPAIR, True),
              ("electrician", Role.TECHNICIAN, Team.TELECOM, True),
              ("dispatcher", Role.DISPATCHER, None, True),
              ("manager", Role.ADMIN, None, False)]
    for name, role, team, on_duty in people:
        await add_staff(sessions, name, role, estates=[estate_id], team=team, on_duty=on_duty,
                        apprise_url=webhook.url(name))


async def test_a_day_of_deadlines_escalates_each_once_through_apprise_and_mqtt(
        sessions: Sessions, estate_id: str, pks: dict[str, int], webhook: Webhook,
        mosquitto: Broker, clock: ManualClock) -> None:
    await add_people(sessions, estate_id, webhook)
    report = WorkOrderCreate(estate_id=estate_id, team=Team.CLEANING, title_zh="外墙渗水",
                             category=Category.EXTERNAL)
    async with (alert_listener(mosquitto, estate_id) as listener,
                broker_notifier(mosquitto, sessions) as (notifier, client)):
        take_in = intake_sink(sessions, notifier, clock)
        await take_in(leak(estate_id, pks["leak-1"]))  # P1 simple: ack 5 min, resolve 30 min
        await take_in(charger_fault(estate_id, pks["ebike-1"]))  # P2 complex: resolve 4 h
        async with sessions.begin() as session:
            external = await create(session, report, actor=DISPATCHER, now=T0)  # plan 1 day
            ids = await session.scalars(
                select(WorkOrder.id).where(WorkOrder.estate_id == estate_id))
            wet, fault = sorted(set(ids) - {external.id})
            await transition(session, fault, Action.ACKNOWLEDGE, actor=DISPATCHER,
                             now=T0 + timedelta(minutes=2))  # in time: no ack escalation
        escalations = []
        while clock.now() < T0 + timedelta(seconds=DAY_S):
            clock.advance(STEP_S)
            escalations += await escalate_due(sessions, notifier, now=clock.now())
        assert await escalate_due(sessions, notifier, now=clock.now()) == []
        published = await listener.settled(client)

    assert [(e.work_order_id, e.deadline, e.level, e.due_at - T0) for e in escalations] == [
        (wet, "ack", 1, timedelta(minutes=5)),
        (external.id, "ack", 1, timedelta(minutes=5)),
        (wet, "resolve", 2, timedelta(minutes=30)),
        (fault, "resolve", 1, timedelta(hours=4)),
        (external.id, "plan", 2, timedelta(days=1)),
    ]
    titles = {name: [m["title"] for m in webhook.messages(name)]
              for name in ("plumber", "electrician", "dispatcher", "manager")}
    assert titles["plumber"] == ["[P1] 新工单 new: 漏水", "[P1] 超时升级 escalated L1: 漏水",
                                 "[P1] 超时升级 escalated L2: 漏水"]
    assert titles["electrician"] == ["[P2] 新工单 new: 充电桩故障",
                                     "[P2] 超时升级 escalated L1: 充电桩故障"]
    assert len(titles["dispatcher"]) == 5  # every escalation from level 1
    assert titles["manager"] == ["[P1] 超时升级 escalated L2: 漏水",
                                 "[P3] 超时升级 escalated L2: 外墙渗水"]
    assert "已超期 missed: 完成 resolve by 2026-11-22 08:30 CST" in \
        webhook.messages("manager")[0]["message"]
    assert [(p["kind"], p["work_order_id"], p["deadline"]) for _, p in published] == [
        ("created", wet, None), ("created", fault, None), ("escalated", wet, "ack"),
        ("escalated", external.id, "ack"), ("escalated", wet, "resolve"),
        ("escalated", fault, "resolve"), ("escalated", external.id, "plan")]
    async with sessions() as session:
        timeline = (await get(session, wet)).events
    # Each alert follows what caused it on the timeline, with its kind.
    assert [(e.kind, (e.data or {}).get("deadline") or (e.data or {}).get("alert"))
            for e in timeline] == [
        (EventKind.RAISED, None), (EventKind.ALERTED, "created"),
        (EventKind.ESCALATED, "ack"), (EventKind.ALERTED, "escalated"),
        (EventKind.ESCALATED, "resolve"), (EventKind.ALERTED, "escalated")]


async def test_two_workers_at_once_escalate_a_deadline_once(
        database_url: str, sessions: Sessions, estate_id: str, pks: dict[str, int]) -> None:
    async with sessions.begin() as session:
        for device in ("leak-1", "ebike-1"):
            anomaly = (leak if device == "leak-1" else charger_fault)(estate_id, pks[device])
            await intake(session, anomaly, now=T0)
    engines = [create_engine_for(database_url) for _ in range(2)]
    try:
        workers = [session_factory(engine) for engine in engines]
        results = []
        for minute in (5, 30, 240):
            now = T0 + timedelta(minutes=minute)
            results += await asyncio.gather(*(
                escalate_due(worker, Recorder(), now=now) for worker in workers * 2))
    finally:
        for engine in engines:
            await engine.dispose()
    done = sorted((e.work_order_id, e.deadline) for result in results for e in result)
    assert len(done) == len(set(done)) == 4  # two acks, two resolves


async def test_a_reopened_work_order_escalates_again_in_its_new_cycle(
        sessions: Sessions, estate_id: str, pks: dict[str, int]) -> None:
    recorder = Recorder()
    async with sessions.begin() as session:
        result = await intake(session, leak(estate_id, pks["leak-1"]), now=T0)
    work_order_id = result.work_order_id or 0
    await escalate_due(sessions, recorder, now=T0 + timedelta(minutes=6))
    reopened_at = T0 + timedelta(hours=1)
    for action in (Action.ACKNOWLEDGE, Action.START, Action.RESOLVE, Action.REOPEN):
        async with sessions.begin() as session:
            await transition(session, work_order_id, action, actor=DISPATCHER, now=reopened_at)
    await escalate_due(sessions, recorder, now=reopened_at + timedelta(minutes=6))
    assert [(a.deadline, a.level, a.due_at) for a in recorder.alerts] == [
        ("ack", 1, T0 + timedelta(minutes=5)),
        ("ack", 1, reopened_at + timedelta(minutes=5)),
    ]


async def test_the_escalation_loop_runs_on_the_injected_clock(
        sessions: Sessions, estate_id: str, pks: dict[str, int], clock: ManualClock) -> None:
    recorder = Recorder()
    async with sessions.begin() as session:
        await intake(session, leak(estate_id, pks["leak-1"]), now=T0)
    worker = asyncio.create_task(run_escalation(sessions, recorder, clock, interval_s=60))
    try:
        alerts = await eventually(lambda: _copy(recorder), lambda found: len(found) >= 2)
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    assert [(a.deadline, a.level) for a in alerts] == [("ack", 1), ("resolve", 2)]
    assert clock.now() >= T0 + timedelta(minutes=30)
    assert recorder.alerts[2:] == []  # a leak has no third deadline


async def _copy(recorder: Recorder) -> list[Alert]:
    return list(recorder.alerts)
