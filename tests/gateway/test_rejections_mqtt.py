"""Every rejection reason of the contract, end to end: MQTT in, dead letter with reason out."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store.embedded import EmbeddedStore
from gateway.tables import DeadLetter, DeviceState
from tests.fixtures.mosquitto import Broker
from tests.utils.estates import register_small_estate, topic
from tests.utils.gateway import eventually, gateway_settings, running_gateway

DAY_MS = 86_400_000


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


# (reason, device type, channel, device id or None, payload)
CASES: list[tuple[str, str, str, str | None, bytes]] = [
    ("bad_topic", "leak_sensor", "telemetry", "LEAK_UPPER", b'{"leak": false}'),
    ("bad_topic", "leak_sensor", "config", None, b'{"leak": false}'),
    ("not_json_object", "leak_sensor", "telemetry", None, b"leak=true"),
    ("not_json_object", "leak_sensor", "telemetry", None, b"[true]"),
    ("too_large", "leak_sensor", "telemetry", None,
     json.dumps({"leak": False, "note": "x" * 70_000}).encode()),
    ("wrong_type", "leak_sensor", "telemetry", None, b'{"leak": "yes"}'),
    ("non_finite", "leak_sensor", "telemetry", None, b'{"leak": false, "battery": NaN}'),
    ("out_of_range", "leak_sensor", "telemetry", None, b'{"leak": false, "battery": 150}'),
    ("missing_field", "leak_sensor", "telemetry", None, b'{"battery": 50}'),
    ("invalid_value", "voice_light", "telemetry", None, b'{"state": "dim"}'),
    ("bad_ts", "leak_sensor", "telemetry", None, b'{"leak": false, "ts": "yesterday"}'),
    ("unknown_event", "barrier_gate", "event", None, b'{"event": "explode"}'),
    ("bad_status", "barrier_gate", "status", None, b"maybe"),
    ("unknown_device", "leak_sensor", "telemetry", "ghost-9", b'{"leak": false}'),
    ("type_mismatch", "voice_light", "telemetry", "leak-1", b'{"state": "on"}'),
]


@pytest.fixture
async def estate_id(sessions: async_sessionmaker[AsyncSession]) -> str:
    return await register_small_estate(sessions)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[EmbeddedStore]:
    embedded = EmbeddedStore(tmp_path / "telemetry.sqlite3")
    yield embedded
    await embedded.aclose()


async def _dead_letters(sessions: async_sessionmaker[AsyncSession],
                        estate_id: str) -> list[DeadLetter]:
    async with sessions() as session:
        rows = await session.scalars(
            select(DeadLetter).where(DeadLetter.topic.like(f"estates/{estate_id}/%")))
        return list(rows)


@pytest.mark.parametrize(("reason", "device_type", "channel", "device_id", "payload"), CASES,
                         ids=[f"{case[0]}-{index}" for index, case in enumerate(CASES)])
async def test_rejection_is_dead_lettered_with_its_reason(
        mosquitto: Broker, database_url: str, sessions: async_sessionmaker[AsyncSession],
        estate_id: str, store: EmbeddedStore, tmp_path: Path, reason: str, device_type: str,
        channel: str, device_id: str | None, payload: bytes) -> None:
    settings = gateway_settings(broker_url=mosquitto.url, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id)
    bad_topic = topic(estate_id, device_type, channel, device_id)
    async with (running_gateway(settings, store=store, sessions=sessions),
                aiomqtt.Client(mosquitto.host, mosquitto.port) as device):
        await device.publish(bad_topic, payload, qos=1)
        letters = await eventually(lambda: _dead_letters(sessions, estate_id), bool)

    assert [(letter.reason, letter.topic) for letter in letters] == [(reason, bad_topic)]
    letter = letters[0]
    assert letter.detail
    assert letter.payload_size == len(payload)
    assert letter.payload == payload[:65_536]


async def test_gateway_keeps_going_after_bad_input(
        mosquitto: Broker, database_url: str, sessions: async_sessionmaker[AsyncSession],
        estate_id: str, store: EmbeddedStore, tmp_path: Path) -> None:
    settings = gateway_settings(broker_url=mosquitto.url, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id)
    async with (running_gateway(settings, store=store, sessions=sessions),
                aiomqtt.Client(mosquitto.host, mosquitto.port) as device):
        for _, device_type, channel, device_id, payload in CASES:
            await device.publish(topic(estate_id, device_type, channel, device_id), payload,
                                 qos=1)
        good = {"leak": True, "battery": 88, "ts": _now_ms()}
        await device.publish(topic(estate_id, "leak_sensor"), json.dumps(good), qos=1)

        async def states() -> list[DeviceState]:
            async with sessions() as session:
                return list(await session.scalars(select(DeviceState)
                                                  .where(DeviceState.last_telemetry.is_not(None))))
        stored = await eventually(states, lambda rows: any(
            row.last_telemetry == {"leak": True, "battery": 88} for row in rows))
        letters = await eventually(lambda: _dead_letters(sessions, estate_id),
                                   lambda rows: len(rows) >= len(CASES))

    assert sorted(letter.reason for letter in letters) == sorted(case[0] for case in CASES)
    assert any(row.last_telemetry == {"leak": True, "battery": 88} for row in stored)
