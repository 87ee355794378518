"""Zones for tests: create one (or reuse it) and move estates into it."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from registry.tables import Estate, Zone


async def add_zone(sessions: async_sessionmaker[AsyncSession], estates: Collection[str], *,
                   zone_id: str | None = None, name: str = "香坊片区") -> str:
    """Put `estates` in zone `zone_id` (created if new; a fresh id if None)."""
    zone_id = zone_id or f"z{uuid.uuid4().hex[:10]}"
    async with sessions() as session, session.begin():
        if await session.get(Zone, zone_id) is None:
            session.add(Zone(id=zone_id, name=name))
            await session.flush()
        await session.execute(update(Estate).where(Estate.id.in_(list(estates)))
                              .values(zone_id=zone_id))
    return zone_id
