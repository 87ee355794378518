"""A staff member sees only its own estates' devices, history and dead letters."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from gateway.tables import DeadLetter
from services.auth.principal import Role
from tests.utils.auth import add_staff, bearer

DEVICES = ["ebike-1", "gate-1", "leak-1", "light-1"]


async def seed_letters(sessions: async_sessionmaker[AsyncSession], estates: tuple[str, str]
                       ) -> None:
    at = datetime(2026, 11, 22, tzinfo=UTC)
    async with sessions() as session, session.begin():
        for estate in (*estates, None):
            session.add(DeadLetter(received_at=at, topic=f"estates/{estate}/x/y/telemetry",
                                   reason="invalid_json", detail="-", estate_id=estate,
                                   device_id="leak-1", payload=b"{", payload_size=1))


@pytest.fixture
async def headers(sessions: async_sessionmaker[AsyncSession], estates: tuple[str, str],
                  clock: ManualClock) -> dict[Role, dict[str, str]]:
    """A viewer of the first estate, and an admin."""
    await seed_letters(sessions, estates)
    viewer = await add_staff(sessions, role=Role.VIEWER, estates=[estates[0]])
    admin = await add_staff(sessions, role=Role.ADMIN)
    return {Role.VIEWER: bearer(viewer, now=clock.now()),
            Role.ADMIN: bearer(admin, now=clock.now())}


async def test_device_list_holds_only_the_callers_estates(
    api: httpx.AsyncClient, estates: tuple[str, str], headers: dict[Role, dict[str, str]]
) -> None:
    mine, other = estates
    scoped = (await api.get("/api/v1/devices", headers=headers[Role.VIEWER])).json()
    asked_other = (await api.get("/api/v1/devices", params={"estate": other},
                                 headers=headers[Role.VIEWER])).json()
    everything = (await api.get("/api/v1/devices", params={"limit": 1000},
                                headers=headers[Role.ADMIN])).json()

    assert [(d["estate_id"], d["device_id"]) for d in scoped["data"]] == [
        (mine, device) for device in DEVICES]
    assert scoped["count"] == 4
    assert asked_other == {"data": [], "count": 0}
    assert {mine, other} <= {device["estate_id"] for device in everything["data"]}


@pytest.mark.parametrize("path", ["/devices/leak-1", "/devices/leak-1/history?field=battery"])
async def test_another_estates_device_is_not_found(
    api: httpx.AsyncClient, estates: tuple[str, str], headers: dict[Role, dict[str, str]],
    path: str
) -> None:
    mine, other = estates

    foreign = await api.get(f"/api/v1/estates/{other}{path}", headers=headers[Role.VIEWER])
    own = await api.get(f"/api/v1/estates/{mine}{path}", headers=headers[Role.VIEWER])
    as_admin = await api.get(f"/api/v1/estates/{other}{path}", headers=headers[Role.ADMIN])

    assert foreign.status_code == 404
    assert foreign.json() == {"error": "not_found",
                              "detail": f"未找到 / estate {other!r} not found"}
    assert own.status_code == 200
    assert as_admin.status_code == 200


async def test_dead_letters_hold_only_the_callers_estates(
    api: httpx.AsyncClient, estates: tuple[str, str], headers: dict[Role, dict[str, str]]
) -> None:
    mine, other = estates
    letters = (await api.get("/api/v1/dead-letters", headers=headers[Role.VIEWER])).json()
    reasons = (await api.get("/api/v1/dead-letters/reasons",
                             headers=headers[Role.VIEWER])).json()
    admin_letters = (await api.get("/api/v1/dead-letters", headers=headers[Role.ADMIN])).json()

    assert [letter["estate_id"] for letter in letters["data"]] == [mine]
    assert reasons["data"] == [{"reason": "invalid_json", "count": 1}]
    seen_by_admin = [letter["estate_id"] for letter in admin_letters["data"]]
    assert {mine, other, None} <= set(seen_by_admin)  # unattributed letters: admins only
