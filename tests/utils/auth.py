"""Staff accounts and bearer headers for API tests."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Team
from services.auth.accounts import NewStaff, create_staff
from services.auth.passwords import hash_password
from services.auth.principal import Principal, Role
from services.auth.tokens import issue_token

JWT_SECRET = "test-jwt-secret-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery staple"


@lru_cache(maxsize=1)
def password_hash() -> str:
    """One argon2 hash of PASSWORD for the whole session: hashing costs ~0.5 s here."""
    return hash_password(PASSWORD)


async def add_staff(sessions: async_sessionmaker[AsyncSession], *, role: Role = Role.ADMIN,
                    estates: Collection[str] = (), team: Team | None = None,
                    username: str | None = None, active: bool = True,
                    zones: Collection[str] = ()) -> Principal:
    """A staff member with PASSWORD; its estates and zones must be registered already."""
    new = NewStaff(username=username or f"{role.value}-{uuid.uuid4().hex[:8]}", role=role,
                   password_hash=password_hash(), estates=frozenset(estates), team=team,
                   zones=frozenset(zones))
    async with sessions() as session, session.begin():
        principal = await create_staff(session, new)
        if not active:
            await _deactivate(session, principal.staff_id)
    return principal


async def _deactivate(session: AsyncSession, staff_id: int) -> None:
    from services.auth.tables import Staff

    staff = await session.get(Staff, staff_id)
    assert staff is not None
    staff.active = False


def bearer(principal: Principal, *, now: datetime | None = None, ttl_s: float = 3600,
           secret: str = JWT_SECRET) -> dict[str, str]:
    """Headers with a token minted directly (no login round trip, no password check)."""
    token = issue_token(principal, secret=secret, ttl_s=ttl_s, now=now or datetime.now(UTC))
    return {"Authorization": f"Bearer {token}"}


async def staff_headers(sessions: async_sessionmaker[AsyncSession], *, role: Role = Role.ADMIN,
                        estates: Collection[str] = (), team: Team | None = None
                        ) -> dict[str, str]:
    """Create a staff member and return its auth headers."""
    return bearer(await add_staff(sessions, role=role, estates=estates, team=team))
