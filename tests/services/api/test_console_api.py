"""What the staff console asks of the API: names instead of keys, the caller's allowed
actions (each one the API then accepts, none it would refuse), the assign list, handing to a
team, and devices searched, filtered by anomaly and counted per building."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Anomaly, AnomalyKind, Category, Priority, Team
from registry.tables import Device
from services.auth.principal import Principal, Role
from services.workorders.intake import intake
from services.workorders.model import Status
from tests.services.api.work_order_steps import URL, act, create, created_in
from tests.utils.auth import add_staff, bearer

STATUSES = (Status.OPEN, Status.IN_PROGRESS, Status.RESOLVED)
OPERATIONS = ("acknowledge", "assign", "start", "comment", "resolve", "close", "reopen",
              "cancel")


async def leak_pk(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        pk = await session.scalar(select(Device.id).where(
            Device.estate_id == "longdi", Device.device_id == "leak-001"))
    assert pk is not None
    return pk


async def attempt(client: httpx.AsyncClient, operation: str, work_order_id: int,
                  headers: dict[str, str], assignee: Principal) -> int:
    if operation == "comment":
        response = await client.post(f"{URL}/{work_order_id}/comments", json={"text": "ok"},
                                     headers=headers)
    elif operation == "assign":
        response = await client.post(f"{URL}/{work_order_id}/assign",
                                     json={"assignee_id": assignee.staff_id}, headers=headers)
    else:
        response = await act(client, work_order_id, operation, headers)
    assert response.status_code in (200, 201, 403, 409), response.text
    return response.status_code


@pytest.mark.parametrize(("role", "team"), [
    (Role.DISPATCHER, None), (Role.TECHNICIAN, Team.REPAIR), (Role.TECHNICIAN, Team.SAFETY),
    (Role.VIEWER, None),
])
async def test_allowed_actions_are_exactly_what_the_api_accepts(
        client: httpx.AsyncClient, seeded: async_sessionmaker[AsyncSession], role: Role,
        team: Team | None) -> None:
    caller = await add_staff(seeded, role=role, team=team, estates=["longdi"])
    assignee = await add_staff(seeded, role=Role.TECHNICIAN, estates=["longdi"])
    headers = bearer(caller)
    for status in STATUSES:
        probe = await created_in(client, status)
        detail = (await client.get(f"{URL}/{probe['id']}", headers=headers)).json()
        accepted = []
        for operation in OPERATIONS:
            target = await created_in(client, status)
            if await attempt(client, operation, target["id"], headers, assignee) < 300:
                accepted.append(operation)
        assert detail["allowed_actions"] == accepted, (role, team, status)


async def test_work_orders_name_their_place_device_and_assignee(
        client: httpx.AsyncClient, seeded: async_sessionmaker[AsyncSession]) -> None:
    plumber = await add_staff(seeded, role=Role.TECHNICIAN, estates=["longdi"],
                              team=Team.REPAIR)
    work_order = await create(client, device_pk=await leak_pk(seeded))
    await client.post(f"{URL}/{work_order['id']}/assign",
                      json={"assignee_id": plumber.staff_id})

    listed = (await client.get(URL, params={"assignee": plumber.staff_id})).json()
    assert [one["id"] for one in listed["data"]] == [work_order["id"]]
    named = listed["data"][0]
    assert (named["estate_name"], named["building_name"], named["unit_name"]) == \
        ("龙涤小区", "41号楼", "2单元")
    assert named["device"] == {"device_id": "leak-001", "display_name": "地下室漏水",
                               "device_type": "leak_sensor"}
    assert named["assignee_name"] == plumber.name
    by_device = (await client.get(URL, params={"estate": "longdi", "device": "leak-001"})).json()
    assert by_device["count"] == 1


async def test_the_assign_list_names_who_works_in_the_estate(
        client: httpx.AsyncClient, seeded: async_sessionmaker[AsyncSession]) -> None:
    here = await add_staff(seeded, role=Role.TECHNICIAN, estates=["longdi"], team=Team.REPAIR)
    await add_staff(seeded, role=Role.TECHNICIAN, estates=["songhua"])
    await add_staff(seeded, role=Role.VIEWER, estates=["longdi"])
    await add_staff(seeded, role=Role.TECHNICIAN, estates=["longdi"], active=False)
    work_order = await create(client)

    body = (await client.get(f"{URL}/{work_order['id']}/assign/candidates")).json()

    assert body["data"] == [{"id": here.staff_id, "name": here.name, "team": "repair",
                             "role": "technician"}]
    technician = bearer(here)
    refused = await client.get(f"{URL}/{work_order['id']}/assign/candidates",
                               headers=technician)
    assert refused.status_code == 403


async def test_assign_hands_the_work_order_to_a_team(client: httpx.AsyncClient) -> None:
    work_order = await create(client, team="repair")

    response = await client.post(f"{URL}/{work_order['id']}/assign",
                                 json={"assignee_id": None, "team": "safety"})

    assert response.status_code == 200, response.text
    detail: dict[str, Any] = response.json()
    assert detail["team"] == "safety"
    assigned = detail["events"][-1]
    assert assigned["kind"] == "assigned"
    assert (assigned["data"]["team"], assigned["data"]["previous_team"]) == ("safety", "repair")


async def test_active_filter(client: httpx.AsyncClient) -> None:
    active = await created_in(client, Status.IN_PROGRESS)
    done = await created_in(client, Status.CLOSED)

    listed = (await client.get(URL, params={"active": "true"})).json()
    finished = (await client.get(URL, params={"active": "false"})).json()

    assert [one["id"] for one in listed["data"]] == [active["id"]]
    assert [one["id"] for one in finished["data"]] == [done["id"]]


async def test_devices_search_and_anomaly(client: httpx.AsyncClient,
                                          seeded: async_sessionmaker[AsyncSession]) -> None:
    found = (await client.get("/api/v1/devices", params={"q": "地下室"})).json()
    assert [d["device_id"] for d in found["data"]] == ["leak-001"]
    assert found["data"][0]["estate_name"] == "龙涤小区"
    assert found["data"][0]["type_name_zh"] == "漏水传感器"
    assert found["data"][0]["rule_fields"]["water_leak"] == ["leak"]
    literal = (await client.get("/api/v1/devices", params={"q": "%"})).json()
    assert literal["count"] == 0  # a wildcard in the search is a character, not "anything"

    assert (await client.get("/api/v1/devices", params={"anomaly": "true"})).json()["count"] == 0
    await create(client, device_pk=await leak_pk(seeded))  # a staff report is no anomaly
    assert (await client.get("/api/v1/devices", params={"anomaly": "true"})).json()["count"] == 0

    await raise_leak(seeded)
    anomalous = (await client.get("/api/v1/devices", params={"anomaly": "true"})).json()
    assert [(d["estate_id"], d["device_id"], d["anomaly"]) for d in anomalous["data"]] == \
        [("longdi", "leak-001", True)]
    summary = (await client.get("/api/v1/devices/summary", params={"estate": "longdi"})).json()
    assert {row["building_name"]: row["anomaly"] for row in summary["data"]}["41号楼"] == 1


async def raise_leak(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The leak sensor's rule fired: a sensor work order through the real intake."""
    now = datetime.now(UTC)
    anomaly = Anomaly(kind=AnomalyKind.RAISED, estate_id="longdi",
                      device_pk=await leak_pk(sessions), device_id="leak-001",
                      device_type="leak_sensor", rule="water_leak", at=now,
                      priority=Priority.P1, team=Team.REPAIR, category=Category.SIMPLE,
                      title_en="Water leak", title_zh="漏水", readings=[{"leak": True}])
    async with sessions.begin() as session:
        await intake(session, anomaly, now=now)


async def test_device_counts_per_building(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/devices/summary", params={"estate": "longdi"})).json()

    counts = {row["building_name"]: (row["total"], row["online"], row["offline"], row["never"])
              for row in body["data"]}
    assert counts == {"41号楼": (1, 1, 0, 0), "42号楼": (1, 0, 1, 0), None: (2, 0, 0, 2)}
