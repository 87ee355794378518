"""Zigbee2MQTT leak sensors as they ship, through the bridge, into one work order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridges.contract import ContractMessage
from bridges.publish import ContractPublisher
from bridges.settings import Zigbee2MqttSettings
from bridges.zigbee2mqtt.bridge import Zigbee2MqttBridge
from bridges.zigbee2mqtt.profiles import load_z2m_profiles
from bridges.zigbee2mqtt.translate import parse_availability, parse_topic, translate_state
from connectors.mqtt import MqttSettings
from device_profiles import load_profiles
from tests.bridges.support import (
    device_row,
    gateway_with_work_orders,
    register_linked_estate,
    work_orders_of,
)
from tests.fixtures.mosquitto import Broker
from tests.utils.gateway import eventually

RECORDING = Path(__file__).parents[1] / "data" / "zigbee2mqtt" / "sjcgq11lm_leak.jsonl"
NAME = "b41/u2/water_meter"


@dataclass(frozen=True)
class Recorded:
    topic: str
    payload: str
    retain: bool


def recording(base: str = "zigbee2mqtt") -> list[Recorded]:
    lines = RECORDING.read_text(encoding="utf-8").splitlines()
    messages = [Recorded(**json.loads(line)) for line in lines if line.strip()]
    return [Recorded(base + m.topic.removeprefix("zigbee2mqtt"), m.payload, m.retain)
            for m in messages]


def test_topics_with_slashed_names_and_the_coordinators_own_topics() -> None:
    found = parse_topic("zigbee2mqtt/b41/u2/water_meter", "zigbee2mqtt")
    assert found is not None
    assert (found.friendly_name, found.kind) == (NAME, "state")
    availability = parse_topic(f"zigbee2mqtt/{NAME}/availability", "zigbee2mqtt")
    assert availability is not None
    assert (availability.friendly_name, availability.kind) == (NAME, "availability")
    for ignored in ("zigbee2mqtt/bridge/state", "zigbee2mqtt/bridge/devices",
                    f"zigbee2mqtt/{NAME}/set", f"zigbee2mqtt/{NAME}/get", "other/b41"):
        assert parse_topic(ignored, "zigbee2mqtt") is None, ignored


def test_availability_in_both_of_zigbee2mqtts_payload_styles() -> None:
    assert parse_availability(b'{"state":"online"}') is True
    assert parse_availability(b'{"state":"offline"}') is False
    assert parse_availability(b"offline") is False  # legacy_availability_payload
    assert parse_availability(b'{"state":"sleepy"}') is None
    assert parse_availability(b"[1]") is None


def test_the_recorded_state_becomes_contract_telemetry() -> None:
    profile = load_z2m_profiles()["leak_sensor"]
    wet = [m for m in recording() if m.topic == f"zigbee2mqtt/{NAME}"][1]
    assert translate_state(wet.payload.encode(), profile) == {
        "leak": True, "battery": 100, "battery_low": False, "voltage": 3025,
        "temperature_c": 25, "linkquality": 112,
    }
    stamped = json.dumps({"water_leak": False, "last_seen": "2026-11-22T08:00:00+08:00"})
    assert translate_state(stamped.encode(), profile) == {
        "ts": "2026-11-22T08:00:00+08:00", "leak": False}
    assert translate_state(b"[]", profile) is None


@contextlib.asynccontextmanager
async def running_bridge(mosquitto: Broker, sessions: async_sessionmaker[AsyncSession],
                         base: str) -> AsyncIterator[Zigbee2MqttBridge]:
    mqtt = MqttSettings(url=mosquitto.url)
    settings = Zigbee2MqttSettings(base_topic=base, client_id=f"z2m-{uuid.uuid4().hex[:8]}")
    async with ContractPublisher(mqtt, f"z2m-pub-{uuid.uuid4().hex[:8]}") as publish:
        bridge = Zigbee2MqttBridge(settings, mqtt, sessions=sessions, publish=publish,
                                   z2m_profiles=load_z2m_profiles(), profiles=load_profiles())
        task = asyncio.create_task(bridge.run(), name="zigbee2mqtt-under-test")
        try:
            await asyncio.wait_for(bridge.connected.wait(), timeout=15)
            yield bridge
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def replay(mosquitto: Broker, messages: list[Recorded]) -> None:
    async with aiomqtt.Client(mosquitto.host, mosquitto.port) as coordinator:
        for message in messages:
            await coordinator.publish(message.topic, message.payload, qos=1,
                                      retain=message.retain)


async def test_a_recorded_zigbee2mqtt_leak_becomes_exactly_one_work_order(
        mosquitto: Broker, database_url: str, sessions: async_sessionmaker[AsyncSession],
        tmp_path: Path) -> None:
    base = f"z2m-{uuid.uuid4().hex[:8]}"
    estate_id = await register_linked_estate(sessions, **{"leak-1": {"zigbee2mqtt": NAME}})
    pk = (await device_row(sessions, estate_id, "leak-1")).id
    async with (gateway_with_work_orders(mosquitto, database_url, sessions, tmp_path,
                                         estate_id),
                running_bridge(mosquitto, sessions, base)):
        await replay(mosquitto, recording(base))
        orders = await eventually(lambda: work_orders_of(sessions, pk), lambda found: found)
        await asyncio.sleep(1.0)  # the second wet report must not open another
        orders = await work_orders_of(sessions, pk)

    assert [(order.rule, order.estate_id) for order in orders] == [("water_leak", estate_id)]


async def test_availability_becomes_the_devices_retained_contract_status(
        mosquitto: Broker, sessions: async_sessionmaker[AsyncSession]) -> None:
    base = f"z2m-{uuid.uuid4().hex[:8]}"
    estate_id = await register_linked_estate(sessions, **{"leak-1": {"zigbee2mqtt": NAME}})
    status_topic = f"estates/{estate_id}/leak_sensor/leak-1/status"
    async with running_bridge(mosquitto, sessions, base):
        await replay(mosquitto, [Recorded(f"{base}/{NAME}/availability",
                                          '{"state":"offline"}', True)])
        await asyncio.sleep(0.5)
    async with aiomqtt.Client(mosquitto.host, mosquitto.port) as reader:
        await reader.subscribe(status_topic, qos=1)
        message = await asyncio.wait_for(anext(aiter(reader.messages)), timeout=10)
    assert (message.payload, message.retain) == (b"offline", True)


async def test_a_battery_sensor_waits_25_hours_unless_the_estate_file_says_otherwise(
        mosquitto: Broker, sessions: async_sessionmaker[AsyncSession]) -> None:
    estate_id = await register_linked_estate(sessions, **{
        "leak-1": {"zigbee2mqtt": NAME},
        "light-1": {"zigbee2mqtt": "stair_light"},  # no zigbee2mqtt profile for the type
    })
    published: list[ContractMessage] = []

    async def publish(message: ContractMessage) -> None:
        published.append(message)

    now = [0.0]
    bridge = Zigbee2MqttBridge(Zigbee2MqttSettings(), MqttSettings(url=mosquitto.url),
                               sessions=sessions, publish=publish,
                               z2m_profiles=load_z2m_profiles(), profiles=load_profiles(),
                               monotonic=lambda: now[0])
    await bridge.refresh()
    assert (await device_row(sessions, estate_id, "leak-1")).reporting_interval_s == 30000.0
    assert (await device_row(sessions, estate_id, "light-1")).reporting_interval_s is None

    assert await bridge.check_silence() == []
    now[0] = 25 * 3600 - 1
    assert await bridge.check_silence() == []
    now[0] = 25 * 3600
    assert await bridge.check_silence() == [NAME]
    assert await bridge.check_silence() == []  # once
    assert [(m.topic, m.payload, m.retain) for m in published] == [
        (f"estates/{estate_id}/leak_sensor/leak-1/status", "offline", True)]


async def test_an_interval_of_the_estate_files_own_is_kept(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    estate_id = await register_linked_estate(sessions, **{
        "leak-1": {"zigbee2mqtt": NAME, "reporting_interval_s": 3600}})

    async def publish(message: ContractMessage) -> None:
        raise AssertionError(message)

    bridge = Zigbee2MqttBridge(Zigbee2MqttSettings(), MqttSettings(), sessions=sessions,
                               publish=publish, z2m_profiles=load_z2m_profiles(),
                               profiles=load_profiles())
    await bridge.refresh()
    assert (await device_row(sessions, estate_id, "leak-1")).reporting_interval_s == 3600.0
