"""GET /api/v1/alerts/stream: work-order alerts from MQTT, live to each caller's screen.

Served by a real uvicorn (the in-process ASGI transport cannot stream) and fed by a real
Mosquitto; the fan-out's overflow policy is checked on the hub itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from estateops.settings import Settings
from services.api import create_app
from services.api.alert_stream import ALERTS_DROPPED, AlertHub, LiveAlert, parse_alert
from services.auth.principal import Role
from tests.fixtures.mosquitto import Broker
from tests.fixtures.processes import free_port
from tests.services.api.factories import FakeStore
from tests.utils.auth import JWT_SECRET, add_staff, bearer
from tests.utils.gateway import eventually

STREAM = "/api/v1/alerts/stream"


@contextlib.asynccontextmanager
async def api_server(tmp_path: Path, database_url: str, sessions: async_sessionmaker[AsyncSession],
                     broker_url: str, hub: AlertHub) -> AsyncIterator[str]:
    settings = Settings(data_dir=tmp_path, database_url=database_url,
                        auth={"jwt_secret": JWT_SECRET}, mqtt={"url": broker_url})
    app = create_app(settings, store=FakeStore(), sessions=sessions, alert_hub=hub)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on",
                                           log_level="warning"))
    task = asyncio.create_task(server.serve(), name="api-under-test")

    async def started() -> bool:
        return server.started and not task.done()

    try:
        assert await eventually(started, bool), "the API did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)


async def events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """SSE events as {"event": ..., "data": ...}; comments (keep-alives) as {"comment": ...}."""
    event: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield {"comment": line[1:].strip()}
        elif line:
            name, _, value = line.partition(":")
            event[name] = value.removeprefix(" ")
        elif event:
            yield event
            event = {}


async def publish(broker: Broker, messages: list[tuple[str, bytes]]) -> None:
    async with aiomqtt.Client(broker.host, broker.port) as client:
        for topic, payload in messages:
            await client.publish(topic, payload, qos=1)


async def test_alerts_of_the_callers_estates_arrive_on_the_stream(
    tmp_path: Path, api_database_url: str, seeded: async_sessionmaker[AsyncSession],
    mosquitto: Broker,
) -> None:
    technician = await add_staff(seeded, role=Role.TECHNICIAN, estates=["longdi"])
    hub = AlertHub(keepalive_s=30)
    alert = {"kind": "created", "title_zh": "41号楼2单元漏水", "team": "repair"}

    async with (api_server(tmp_path, api_database_url, seeded, mosquitto.url, hub) as base,
                httpx.AsyncClient(base_url=base, timeout=10) as client):
        await asyncio.wait_for(hub.subscribed.wait(), timeout=15)
        async with client.stream("GET", STREAM, headers=bearer(technician)) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = events(response)
            ready = await anext(stream)
            await publish(mosquitto, [
                ("estateops/alerts/songhua/P1/5", json.dumps({"kind": "created"}).encode()),
                ("estateops/alerts/longdi/P1/6", b"not json"),
                ("estateops/alerts/longdi/P1/7", json.dumps(alert).encode()),
            ])
            received = await asyncio.wait_for(anext(stream), timeout=10)

    assert ready == {"event": "ready",
                     "data": json.dumps({"estates": ["longdi"], "broker_connected": True})}
    assert received["event"] == "alert"
    assert json.loads(received["data"]) == {
        "estate_id": "longdi", "priority": "P1", "work_order_id": "7", **alert}


async def test_the_stream_needs_a_token_and_keeps_alive_without_a_broker(
    tmp_path: Path, api_database_url: str, seeded: async_sessionmaker[AsyncSession],
) -> None:
    admin = await add_staff(seeded, role=Role.ADMIN)
    hub = AlertHub(keepalive_s=0.2)
    unreachable = f"mqtt://127.0.0.1:{free_port()}"

    async with (api_server(tmp_path, api_database_url, seeded, unreachable, hub) as base,
                httpx.AsyncClient(base_url=base, timeout=10) as client):
        anonymous = await client.get(STREAM)
        async with client.stream("GET", STREAM, headers=bearer(admin)) as response:
            stream = events(response)
            ready = await anext(stream)
            keepalive = await asyncio.wait_for(anext(stream), timeout=5)

    assert anonymous.status_code == 401
    assert json.loads(ready["data"]) == {"estates": None, "broker_connected": False}
    assert keepalive["comment"].startswith("ping")


def _alert(estate: str, number: int) -> LiveAlert:
    return LiveAlert(estate_id=estate, priority="P2", work_order_id=str(number), body={})


async def test_a_slow_client_loses_its_oldest_alerts_and_they_are_counted() -> None:
    hub = AlertHub(queue_size=2)
    dropped_before = ALERTS_DROPPED._value.get()

    with hub.subscribe(frozenset({"longdi"})) as slow, hub.subscribe(None) as everyone:
        delivered = [hub.publish(_alert("longdi", n)) for n in (1, 2, 3)]
        delivered.append(hub.publish(_alert("songhua", 4)))
        kept = [(await slow.next()).work_order_id for _ in range(slow.queue.qsize())]

        assert delivered == [2, 2, 2, 1]
        assert kept == ["2", "3"]
        assert (slow.dropped, everyone.dropped) == (1, 2)
        assert hub.clients == 2
    assert hub.clients == 0
    assert ALERTS_DROPPED._value.get() - dropped_before == 3


@pytest.mark.parametrize(("topic", "payload"), [
    ("estateops/alerts/longdi/P1", b"{}"),
    ("estateops/alerts/longdi/P1/7/extra", b"{}"),
    ("estateops/alerts//P1/7", b"{}"),
    ("estateops/alerts/longdi/P1/7", b"[1, 2]"),
    ("estateops/alerts/longdi/P1/7", b"\xff"),
])
def test_malformed_alerts_are_not_passed_on(topic: str, payload: bytes) -> None:
    assert parse_alert(topic, payload) is None
