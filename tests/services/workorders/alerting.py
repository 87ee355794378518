"""Test plumbing for alerts: a Notifier on the real broker, and a listener on the alert topics."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiomqtt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.workorders.notifier import Notifier
from tests.fixtures.mosquitto import Broker

MARKER = "marker"


@dataclass
class AlertListener:
    """Collects alert messages; `settled` waits for a marker published after the alerts, so
    every alert the Notifier published before it has arrived (one client, QoS 1: in order)."""

    estate_id: str
    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    marker_seen: asyncio.Event = field(default_factory=asyncio.Event)

    async def settled(self, notifier_client: aiomqtt.Client) -> list[tuple[str, dict[str, Any]]]:
        self.marker_seen.clear()
        await notifier_client.publish(f"estateops/alerts/{self.estate_id}/{MARKER}", b"{}",
                                      qos=1)
        await asyncio.wait_for(self.marker_seen.wait(), timeout=15)
        return list(self.messages)


@contextlib.asynccontextmanager
async def alert_listener(broker: Broker, estate_id: str) -> AsyncIterator[AlertListener]:
    listener = AlertListener(estate_id)
    async with aiomqtt.Client(broker.host, broker.port,
                              identifier=f"listener-{uuid.uuid4().hex[:8]}") as client:
        await client.subscribe(f"estateops/alerts/{estate_id}/#", qos=1)

        async def collect() -> None:
            async for message in client.messages:
                topic = str(message.topic)
                if topic.endswith(f"/{MARKER}"):
                    listener.marker_seen.set()
                elif isinstance(message.payload, bytes):
                    listener.messages.append((topic, json.loads(message.payload)))

        task = asyncio.create_task(collect(), name="alert-listener")
        try:
            yield listener
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@contextlib.asynccontextmanager
async def broker_notifier(broker: Broker, sessions: async_sessionmaker[AsyncSession]
                          ) -> AsyncIterator[tuple[Notifier, aiomqtt.Client]]:
    """A Notifier with its own persistent MQTT client, as the gateway would hold one."""
    async with aiomqtt.Client(broker.host, broker.port,
                              identifier=f"notifier-{uuid.uuid4().hex[:8]}") as client:
        yield Notifier(sessions, mqtt=client), client
