"""A sensor work order shows its condition's live state; closing it while the condition is
active answers 409 `condition_active` unless confirmed, and the fault still reported after
the close opens a new work order linked to the closed one."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.vocabulary import Anomaly, AnomalyKind
from registry.tables import Device
from services.workorders.intake import intake
from services.workorders.model import Status
from tests.services.api.work_order_steps import URL, act, bring_to
from tests.services.workorders.factories import leak

Sessions = async_sessionmaker[AsyncSession]


async def _take_in(sessions: Sessions, anomaly: Anomaly) -> int | None:
    async with sessions.begin() as session:
        return (await intake(session, anomaly, now=anomaly.at)).work_order_id


async def _leak_sensor(sessions: Sessions) -> int:
    async with sessions() as session:
        pk = await session.scalar(select(Device.id).where(
            Device.estate_id == "longdi", Device.device_id == "leak-001"))
    assert pk is not None
    return pk


async def test_closing_while_the_condition_is_active_needs_confirmation(
        client: httpx.AsyncClient, seeded: Sessions, clock: ManualClock) -> None:
    wet = leak("longdi", await _leak_sensor(seeded), at=clock.now())
    work_order_id = await _take_in(seeded, wet)
    assert work_order_id is not None
    shown = (await client.get(f"{URL}/{work_order_id}")).json()
    assert shown["condition"] == {"active": True, "since": shown["condition"]["since"],
                                  "cleared_at": None}
    assert shown["previous_id"] is None
    await bring_to(client, work_order_id, Status.RESOLVED)

    refused = await act(client, work_order_id, "close")
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "condition_active"
    assert refused.json()["work_order_id"] == work_order_id
    assert (await client.get(f"{URL}/{work_order_id}")).json()["status"] == "resolved"
    closed = await act(client, work_order_id, "close", confirm=True, note="pipe replaced")
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"

    still_wet = replace(wet, kind=AnomalyKind.ONGOING, at=wet.at + timedelta(minutes=5))
    follower_id = await _take_in(seeded, still_wet)
    follower = (await client.get(f"{URL}/{follower_id}")).json()
    assert follower["previous_id"] == work_order_id
    assert follower["condition"]["active"] is True
    assert follower["condition"]["since"] == shown["condition"]["since"]

    await _take_in(seeded, replace(wet, kind=AnomalyKind.CLEARED, at=wet.at + timedelta(
        minutes=10)))
    dry = (await client.get(f"{URL}/{follower_id}")).json()["condition"]
    assert dry["active"] is False
    assert dry["cleared_at"] is not None
    listed = (await client.get(URL, params={"estate": "longdi"})).json()["data"]
    assert {one["id"]: one["condition"]["active"] for one in listed} == {
        work_order_id: False, follower_id: False}


async def test_a_reported_work_order_closes_without_confirmation(
        client: httpx.AsyncClient) -> None:
    created = (await client.post(URL, json={
        "estate_id": "longdi", "team": "repair", "title_zh": "门口漏水",
        "source": "resident"})).json()
    assert created["condition"] == {"active": False, "since": None, "cleared_at": None}
    await bring_to(client, created["id"], Status.CLOSED)
