"""5341 deadlines by category and priority, per-estate overrides, and the ledger colours."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Category, Priority
from services.workorders.deadlines import (
    DeadlinePolicy,
    deadlines_for,
    ledger_colour,
    set_estate_policy,
)
from services.workorders.errors import InvalidPolicy
from services.workorders.intake import intake
from services.workorders.model import LedgerColour
from services.workorders.service import get
from services.workorders.tables import EstatePolicy
from tests.services.workorders.factories import T0, device_pks, leak
from tests.utils.estates import register_small_estate

Sessions = async_sessionmaker[AsyncSession]
MINUTE, HOUR, DAY = 60, 3600, 86400


@pytest.mark.parametrize(("category", "priority", "resolve_s", "plan_s"), [
    (Category.SIMPLE, Priority.P3, 30 * MINUTE, None),
    (Category.SIMPLE, Priority.P1, 30 * MINUTE, None),
    (Category.COMPLEX, Priority.P2, 4 * HOUR, None),
    (Category.COMPLEX, Priority.P1, 4 * HOUR, None),
    (Category.EXTERNAL, Priority.P3, 7 * DAY, DAY),
    (Category.EXTERNAL, Priority.P1, 4 * HOUR, DAY),  # a P1 is made good the same day
])
def test_the_5341_defaults(category: Category, priority: Priority, resolve_s: int,
                           plan_s: int | None) -> None:
    deadlines = deadlines_for(category, priority, start=T0, policy=DeadlinePolicy())
    assert deadlines.ack_due_at == T0 + timedelta(minutes=5)
    assert deadlines.resolve_due_at == T0 + timedelta(seconds=resolve_s)
    expected_plan = None if plan_s is None else T0 + timedelta(seconds=plan_s)
    assert deadlines.plan_due_at == expected_plan


def test_ledger_colour_follows_the_reach_of_the_job() -> None:
    assert [ledger_colour(category) for category in Category] == [
        LedgerColour.GREEN, LedgerColour.YELLOW, LedgerColour.RED]


@pytest.mark.parametrize("overrides", [{"ack_minutes": 5}, {"ack_s": 0}, {"ack_s": "300"},
                                       {"ack_s": True}, {"simple_s": 1.5}])
def test_a_bad_policy_names_its_key(overrides: dict[str, object]) -> None:
    with pytest.raises(InvalidPolicy) as caught:
        DeadlinePolicy.with_overrides(overrides, estate_id="longdi")
    assert caught.value.key == next(iter(overrides))


async def test_an_estate_policy_changes_its_own_deadlines_only(
        sessions: Sessions, estate_id: str, pks: dict[str, int]) -> None:
    other = await register_small_estate(sessions)
    other_leak = (await device_pks(sessions, other))["leak-1"]
    async with sessions.begin() as session:
        await set_estate_policy(session, estate_id, {"ack_s": 120, "simple_s": 900})
    async with sessions.begin() as session:
        here = await intake(session, leak(estate_id, pks["leak-1"]), now=T0)
        there = await intake(session, leak(other, other_leak), now=T0)
    async with sessions() as session:
        work_order = await get(session, here.work_order_id or 0)
        default = await get(session, there.work_order_id or 0)
    assert work_order.ack_due_at == T0 + timedelta(seconds=120)
    assert work_order.resolve_due_at == T0 + timedelta(seconds=900)
    assert default.ack_due_at == T0 + timedelta(minutes=5)
    assert default.resolve_due_at == T0 + timedelta(minutes=30)


async def test_set_estate_policy_refuses_unknown_keys_and_keeps_the_old_policy(
        sessions: Sessions, estate_id: str) -> None:
    async with sessions.begin() as session:
        await set_estate_policy(session, estate_id, {"ack_s": 120})
    with pytest.raises(InvalidPolicy):
        async with sessions.begin() as session:
            await set_estate_policy(session, estate_id, {"respond_s": 60})
    async with sessions() as session:
        stored = await session.get(EstatePolicy, estate_id)
    assert stored is not None
    assert stored.deadlines == {"ack_s": 120}


async def test_a_broken_stored_policy_falls_back_to_the_defaults(
        sessions: Sessions, estate_id: str, pks: dict[str, int]) -> None:
    async with sessions.begin() as session:
        session.add(EstatePolicy(estate_id=estate_id, deadlines={"ack_s": -5}))
    async with sessions.begin() as session:
        result = await intake(session, leak(estate_id, pks["leak-1"]), now=T0)
    async with sessions() as session:
        work_order = await get(session, result.work_order_id or 0)
    assert work_order.ack_due_at == T0 + timedelta(minutes=5)
