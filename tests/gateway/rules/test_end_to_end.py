"""A leak through real Mosquitto and a running gateway becomes one anomaly, and dry clears it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store.embedded import EmbeddedStore
from core.vocabulary import Anomaly, AnomalyKind, Priority, Team
from tests.fixtures.mosquitto import Broker
from tests.gateway.rules.support import CollectingSink
from tests.utils.estates import register_small_estate, topic
from tests.utils.gateway import eventually, gateway_settings, running_gateway


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[EmbeddedStore]:
    embedded = EmbeddedStore(tmp_path / "telemetry.sqlite3")
    yield embedded
    await embedded.aclose()


async def test_a_leak_raises_one_anomaly_and_dry_clears_it(
        mosquitto: Broker, database_url: str, sessions: async_sessionmaker[AsyncSession],
        store: EmbeddedStore, tmp_path: Path) -> None:
    estate_id = await register_small_estate(sessions)
    settings = gateway_settings(broker_url=mosquitto.url, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id)
    sink = CollectingSink()

    async def water_leak() -> list[Anomaly]:
        return sink.of("water_leak")

    async with (running_gateway(settings, store=store, sessions=sessions, anomalies=sink),
                aiomqtt.Client(mosquitto.host, mosquitto.port) as device):
        leak_topic = topic(estate_id, "leak_sensor")
        for seq in (1, 2):  # the second wet report is the same episode
            await device.publish(leak_topic, json.dumps({"seq": seq, "leak": True}), qos=1)
        raised = await eventually(water_leak, lambda found: len(found) >= 1)
        await device.publish(leak_topic, json.dumps({"seq": 3, "leak": False}), qos=1)
        both = await eventually(water_leak, lambda found: len(found) >= 2)

    assert [one.kind for one in both] == [AnomalyKind.RAISED, AnomalyKind.CLEARED]
    anomaly = raised[0]
    assert (anomaly.estate_id, anomaly.device_id, anomaly.device_type) == (
        estate_id, "leak-1", "leak_sensor")
    assert (anomaly.priority, anomaly.team, anomaly.title_zh) == (Priority.P1, Team.REPAIR, "漏水")
    assert [reading["values"]["leak"] for reading in anomaly.readings] == [True]
    assert [reading["seq"] for reading in both[1].readings] == [3]
    assert [one.rule for one in sink.received] == ["water_leak", "water_leak"]
