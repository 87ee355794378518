"""Logging in, and the bearer token every route but the public ones requires."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.vocabulary import Team
from services.api.main import behind_token
from services.auth.principal import Role
from tests.services.api.conftest import serving
from tests.utils.auth import PASSWORD, add_staff, bearer

TOKEN = "/api/v1/auth/token"
PUBLIC = {"/healthz", "/metrics", "/docs", "/openapi.json", TOKEN}
# A resident holds a signed QR link or a progress token, never a login (services/residents).
RESIDENT_PREFIX = "/api/v1/resident/"


async def log_in(api: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await api.post(TOKEN, data={"grant_type": "password", "username": username,
                                       "password": password})


async def test_login_gives_a_token_that_says_who_you_are(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], estates: tuple[str, str]
) -> None:
    alice = await add_staff(sessions, role=Role.TECHNICIAN, estates=[estates[0]],
                            team=Team.REPAIR)

    response = await log_in(api, alice.username, PASSWORD)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 600
    me = await api.get("/api/v1/auth/me",
                       headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {"id": alice.staff_id, "username": alice.username, "role": "technician",
                         "team": "repair", "estates": [estates[0]], "display_name": alice.name}
    assert body["staff"] == me.json()


@pytest.mark.parametrize("who", ["wrong-password", "unknown-user", "inactive-user"])
async def test_bad_credentials_are_401_and_say_nothing_more(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], who: str
) -> None:
    staff = await add_staff(sessions, active=who != "inactive-user")
    username = "nobody" if who == "unknown-user" else staff.username
    password = PASSWORD + "?" if who == "wrong-password" else PASSWORD

    response = await log_in(api, username, password)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"error": "not_authenticated",
                               "detail": "未通过身份验证 / incorrect username or password"}


async def test_a_login_form_without_password_is_422(api: httpx.AsyncClient) -> None:
    response = await api.post(TOKEN, data={"username": "alice"})

    assert response.status_code == 422


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"},
                                     {"Authorization": "Basic YWxpY2U6cHc="}],
                         ids=["none", "garbage", "basic"])
async def test_no_valid_token_is_401(api: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await api.get("/api/v1/auth/me", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"] == "not_authenticated"


async def test_an_expired_token_is_401(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    staff = await add_staff(sessions)
    token = (await log_in(api, staff.username, PASSWORD)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api.get("/api/v1/auth/me", headers=headers)).status_code == 200

    clock.advance(600)
    response = await api.get("/api/v1/auth/me", headers=headers)

    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_a_deactivated_account_loses_access_at_once(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    staff = await add_staff(sessions, active=False)

    response = await api.get("/api/v1/auth/me", headers=bearer(staff, now=clock.now()))

    assert response.status_code == 401


def _concrete(path: str) -> str:
    values = {"action": "acknowledge", "work_order_id": "1", "estate_id": "x", "device_id": "y",
              "staff_id": "1", "shift_id": "1", "route_id": "1", "contact_id": "1",
              "device_type": "leak_sensor", "rule": "water_leak", "photo_id": "1"}
    return re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], path)


async def test_every_route_but_the_public_ones_requires_a_token(
    api: httpx.AsyncClient, app: FastAPI
) -> None:
    operations = [(method, path) for path, item in app.openapi()["paths"].items()
                  for method in item]
    protected = [(method, path) for method, path in operations
                 if path not in PUBLIC and not path.startswith(RESIDENT_PREFIX)]
    assert len(protected) >= 14  # the ones this test was written against, at least

    refused = {(method, path): (await api.request(method, _concrete(path))).status_code
               for method, path in protected}

    assert refused == dict.fromkeys(protected, 401)
    for path in PUBLIC - {TOKEN}:
        assert (await api.get(path)).status_code != 401, path


async def test_a_handler_that_never_asks_who_calls_is_protected_all_the_same(
    app: FastAPI, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    careless = APIRouter()

    @careless.get("/api/v1/careless")
    async def read_careless() -> dict[str, str]:
        return {"secret": "kept"}

    app.include_router(behind_token([careless]))
    staff = await add_staff(sessions)
    async with serving(app) as api:
        anonymous = await api.get("/api/v1/careless")
        logged_in = await api.get("/api/v1/careless", headers=bearer(staff, now=clock.now()))

    assert anonymous.status_code == 401
    assert logged_in.json() == {"secret": "kept"}
