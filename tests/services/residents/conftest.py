"""Fixtures of the residents' service tests: a registered estate (on SQLite and PostgreSQL),
the link key, and a link at unit 41号楼2单元 where the estate's leak sensor is."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.residents import links
from services.residents.signing import link_key
from services.residents.tables import QrLink
from tests.services.workorders.factories import T0, device_pks
from tests.utils.auth import JWT_SECRET
from tests.utils.estates import register_small_estate

KEY = link_key(None, JWT_SECRET)


@pytest.fixture
async def estate_id(sessions: async_sessionmaker[AsyncSession]) -> str:
    return await register_small_estate(sessions)


@pytest.fixture
async def pks(sessions: async_sessionmaker[AsyncSession], estate_id: str) -> dict[str, int]:
    return await device_pks(sessions, estate_id)


async def issue(sessions: async_sessionmaker[AsyncSession], ref: links.PlaceRef) -> QrLink:
    async with sessions.begin() as session:
        return await links.issue(session, ref, now=T0)


@pytest.fixture
async def unit_link(sessions: async_sessionmaker[AsyncSession], estate_id: str) -> QrLink:
    return await issue(sessions, links.PlaceRef(estate_id, "b41", "u2"))
