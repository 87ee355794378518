"""Fixtures of the work-order tests: a registered estate, an injected clock, a webhook."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from tests.services.workorders.factories import T0, device_pks
from tests.services.workorders.webhook import Webhook, running_webhook
from tests.utils.estates import register_small_estate


@pytest.fixture
async def estate_id(sessions: async_sessionmaker[AsyncSession]) -> str:
    return await register_small_estate(sessions)


@pytest.fixture
async def pks(sessions: async_sessionmaker[AsyncSession], estate_id: str) -> dict[str, int]:
    """Device primary keys by device id: leak-1, light-1, ebike-1, gate-1."""
    return await device_pks(sessions, estate_id)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with running_webhook() as hook:
        yield hook
