"""The simulator's bridged flavours speak their own protocols, and the bridges understand
them: the Zigbee2MQTT coordinator's scripted leak and the OCPP charger's scripted
HighTemperature fault arrive as contract messages."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import aiomqtt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridges.ocpp import CentralSystem
from bridges.publish import ContractPublisher
from bridges.settings import OcppSettings
from bridges.zigbee2mqtt.profiles import load_z2m_profiles
from bridges.zigbee2mqtt.translate import parse_availability, parse_topic, translate_state
from connectors.mqtt import BrokerOptions, MqttSettings
from device_profiles import load_profiles
from registry.importer import import_estates
from simulators.bridged import (
    OCPP_CHARGER,
    Z2M_LEAK,
    BridgedFlavours,
    run_ocpp_charger,
    run_zigbee2mqtt_leak_sensor,
    with_bridged_devices,
)
from simulators.estate import build_estate
from tests.fixtures.mosquitto import Broker

FAST = 600.0  # simulated seconds per real second


def flavours(mosquitto: Broker, *, ocpp_url: str = "ws://127.0.0.1:1/ocpp",
             base_topic: str = "zigbee2mqtt") -> BridgedFlavours:
    return BridgedFlavours(broker=BrokerOptions(host=mosquitto.host, port=mosquitto.port,
                                                client_id=f"sim-{uuid.uuid4().hex[:6]}"),
                           ocpp_url=ocpp_url, base_topic=base_topic, speed=FAST)


@contextlib.asynccontextmanager
async def running(job: Callable[[], Coroutine[Any, Any, None]]) -> AsyncIterator[None]:
    task = asyncio.create_task(job())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def first(reader: aiomqtt.Client, wanted: Callable[[str, bytes], bool]) -> bytes:
    async with asyncio.timeout(15):
        async for message in reader.messages:
            payload = message.payload if isinstance(message.payload, bytes) else b""
            if wanted(str(message.topic), payload):
                return payload
    raise AssertionError("no such message")


async def test_the_zigbee2mqtt_flavour_reports_its_scripted_leak(mosquitto: Broker) -> None:
    base = f"z2m-{uuid.uuid4().hex[:6]}"
    config = flavours(mosquitto, base_topic=base)
    profile = load_z2m_profiles()["leak_sensor"]

    def wet(topic: str, payload: bytes) -> bool:
        parsed = parse_topic(topic, base)
        values = translate_state(payload, profile) if parsed and parsed.kind == "state" else None
        return bool(values and values.get("leak") is True)

    async with aiomqtt.Client(mosquitto.host, mosquitto.port) as reader:
        await reader.subscribe(f"{base}/#", qos=1)
        async with running(lambda: run_zigbee2mqtt_leak_sensor(config)):
            availability = await first(reader, lambda t, _: t.endswith("/availability"))
            payload = await first(reader, wet)
    assert parse_availability(availability) is True
    assert parse_topic(f"{base}/{Z2M_LEAK.zigbee2mqtt}", base) is not None
    assert json.loads(payload)["water_leak"] is True


async def test_the_ocpp_flavour_overheats_through_the_central_system(
        mosquitto: Broker, sessions: async_sessionmaker[AsyncSession]) -> None:
    estate = with_bridged_devices(build_estate(buildings=1, estate_id=f"t{uuid.uuid4().hex[:8]}"))
    await import_estates(sessions, estate, load_profiles())
    mqtt = MqttSettings(url=mosquitto.url)
    topic = f"estates/{estate.estates[0].id}/ev_charger/{OCPP_CHARGER.id}/telemetry"
    async with (ContractPublisher(mqtt, f"ocpp-{uuid.uuid4().hex[:6]}") as publish,
                aiomqtt.Client(mosquitto.host, mosquitto.port) as reader):
        central = CentralSystem(OcppSettings(host="127.0.0.1", port=0), sessions=sessions,
                                publish=publish)
        await reader.subscribe(topic, qos=1)
        async with running(central.run):
            await asyncio.wait_for(central.listening.wait(), timeout=10)
            config = flavours(mosquitto, ocpp_url=f"ws://127.0.0.1:{central.port}/ocpp")
            async with running(lambda: run_ocpp_charger(config)):
                payload = await first(reader, lambda _, p: b"HighTemperature" in p)
    assert json.loads(payload) | {"ts": None} == {
        "ts": None, "status": "faulted", "fault_code": "HighTemperature", "connector": 1}
