"""The work-order state machine, assignment, comments and staff-created work orders."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Action, AnomalyKind, Category, Priority, Team
from services.auth.principal import Role
from services.workorders.errors import (
    AlreadyOpen,
    IllegalTransition,
    InvalidReference,
    WorkOrderNotFound,
)
from services.workorders.intake import intake
from services.workorders.model import LedgerColour, Source, Status
from services.workorders.schemas import Actor, EventKind, WorkOrderCreate
from services.workorders.service import allowed_actions, assign, comment, create, get, transition
from tests.services.workorders.factories import DISPATCHER, T0, add_staff, leak
from tests.utils.estates import register_small_estate

Sessions = async_sessionmaker[AsyncSession]

PATHS = {
    Status.OPEN: [],
    Status.ACKNOWLEDGED: [Action.ACKNOWLEDGE],
    Status.IN_PROGRESS: [Action.ACKNOWLEDGE, Action.START],
    Status.RESOLVED: [Action.ACKNOWLEDGE, Action.START, Action.RESOLVE],
    Status.CLOSED: [Action.ACKNOWLEDGE, Action.START, Action.RESOLVE, Action.CLOSE],
    Status.CANCELLED: [Action.CANCEL],
}
LEGAL = {
    Status.OPEN: {Action.ACKNOWLEDGE, Action.CANCEL},
    Status.ACKNOWLEDGED: {Action.START, Action.CANCEL},
    Status.IN_PROGRESS: {Action.RESOLVE, Action.CANCEL},
    Status.RESOLVED: {Action.CLOSE, Action.REOPEN},
    Status.CLOSED: {Action.REOPEN},
    Status.CANCELLED: set(),
}


def report(estate_id: str, **changes: object) -> WorkOrderCreate:
    fields: dict[str, object] = {"estate_id": estate_id, "team": Team.CLEANING,
                                 "title_zh": "楼道有积水", "source": Source.RESIDENT}
    return WorkOrderCreate.model_validate(fields | changes)


async def new_work_order(sessions: Sessions, estate_id: str, **changes: object) -> int:
    async with sessions.begin() as session:
        work_order = await create(session, report(estate_id, **changes), actor=DISPATCHER, now=T0)
        return work_order.id


async def act(sessions: Sessions, work_order_id: int, *actions: Action,
              actor: Actor = DISPATCHER) -> None:
    for action in actions:
        async with sessions.begin() as session:
            await transition(session, work_order_id, action, actor=actor, now=T0, note="ok")


async def status_of(sessions: Sessions, work_order_id: int) -> Status:
    async with sessions() as session:
        return (await get(session, work_order_id)).status


def test_allowed_actions_follow_the_declared_machine() -> None:
    assert {status: set(allowed_actions(status)) for status in Status} == LEGAL


async def test_the_happy_path_stamps_each_step_on_the_timeline(
        sessions: Sessions, estate_id: str) -> None:
    work_order_id = await new_work_order(sessions, estate_id)
    await act(sessions, work_order_id, *PATHS[Status.CLOSED])
    async with sessions() as session:
        work_order = await get(session, work_order_id)
    assert work_order.status is Status.CLOSED
    assert None not in (work_order.acknowledged_at, work_order.resolved_at, work_order.closed_at)
    assert [event.kind for event in work_order.events] == [
        EventKind.RAISED, EventKind.ACKNOWLEDGED, EventKind.STARTED, EventKind.RESOLVED,
        EventKind.CLOSED]
    assert {event.actor_name for event in work_order.events} == {DISPATCHER.name}


async def test_every_illegal_transition_is_refused_and_changes_nothing(
        sessions: Sessions, estate_id: str) -> None:
    refused = 0
    for status, path in PATHS.items():
        work_order_id = await new_work_order(sessions, estate_id)
        await act(sessions, work_order_id, *path)
        for action in set(Action) - LEGAL[status]:
            with pytest.raises(IllegalTransition) as caught:
                await act(sessions, work_order_id, action)
            assert (caught.value.current, caught.value.action) == (status, action)
            assert await status_of(sessions, work_order_id) is status
            refused += 1
    assert refused == 27


async def test_two_people_acknowledging_at_once_one_wins(
        sessions: Sessions, estate_id: str) -> None:
    work_order_id = await new_work_order(sessions, estate_id)
    outcomes = await asyncio.gather(
        *(act(sessions, work_order_id, Action.ACKNOWLEDGE) for _ in range(4)),
        return_exceptions=True)
    assert sum(outcome is None for outcome in outcomes) == 1
    assert all(isinstance(o, IllegalTransition) for o in outcomes if o is not None)
    async with sessions() as session:
        events = (await get(session, work_order_id)).events
    assert [event.kind for event in events].count(EventKind.ACKNOWLEDGED) == 1


async def test_reopening_next_to_a_newer_open_work_order_is_refused(
        sessions: Sessions, estate_id: str, pks: dict[str, int]) -> None:
    async with sessions.begin() as session:
        first = await intake(session, leak(estate_id, pks["leak-1"]), now=T0)
        await intake(session, leak(estate_id, pks["leak-1"], seconds=30,
                                   kind=AnomalyKind.CLEARED), now=T0)
    await act(sessions, first.work_order_id or 0, *PATHS[Status.CLOSED])
    async with sessions.begin() as session:
        await intake(session, leak(estate_id, pks["leak-1"], seconds=60), now=T0)
    with pytest.raises(AlreadyOpen):
        await act(sessions, first.work_order_id or 0, Action.REOPEN)
    assert await status_of(sessions, first.work_order_id or 0) is Status.CLOSED


async def test_unknown_work_order_is_not_found(sessions: Sessions) -> None:
    async with sessions() as session:
        with pytest.raises(WorkOrderNotFound):
            await get(session, 424242)
        with pytest.raises(WorkOrderNotFound):
            await transition(session, 424242, Action.CLOSE, actor=DISPATCHER, now=T0)


async def test_assign_only_to_active_working_staff_of_the_estate(
        sessions: Sessions, estate_id: str) -> None:
    elsewhere = await register_small_estate(sessions)
    plumber = await add_staff(sessions, "plumber", Role.TECHNICIAN, estates=[estate_id])
    stranger = await add_staff(sessions, "stranger", Role.TECHNICIAN, estates=[elsewhere])
    viewer = await add_staff(sessions, "viewer", Role.VIEWER, estates=[estate_id])
    gone = await add_staff(sessions, "gone", Role.TECHNICIAN, estates=[estate_id], active=False)
    work_order_id = await new_work_order(sessions, estate_id)
    for refused in (stranger, viewer, gone, 999_999):
        with pytest.raises(InvalidReference):
            async with sessions.begin() as session:
                await assign(session, work_order_id, refused, actor=DISPATCHER, now=T0)
    async with sessions.begin() as session:
        assigned = await assign(session, work_order_id, plumber, actor=DISPATCHER, now=T0)
    assert assigned.assignee_id == plumber
    await act(sessions, work_order_id, Action.CANCEL)
    with pytest.raises(IllegalTransition):
        async with sessions.begin() as session:
            await assign(session, work_order_id, plumber, actor=DISPATCHER, now=T0)
    async with sessions() as session:
        [assigned_event] = [e for e in (await get(session, work_order_id)).events
                            if e.kind is EventKind.ASSIGNED]
    assert assigned_event.note == "assigned to Plumber"


async def test_comments_go_on_the_timeline_in_any_status(
        sessions: Sessions, estate_id: str) -> None:
    work_order_id = await new_work_order(sessions, estate_id)
    await act(sessions, work_order_id, Action.CANCEL)
    technician = Actor(id=7, name="李师傅", role=Role.TECHNICIAN)
    async with sessions.begin() as session:
        await comment(session, work_order_id, "已清理", actor=technician, now=T0)
    async with sessions() as session:
        last = (await get(session, work_order_id)).events[-1]
    assert (last.kind, last.note, last.actor, last.actor_name) == (
        EventKind.COMMENT, "已清理", "7", "李师傅")


async def test_a_staff_report_of_an_external_job_gets_a_plan_deadline_and_is_red(
        sessions: Sessions, estate_id: str, pks: dict[str, int]) -> None:
    work_order_id = await new_work_order(
        sessions, estate_id, category=Category.EXTERNAL, priority=Priority.P3,
        device_pk=pks["leak-1"], source=Source.STAFF)
    async with sessions() as session:
        work_order = await get(session, work_order_id)
    assert work_order.plan_due_at == T0 + timedelta(days=1)
    assert work_order.resolve_due_at == T0 + timedelta(days=7)
    assert work_order.ledger_colour is LedgerColour.RED
    assert (work_order.location, work_order.rule) == ("水表间", None)
    assert work_order.unit_id is not None


async def test_a_report_pointing_into_another_estate_is_refused(
        sessions: Sessions, estate_id: str, pks: dict[str, int]) -> None:
    elsewhere = await register_small_estate(sessions)
    with pytest.raises(InvalidReference):
        await new_work_order(sessions, elsewhere, device_pk=pks["leak-1"])
    with pytest.raises(InvalidReference):
        await new_work_order(sessions, "no-such-estate")
