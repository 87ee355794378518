"""Staff scoped by zone: a member linked to a zone sees every estate of it, and no other."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.auth.accounts import AccountError, active_principal
from services.auth.policy import can_see
from services.auth.principal import Role
from tests.utils.auth import add_staff
from tests.utils.estates import register_small_estate
from tests.utils.zones import add_zone


async def test_a_zone_member_sees_its_zones_estates_even_one_added_later(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    inside, outside = await register_small_estate(sessions), await register_small_estate(sessions)
    zone = await add_zone(sessions, [inside])
    manager = await add_staff(sessions, role=Role.VIEWER, zones=[zone])
    assert manager.estates == {inside}
    assert can_see(manager, inside)
    assert not can_see(manager, outside)

    later = await register_small_estate(sessions)
    await add_zone(sessions, [later], zone_id=zone)
    async with sessions() as session:
        again = await active_principal(session, manager.staff_id)
    assert again.estates == {inside, later}


async def test_an_unknown_zone_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    with pytest.raises(AccountError, match="no such zone"):
        await add_staff(sessions, role=Role.VIEWER, zones=[f"z{uuid.uuid4().hex[:8]}"])
