"""The work-order routes as an admin: create, detail with timeline, transitions, assign,
comment, filters, ledger and on-time statistics."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.vocabulary import Team
from services.auth.principal import Role
from services.workorders.alert import AlertKind
from services.workorders.model import Status
from tests.services.api.conftest import RecordingNotifier
from tests.services.api.work_order_steps import URL, act, create, created_in
from tests.utils.auth import add_staff


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _kinds(work_order: dict[str, Any]) -> list[str]:
    return [event["kind"] for event in work_order["events"]]


async def test_a_resident_report_becomes_an_open_work_order_with_5341_deadlines(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    work_order = await create(client)

    assert work_order["status"] == "open"
    assert (work_order["source"], work_order["ledger_colour"]) == ("resident", "green")
    created = _at(work_order["created_at"])
    assert created == clock.now()
    assert _at(work_order["ack_due_at"]) - created == timedelta(minutes=5)
    assert _at(work_order["resolve_due_at"]) - created == timedelta(minutes=30)
    assert _kinds(work_order) == ["raised"]
    fetched = (await client.get(f"{URL}/{work_order['id']}")).json()
    assert fetched == work_order


async def test_the_whole_lifecycle_is_on_the_timeline_with_who_and_when(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    work_order = await create(client)
    for action, status in [("acknowledge", "acknowledged"), ("start", "in_progress"),
                           ("resolve", "resolved"), ("close", "closed")]:
        clock.advance(60)
        response = await act(client, work_order["id"], action, note=f"{action} note")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status

    events = response.json()["events"]
    assert [event["kind"] for event in events] == [
        "raised", "acknowledged", "started", "resolved", "closed"]
    assert [event["note"] for event in events[1:]] == [
        "acknowledge note", "start note", "resolve note", "close note"]
    assert len({event["actor"] for event in events}) == 1
    assert _at(events[-1]["at"]) == clock.now()


@pytest.mark.parametrize(("status", "action"), [
    (Status.OPEN, "close"), (Status.OPEN, "resolve"), (Status.CLOSED, "cancel"),
    (Status.CANCELLED, "acknowledge"), (Status.IN_PROGRESS, "reopen"),
])
async def test_an_illegal_transition_is_409_with_a_clear_body(
    client: httpx.AsyncClient, status: Status, action: str
) -> None:
    work_order = await created_in(client, status)

    response = await act(client, work_order["id"], action)

    assert response.status_code == 409
    assert response.json() == {
        "error": "illegal_transition", "status": status.value, "action": action,
        "detail": f"工单当前状态不允许此操作 / cannot {action} a work order that is {status.value}"}
    after = (await client.get(f"{URL}/{work_order['id']}")).json()
    assert after["status"] == status.value


async def test_unknown_work_order_is_404_and_unknown_action_422(
    client: httpx.AsyncClient,
) -> None:
    missing = await act(client, 999_999, "acknowledge")
    work_order = await create(client)
    nonsense = await act(client, work_order["id"], "explode")

    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert nonsense.status_code == 422


async def test_assigning_records_it_and_alerts_the_assignee(
    client: httpx.AsyncClient, seeded: async_sessionmaker[AsyncSession],
    notifier: RecordingNotifier,
) -> None:
    technician = await add_staff(seeded, role=Role.TECHNICIAN, estates=["longdi"],
                                 team=Team.REPAIR)
    stranger = await add_staff(seeded, role=Role.TECHNICIAN, estates=["songhua"])
    work_order = await create(client, priority="P3")

    assigned = await client.post(f"{URL}/{work_order['id']}/assign",
                                 json={"assignee_id": technician.staff_id})
    refused = await client.post(f"{URL}/{work_order['id']}/assign",
                                json={"assignee_id": stranger.staff_id})

    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["assignee_id"] == technician.staff_id
    assert _kinds(assigned.json()) == ["raised", "assigned"]
    assert [(alert.kind, alert.assignee_id) for alert in notifier.alerts] == [
        (AlertKind.ASSIGNED, technician.staff_id)]
    assert refused.status_code == 422
    assert refused.json()["field"] == "assignee_id"


async def test_new_p1_and_p2_are_alerted_lower_ones_are_not(
    client: httpx.AsyncClient, notifier: RecordingNotifier
) -> None:
    urgent = await create(client, priority="P1")
    await create(client, priority="P3")

    assert [(alert.kind, alert.work_order_id) for alert in notifier.alerts] == [
        (AlertKind.CREATED, urgent["id"])]


async def test_comments_go_on_the_timeline(client: httpx.AsyncClient) -> None:
    work_order = await create(client)

    response = await client.post(f"{URL}/{work_order['id']}/comments",
                                 json={"text": "关闭了总阀"})
    empty = await client.post(f"{URL}/{work_order['id']}/comments", json={"text": ""})

    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["note"]) == ("comment", "关闭了总阀")
    assert _kinds((await client.get(f"{URL}/{work_order['id']}")).json()) == [
        "raised", "comment"]
    assert empty.status_code == 422


@pytest.mark.parametrize("body", [{"source": "sensor"}, {"title_zh": "", "title_en": ""},
                                  {"priority": "P9"}])
async def test_invalid_reports_are_422(client: httpx.AsyncClient, body: dict[str, str]) -> None:
    response = await client.post(URL, json={"estate_id": "longdi", "team": "repair",
                                            "title_en": "x", **body})

    assert response.status_code == 422


async def test_a_report_for_an_unknown_estate_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, json={"estate_id": "nowhere", "team": "repair",
                                            "title_en": "x"})

    assert response.status_code == 422
    assert response.json()["field"] == "estate_id"
