"""Listing with filters and estate scope, the three-colour ledger and on-time statistics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Action, Category, Priority, Team
from services.workorders.intake import intake
from services.workorders.model import LedgerColour, Source
from services.workorders.queries import ledger, list_work_orders, on_time_stats
from services.workorders.schemas import WorkOrderCreate, WorkOrderFilters
from services.workorders.service import create, transition
from tests.services.workorders.factories import DISPATCHER, T0, charger_fault, device_pks, leak
from tests.utils.estates import register_small_estate

Sessions = async_sessionmaker[AsyncSession]
MIN = timedelta(minutes=1)


@dataclass
class Books:
    estate: str
    other: str
    leak: int
    charger: int
    external: int


async def step(sessions: Sessions, work_order_id: int, minutes: float, *actions: Action) -> None:
    for action in actions:
        async with sessions.begin() as session:
            await transition(session, work_order_id, action, actor=DISPATCHER,
                             now=T0 + minutes * MIN)


@pytest.fixture
async def books(sessions: Sessions, estate_id: str, pks: dict[str, int]) -> Books:
    """A leak (green), a charger fault (yellow) and a resident's external job (red), all at T0,
    plus a leak in another estate. The charger and the external job are acknowledged in time."""
    other = await register_small_estate(sessions)
    report = WorkOrderCreate(estate_id=estate_id, team=Team.CLEANING, title_zh="外墙渗水",
                             category=Category.EXTERNAL, source=Source.RESIDENT)
    async with sessions.begin() as session:
        wet = await intake(session, leak(estate_id, pks["leak-1"]), now=T0)
        fault = await intake(session, charger_fault(estate_id, pks["ebike-1"]), now=T0)
        external = await create(session, report, actor=DISPATCHER, now=T0)
        other_leak = (await device_pks(sessions, other))["leak-1"]
        await intake(session, leak(other, other_leak), now=T0)
    books = Books(estate_id, other, wet.work_order_id or 0, fault.work_order_id or 0,
                  external.id)
    await step(sessions, books.charger, 2, Action.ACKNOWLEDGE)
    await step(sessions, books.external, 1, Action.ACKNOWLEDGE)
    return books


async def ids(sessions: Sessions, estates: list[str] | None = None, /,
              **filters: object) -> list[int]:
    async with sessions() as session:
        found, count = await list_work_orders(
            session, WorkOrderFilters.model_validate(filters), estates=estates,
            now=T0 + 10 * MIN)
    assert count >= len(found)
    return [work_order.id for work_order in found]


async def test_filters_pick_the_matching_work_orders(sessions: Sessions, books: Books) -> None:
    mine = {"estate": books.estate}
    assert await ids(sessions, **mine) == [books.external, books.charger, books.leak]
    assert await ids(sessions, **mine, overdue=True) == [books.leak]
    assert await ids(sessions, **mine, overdue=False) == [books.external, books.charger]
    assert await ids(sessions, **mine, status="acknowledged") == [books.external, books.charger]
    assert await ids(sessions, **mine, priority=Priority.P1) == [books.leak]
    assert await ids(sessions, **mine, team="telecom") == [books.charger]
    assert await ids(sessions, **mine, colour=LedgerColour.RED) == [books.external]
    assert await ids(sessions, **mine, source="resident") == [books.external]


async def test_a_page_and_the_total(sessions: Sessions, books: Books) -> None:
    async with sessions() as session:
        page, count = await list_work_orders(
            session, WorkOrderFilters(estate=books.estate, limit=2, offset=1), estates=None,
            now=T0)
    assert ([work_order.id for work_order in page], count) == ([books.charger, books.leak], 3)


async def test_estate_scope_hides_other_estates(sessions: Sessions, books: Books) -> None:
    assert len(await ids(sessions, [books.other])) == 1
    assert await ids(sessions, [books.other], estate=books.estate) == []
    assert await ids(sessions, []) == []
    assert len(await ids(sessions, None)) >= 4


async def test_the_ledger_counts_active_overdue_and_done_per_colour(
        sessions: Sessions, books: Books) -> None:
    async with sessions() as session:
        early = await ledger(session, estates=[books.estate], now=T0 + 10 * MIN)
    assert [(e.colour, e.active, e.overdue, e.done) for e in early] == [
        (LedgerColour.GREEN, 1, 1, 0), (LedgerColour.YELLOW, 1, 0, 0),
        (LedgerColour.RED, 1, 0, 0)]
    await step(sessions, books.leak, 20, Action.ACKNOWLEDGE, Action.START, Action.RESOLVE)
    async with sessions() as session:
        later = await ledger(session, estates=None, now=T0 + 10 * MIN)
    mine = [(e.colour, e.active, e.done) for e in later if e.estate_id == books.estate]
    assert mine[0] == (LedgerColour.GREEN, 0, 1)
    assert {e.estate_id for e in later} >= {books.estate, books.other}


async def test_on_time_statistics_per_team_and_estate(sessions: Sessions, books: Books) -> None:
    await step(sessions, books.leak, 20, Action.ACKNOWLEDGE, Action.START)  # ack late
    await step(sessions, books.leak, 25, Action.RESOLVE)  # resolved in 30 min
    await step(sessions, books.charger, 300, Action.START, Action.RESOLVE)  # after 4 h
    async with sessions() as session:
        stats = await on_time_stats(session, estates=[books.estate], since=T0 - 60 * MIN,
                                    now=T0 + 360 * MIN)
    assert [(s.team, s.count, s.ack_on_time_pct, s.resolve_on_time_pct) for s in stats] == [
        (Team.CLEANING, 1, 100.0, None),  # the external job is not due for 7 days
        (Team.REPAIR, 1, 0.0, 100.0),
        (Team.TELECOM, 1, 100.0, 0.0),
    ]
    async with sessions() as session:
        none_since = await on_time_stats(session, estates=[books.estate], since=T0 + MIN,
                                         now=T0 + 360 * MIN)
    assert none_since == []
