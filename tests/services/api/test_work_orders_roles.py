"""Who may do what to work orders, through HTTP: the role matrix and estate scoping."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Team
from services.auth.principal import Principal, Role
from services.workorders.model import Status
from tests.services.api.work_order_steps import REPORT, URL, act, bring_to, create, created_in
from tests.utils.auth import add_staff, bearer

# Each operation, and the status its work order is brought to first so that it is legal.
OPERATIONS: dict[str, Status] = {
    "read": Status.OPEN, "comment": Status.OPEN, "assign": Status.OPEN,
    "acknowledge": Status.OPEN, "start": Status.ACKNOWLEDGED, "resolve": Status.IN_PROGRESS,
    "close": Status.RESOLVED, "cancel": Status.OPEN, "reopen": Status.RESOLVED,
    "create": Status.OPEN,
}
EVERYTHING = set(OPERATIONS)
OWN_WORK = {"read", "comment", "acknowledge", "start", "resolve"}


async def attempt(client: httpx.AsyncClient, operation: str, work_order: dict[str, Any],
                  headers: dict[str, str], assignee: Principal) -> int:
    if operation == "read":
        response = await client.get(f"{URL}/{work_order['id']}", headers=headers)
    elif operation == "create":
        response = await client.post(URL, json=REPORT, headers=headers)
    elif operation == "comment":
        response = await client.post(f"{URL}/{work_order['id']}/comments",
                                     json={"text": "ok"}, headers=headers)
    elif operation == "assign":
        response = await client.post(f"{URL}/{work_order['id']}/assign",
                                     json={"assignee_id": assignee.staff_id}, headers=headers)
    else:
        response = await act(client, work_order["id"], operation, headers)
    return response.status_code


async def allowed_operations(client: httpx.AsyncClient, caller: Principal, *,
                             assignee: Principal, assigned_to: int | None = None,
                             **work_order: Any) -> set[str]:
    """The operations `caller` got a 2xx for; every refusal must be a 403."""
    headers, allowed = bearer(caller), set()
    for operation, status in OPERATIONS.items():
        target = await create(client, **work_order)
        if assigned_to is not None:  # before it moves on: only active work can be assigned
            response = await client.post(f"{URL}/{target['id']}/assign",
                                         json={"assignee_id": assigned_to})
            assert response.status_code == 200, response.text
        await bring_to(client, target["id"], status)
        code = await attempt(client, operation, target, headers, assignee)
        assert code in (200, 201, 403), (operation, code)
        if code != 403:
            allowed.add(operation)
    return allowed


@pytest.fixture
async def technician(seeded: async_sessionmaker[AsyncSession]) -> Principal:
    return await add_staff(seeded, role=Role.TECHNICIAN, estates=["longdi"], team=Team.REPAIR)


@pytest.mark.parametrize(("role", "expected"), [
    (Role.ADMIN, EVERYTHING),
    (Role.DISPATCHER, EVERYTHING),
    (Role.VIEWER, {"read"}),
])
async def test_role_matrix(client: httpx.AsyncClient, seeded: async_sessionmaker[AsyncSession],
                           technician: Principal, role: Role, expected: set[str]) -> None:
    caller = await add_staff(seeded, role=role, estates=[] if role is Role.ADMIN else ["longdi"])

    assert await allowed_operations(client, caller, assignee=technician) == expected


@pytest.mark.parametrize(("work_order", "expected"), [
    ({"team": "repair"}, OWN_WORK),  # its team's
    ({"team": "safety", "assignee": "me"}, OWN_WORK),  # assigned to it
    ({"team": "safety"}, {"read"}),  # somebody else's
], ids=["team", "assigned", "others"])
async def test_a_technician_works_on_its_own_or_its_teams_work_only(
    client: httpx.AsyncClient, technician: Principal, work_order: dict[str, Any],
    expected: set[str]
) -> None:
    if work_order.pop("assignee", None) == "me":
        work_order["assigned_to"] = technician.staff_id

    allowed = await allowed_operations(client, technician, assignee=technician, **work_order)

    assert allowed == expected


async def test_a_technician_cannot_see_another_estates_work_orders(
    client: httpx.AsyncClient, technician: Principal
) -> None:
    foreign = await created_in(client, Status.OPEN, estate_id="songhua", team="repair")
    own = await created_in(client, Status.OPEN, team="repair")
    headers = bearer(technician)

    listed = (await client.get(URL, headers=headers)).json()
    asked = (await client.get(URL, params={"estate": "songhua"}, headers=headers)).json()
    detail = await client.get(f"{URL}/{foreign['id']}", headers=headers)
    acknowledge = await act(client, foreign["id"], "acknowledge", headers)
    ledger = (await client.get("/api/v1/ledger", headers=headers)).json()
    stats = (await client.get("/api/v1/stats/on-time", headers=headers)).json()

    assert [item["id"] for item in listed["data"]] == [own["id"]]
    assert listed["count"] == 1
    assert asked == {"data": [], "count": 0}
    assert detail.status_code == 404
    assert detail.json() == {"error": "not_found", "detail": "未找到 / work order not found"}
    assert acknowledge.status_code == 404
    assert {row["estate_id"] for row in ledger["data"]} == {"longdi"}
    assert {row["estate_id"] for row in stats["data"]} == {"longdi"}
    assert (await client.get(f"{URL}/{foreign['id']}")).json()["status"] == "open"


async def test_a_dispatcher_cannot_report_for_another_estate(
    client: httpx.AsyncClient, seeded: async_sessionmaker[AsyncSession]
) -> None:
    dispatcher = await add_staff(seeded, role=Role.DISPATCHER, estates=["longdi"])

    response = await client.post(URL, json={**REPORT, "estate_id": "songhua"},
                                 headers=bearer(dispatcher))

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert (await client.get(URL, params={"estate": "songhua"})).json()["count"] == 0
