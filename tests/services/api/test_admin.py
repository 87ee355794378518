"""Administration API (/api/v1/admin) on SQLite and PostgreSQL: staff, rota, alert routes
with a real test message, resident contacts, deadline policies, rule overrides; admins only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.vocabulary import Team
from services.auth.principal import Role
from tests.services.api.conftest import serving
from tests.services.workorders.webhook import Webhook, running_webhook
from tests.utils.auth import PASSWORD, add_staff, bearer

Sessions = async_sessionmaker[AsyncSession]
NEW_PASSWORD = "a brand new password"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with running_webhook() as hook:
        yield hook


async def _login(api: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await api.post("/api/v1/auth/token",
                          data={"username": username, "password": password})


async def _add_technician(client: httpx.AsyncClient, username: str = "li-wei") -> dict[str, Any]:
    response = await client.post("/api/v1/admin/staff", json={
        "username": username, "display_name": "李伟", "role": "technician", "team": "repair",
        "estates": ["longdi"], "password": PASSWORD})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_staff_are_added_edited_disabled_and_given_a_new_password(
        client: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    added = await _add_technician(client)
    login = await _login(anonymous, "li-wei", PASSWORD)
    assert login.status_code == 200
    token = {"Authorization": f"Bearer {login.json()['access_token']}"}

    edited = await client.patch(f"/api/v1/admin/staff/{added['id']}", json={
        "role": "dispatcher", "estates": ["longdi", "songhua"], "team": None})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["role"], edited.json()["estates"], edited.json()["team"]) == (
        "dispatcher", ["longdi", "songhua"], None)
    me = await anonymous.get("/api/v1/auth/me", headers=token)
    assert me.json()["role"] == "dispatcher"  # the old token carries the new role

    disabled = await client.patch(f"/api/v1/admin/staff/{added['id']}", json={"active": False})
    assert disabled.json()["active"] is False
    assert (await anonymous.get("/api/v1/work-orders", headers=token)).status_code == 401
    assert (await _login(anonymous, "li-wei", PASSWORD)).status_code == 401

    await client.patch(f"/api/v1/admin/staff/{added['id']}", json={"active": True})
    assert (await anonymous.get("/api/v1/auth/me", headers=token)).status_code == 200
    reset = await client.post(f"/api/v1/admin/staff/{added['id']}/password",
                              json={"password": NEW_PASSWORD})
    assert reset.status_code == 204
    # The reset ends the session of whoever held the old password (a lost phone).
    ended = await anonymous.get("/api/v1/auth/me", headers=token)
    assert ended.status_code == 401
    assert "password" in ended.text
    assert (await _login(anonymous, "li-wei", PASSWORD)).status_code == 401
    new_login = await _login(anonymous, "li-wei", NEW_PASSWORD)
    assert new_login.status_code == 200
    new_token = {"Authorization": f"Bearer {new_login.json()['access_token']}"}
    assert (await anonymous.get("/api/v1/auth/me", headers=token)).status_code == 401
    assert (await anonymous.get("/api/v1/auth/me", headers=new_token)).status_code == 200
    listed = (await client.get("/api/v1/admin/staff")).json()
    assert "li-wei" in [row["username"] for row in listed["data"]]


async def test_staff_mistakes_are_refused_with_the_reason(client: httpx.AsyncClient) -> None:
    await _add_technician(client)
    again = await client.post("/api/v1/admin/staff", json={
        "username": "li-wei", "role": "technician", "estates": ["longdi"],
        "password": PASSWORD})
    nowhere = await client.post("/api/v1/admin/staff", json={
        "username": "wu", "role": "viewer", "estates": ["atlantis"], "password": PASSWORD})
    missing = await client.patch("/api/v1/admin/staff/99999", json={"active": False})
    assert (again.status_code, again.json()["error"]) == (409, "conflict")
    assert nowhere.status_code == 422
    assert "atlantis" in nowhere.json()["detail"]
    assert missing.status_code == 404


async def test_the_last_active_admin_cannot_be_disabled_or_demoted(
        client: httpx.AsyncClient) -> None:
    me = (await client.get("/api/v1/auth/me")).json()
    admins = [row for row in (await client.get("/api/v1/admin/staff")).json()["data"]
              if row["role"] == "admin" and row["active"]]
    assert [row["id"] for row in admins] == [me["id"]]
    refused = await client.patch(f"/api/v1/admin/staff/{me['id']}", json={"active": False})
    demoted = await client.patch(f"/api/v1/admin/staff/{me['id']}", json={"role": "viewer",
                                                                          "estates": ["longdi"]})
    assert refused.status_code == 422
    assert "last active admin" in refused.json()["detail"]
    assert demoted.status_code == 422


ADMIN_CALLS = [
    ("GET", "/api/v1/admin/staff", None),
    ("POST", "/api/v1/admin/staff", {"username": "x", "role": "viewer",
                                     "estates": ["longdi"], "password": PASSWORD}),
    ("PATCH", "/api/v1/admin/staff/1", {"active": False}),
    ("POST", "/api/v1/admin/staff/1/password", {"password": NEW_PASSWORD}),
    ("GET", "/api/v1/admin/shifts", None),
    ("POST", "/api/v1/admin/alert-routes", {"estate_id": "longdi", "team": "repair",
                                            "apprise_url": "json://127.0.0.1:9/x"}),
    ("POST", "/api/v1/admin/alert-routes/1/test", None),
    ("GET", "/api/v1/admin/unit-contacts", None),
    ("PUT", "/api/v1/admin/estates/longdi/policy", {"deadlines": {"ack_s": 60}}),
    ("PUT", "/api/v1/admin/estates/longdi/rule-overrides/leak_sensor/water_leak",
     {"enabled": False}),
]


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.TECHNICIAN, Role.VIEWER])
async def test_only_admins_may_administer(
        build_app: Callable[..., FastAPI], seeded: Sessions, role: Role) -> None:
    someone = await add_staff(seeded, role=role, estates=["longdi"], team=Team.REPAIR)
    async with serving(build_app(), bearer(someone)) as api:
        answers = [await api.request(method, path, json=body)
                   for method, path, body in ADMIN_CALLS]
    assert [answer.status_code for answer in answers] == [403] * len(ADMIN_CALLS)
    assert {answer.json()["error"] for answer in answers} == {"forbidden"}


async def test_a_disabled_admin_and_no_token_are_refused(
        build_app: Callable[..., FastAPI], seeded: Sessions,
        anonymous: httpx.AsyncClient) -> None:
    gone = await add_staff(seeded, role=Role.ADMIN, active=False)
    async with serving(build_app(), bearer(gone)) as api:
        answer = await api.get("/api/v1/admin/staff")
    assert answer.status_code == 401
    assert (await anonymous.get("/api/v1/admin/staff")).status_code == 401


async def test_shifts_are_added_listed_and_removed(
        client: httpx.AsyncClient, clock: ManualClock) -> None:
    technician = await _add_technician(client)
    now = clock.now()
    shift = {"staff_id": technician["id"], "estate_id": "longdi", "team": "repair",
             "starts_at": now.isoformat(), "ends_at": (now + timedelta(hours=8)).isoformat()}
    added = await client.post("/api/v1/admin/shifts", json=shift)
    elsewhere = await client.post("/api/v1/admin/shifts", json={**shift, "estate_id": "songhua"})
    backwards = await client.post("/api/v1/admin/shifts", json={
        **shift, "ends_at": (now - timedelta(hours=1)).isoformat()})
    assert added.status_code == 201, added.text
    assert elsewhere.status_code == 422  # not a staff member of that estate
    assert backwards.status_code == 422
    listed = (await client.get("/api/v1/admin/shifts", params={"estate": "longdi"})).json()
    assert [row["id"] for row in listed["data"]] == [added.json()["id"]]
    later = (now + timedelta(hours=9)).isoformat()
    assert (await client.get("/api/v1/admin/shifts",
                             params={"ending_after": later})).json()["count"] == 0  # over
    assert (await client.delete(f"/api/v1/admin/shifts/{added.json()['id']}")).status_code == 204
    assert (await client.delete(f"/api/v1/admin/shifts/{added.json()['id']}")).status_code == 404


async def test_an_alert_route_is_added_tested_for_real_and_removed(
        client: httpx.AsyncClient, webhook: Webhook) -> None:
    route = {"estate_id": "longdi", "team": "repair", "apprise_url": webhook.url("repair")}
    added = await client.post("/api/v1/admin/alert-routes", json=route)
    twice = await client.post("/api/v1/admin/alert-routes", json=route)
    bogus = await client.post("/api/v1/admin/alert-routes", json={**route,
                                                                  "apprise_url": "nope://x"})
    assert added.status_code == 201
    assert twice.json()["id"] == added.json()["id"]
    assert bogus.status_code == 422
    route_id = added.json()["id"]

    tested = await client.post(f"/api/v1/admin/alert-routes/{route_id}/test")
    assert tested.json() == {"sent": True, "detail": "sent"}
    [message] = webhook.messages("repair")
    assert "测试" in message["title"]
    assert "longdi" in message["message"]

    listed = await client.get("/api/v1/admin/alert-routes", params={"estate": "longdi"})
    assert [row["apprise_url"] for row in listed.json()["data"]] == [route["apprise_url"]]
    assert (await client.delete(f"/api/v1/admin/alert-routes/{route_id}")).status_code == 204
    assert (await client.post(f"/api/v1/admin/alert-routes/{route_id}/test")).status_code == 404


async def test_a_failing_route_test_says_so(client: httpx.AsyncClient) -> None:
    added = await client.post("/api/v1/admin/alert-routes", json={
        "estate_id": "longdi", "team": "safety", "apprise_url": "json://127.0.0.1:9/closed"})
    tested = await client.post(f"/api/v1/admin/alert-routes/{added.json()['id']}/test")
    assert tested.status_code == 200
    assert tested.json()["sent"] is False


async def test_resident_contacts_per_unit(client: httpx.AsyncClient) -> None:
    [unit] = (await client.get("/api/v1/admin/estates/longdi/units")).json()["data"]
    assert (unit["building_name"], unit["name"]) == ("41号楼", "2单元")
    added = await client.post("/api/v1/admin/unit-contacts", json={
        "unit_id": unit["id"], "name": "业主 王女士", "phone": "13800000000",
        "apprise_url": "json://127.0.0.1:9/owner"})
    assert added.status_code == 201, added.text
    contact_id = added.json()["id"]
    edited = await client.put(f"/api/v1/admin/unit-contacts/{contact_id}", json={
        "unit_id": unit["id"], "name": "租户 陈先生", "phone": None, "apprise_url": None})
    assert (edited.json()["name"], edited.json()["apprise_url"]) == ("租户 陈先生", None)
    listed = await client.get("/api/v1/admin/unit-contacts", params={"estate": "longdi"})
    assert [row["id"] for row in listed.json()["data"]] == [contact_id]
    nowhere = await client.post("/api/v1/admin/unit-contacts", json={"unit_id": 99999,
                                                                      "name": "x"})
    assert nowhere.status_code == 422
    assert (await client.delete(f"/api/v1/admin/unit-contacts/{contact_id}")).status_code == 204
    assert (await client.get("/api/v1/admin/estates/atlantis/units")).status_code == 404


async def test_an_estate_deadline_policy_is_set_checked_and_restored(
        client: httpx.AsyncClient) -> None:
    first = (await client.get("/api/v1/admin/estates/longdi/policy")).json()
    assert first["overrides"] == {}
    assert first["effective"]["ack_s"] == 300
    changed = await client.put("/api/v1/admin/estates/longdi/policy",
                               json={"deadlines": {"ack_s": 120, "simple_s": 900}})
    assert changed.json()["effective"] == {**first["defaults"], "ack_s": 120, "simple_s": 900}
    bad = await client.put("/api/v1/admin/estates/longdi/policy",
                           json={"deadlines": {"ack_minutes": 5}})
    negative = await client.put("/api/v1/admin/estates/longdi/policy",
                                json={"deadlines": {"ack_s": -1}})
    assert (bad.status_code, bad.json()["key"]) == (422, "ack_minutes")
    assert negative.status_code == 422
    restored = await client.put("/api/v1/admin/estates/longdi/policy", json={"deadlines": {}})
    assert restored.json()["effective"] == first["defaults"]


async def test_rule_overrides_are_checked_against_the_rule(client: httpx.AsyncClient) -> None:
    rules = (await client.get("/api/v1/admin/rules")).json()["data"]
    overheating = next(rule for rule in rules if rule["rule"] == "overheating")
    assert overheating["defaults"]["value"] == 70
    path = "/api/v1/admin/estates/longdi/rule-overrides/ev_charger/overheating"
    stored = await client.put(path, json={"params": {"value": 65, "for_s": 30}})
    assert stored.status_code == 200, stored.text
    assert stored.json()["params"] == {"value": 65, "for_s": 30.0}
    misfit = await client.put(path, json={"params": {"count": 3}})
    unknown_key = await client.put(path, json={"params": {"threshold": 3}})
    unknown_rule = await client.put(
        "/api/v1/admin/estates/longdi/rule-overrides/ev_charger/melting", json={})
    assert [answer.status_code for answer in (misfit, unknown_key, unknown_rule)] == [422] * 3
    listed = (await client.get("/api/v1/admin/rule-overrides",
                               params={"estate": "longdi"})).json()["data"]
    assert [(row["rule"], row["enabled"]) for row in listed] == [("overheating", True)]
    assert (await client.delete(path)).status_code == 204
    assert (await client.delete(path)).status_code == 404


async def test_estates_are_listed_for_the_pages(client: httpx.AsyncClient) -> None:
    listed = (await client.get("/api/v1/admin/estates")).json()["data"]
    assert [(row["id"], row["name"]) for row in listed] == [("longdi", "龙涤小区"),
                                                             ("songhua", "松花小区")]


