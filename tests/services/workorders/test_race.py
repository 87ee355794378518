"""Two gateways racing on the same condition still make one work order: the database decides."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import create_engine_for, session_factory
from services.workorders.intake import IntakeResult, intake
from services.workorders.tables import WorkOrder
from tests.services.workorders.factories import T0, leak

ROUNDS = 25
RACERS_PER_ENGINE = 2

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def two_gateways(database_url: str) -> AsyncIterator[tuple[Sessions, Sessions]]:
    """Two engines (two connection pools), like two gateway processes on one database."""
    engines = [create_engine_for(database_url) for _ in range(2)]
    try:
        yield session_factory(engines[0]), session_factory(engines[1])
    finally:
        for engine in engines:
            await engine.dispose()


async def take_in(sessions: Sessions, estate_id: str, device_pk: int, rule: str,
                  racer: int) -> IntakeResult:
    # Each racer saw its own message (its own detection time), so none is a redelivery.
    anomaly = leak(estate_id, device_pk, rule=rule, seconds=racer)
    async with sessions.begin() as session:
        return await intake(session, anomaly, now=T0)


async def test_racing_intakes_make_one_work_order_and_count_the_rest(
        two_gateways: tuple[Sessions, Sessions], sessions: Sessions, estate_id: str,
        pks: dict[str, int]) -> None:
    racers = len(two_gateways) * RACERS_PER_ENGINE
    for round_number in range(ROUNDS):
        rule = f"race-{round_number}"
        results = await asyncio.gather(*(
            take_in(two_gateways[racer % 2], estate_id, pks["leak-1"], rule, racer)
            for racer in range(racers)
        ))
        assert sum(result.created for result in results) == 1, results
        assert sorted(result.recurrence_count for result in results) == list(range(racers))
        assert len({result.work_order_id for result in results}) == 1
    async with sessions() as session:
        rows = (await session.execute(
            select(WorkOrder.rule, WorkOrder.recurrence_count)
            .where(WorkOrder.device_pk == pks["leak-1"]))).all()
    assert sorted(rows) == sorted((f"race-{n}", racers - 1) for n in range(ROUNDS))


async def test_a_message_delivered_to_both_gateways_counts_once(
        two_gateways: tuple[Sessions, Sessions], estate_id: str, pks: dict[str, int]) -> None:
    # A QoS 1 redelivery after a gateway crash may reach the other gateway: same anomaly twice.
    for round_number in range(ROUNDS):
        rule = f"again-{round_number}"
        results = await asyncio.gather(*(
            take_in(gateway, estate_id, pks["leak-1"], rule, racer=0) for gateway in two_gateways
        ))
        assert sorted((r.created, r.duplicate, r.recurrence_count) for r in results) == [
            (False, True, 0), (True, False, 0)]
