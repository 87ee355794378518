"""OCPP 1.6J chargers through the central system, with a simulated charge point written with
the same `ocpp` package, over a real WebSocket on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
import websockets
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridges.ocpp.central import CentralSystem, charge_point_id
from bridges.ocpp.translate import meter_readings, status_values
from bridges.publish import ContractPublisher
from bridges.settings import OcppSettings
from connectors.mqtt import MqttSettings
from simulators.ocpp_charge_point import connected_charge_point
from tests.bridges.support import (
    device_row,
    gateway_with_work_orders,
    register_linked_estate,
    work_orders_of,
)
from tests.fixtures.mosquitto import Broker
from tests.utils.gateway import eventually


def test_status_and_error_codes_map_to_the_contract() -> None:
    assert status_values(connector_id=1, status="Faulted", error_code="HighTemperature") == {
        "status": "faulted", "fault_code": "HighTemperature", "connector": 1}
    assert status_values(connector_id=2, status="SuspendedEV", error_code="NoError") == {
        "status": "charging", "fault_code": None, "connector": 2}
    assert status_values(connector_id=0, status="Available", error_code="OtherError",
                         vendor_error_code="E42")["fault_code"] == "OtherError:E42"


def test_meter_values_in_their_units_become_kwh_kw_and_celsius() -> None:
    reading = {"timestamp": "2026-11-22T00:00:00Z", "sampled_value": [
        {"value": "12345", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"},
        {"value": "2300", "measurand": "Power.Active.Import", "unit": "W", "phase": "L1"},
        {"value": "158", "measurand": "Temperature", "unit": "Fahrenheit"},
        {"value": "230", "measurand": "Voltage", "unit": "V"},
    ]}
    assert meter_readings(1, [reading]) == [{
        "ts": "2026-11-22T00:00:00Z", "connector": 1, "energy_kwh": 12.345, "power_kw": 7.2,
        "temperature_c": 70.0}]


def test_the_charge_point_id_is_the_last_part_of_the_url() -> None:
    assert charge_point_id("/ocpp/CP-0042") == "CP-0042"
    assert charge_point_id("/steve/websocket/CentralSystemService/CP%3A7/") == "CP:7"


@contextlib.asynccontextmanager
async def central_system(mosquitto: Broker,
                         sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[str]:
    """The central system on a free loopback port; yields the chargers' base URL."""
    settings = OcppSettings(host="127.0.0.1", port=0)
    mqtt = MqttSettings(url=mosquitto.url)
    async with ContractPublisher(mqtt, f"ocpp-{uuid.uuid4().hex[:8]}") as publish:
        central = CentralSystem(settings, sessions=sessions, publish=publish)
        task = asyncio.create_task(central.run(), name="ocpp-under-test")
        try:
            await asyncio.wait_for(central.listening.wait(), timeout=10)
            yield f"ws://127.0.0.1:{central.port}/ocpp"
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_a_high_temperature_status_notification_becomes_exactly_one_work_order(
        mosquitto: Broker, database_url: str, sessions: async_sessionmaker[AsyncSession],
        tmp_path: Path) -> None:
    cp_id = f"CP-{uuid.uuid4().hex[:6]}"
    estate_id = await register_linked_estate(sessions, **{"car-1": {"ocpp": cp_id}})
    pk = (await device_row(sessions, estate_id, "car-1")).id
    async with (gateway_with_work_orders(mosquitto, database_url, sessions, tmp_path,
                                         estate_id),
                central_system(mosquitto, sessions) as url,
                connected_charge_point(url, cp_id) as charger):
        await charger.boot()
        await charger.status(1, ChargePointStatus.available)
        await charger.status(1, ChargePointStatus.faulted, ChargePointErrorCode.high_temperature)
        orders = await eventually(lambda: work_orders_of(sessions, pk), lambda found: found)
        await charger.status(1, ChargePointStatus.faulted, ChargePointErrorCode.high_temperature)
        await asyncio.sleep(1.0)  # the repeated notification must not open another
        orders = await work_orders_of(sessions, pk)

    assert [(order.rule, order.estate_id) for order in orders] == [("fault", estate_id)]


async def contract_messages(reader: aiomqtt.Client, count: int) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    async with asyncio.timeout(15):
        async for message in reader.messages:
            text = message.payload.decode() if isinstance(message.payload, bytes) else ""
            channel = str(message.topic).rsplit("/", 1)[-1]
            found.append((channel, text if channel == "status" else json.loads(text)))
            if len(found) == count:
                return found
    return found


async def test_a_charging_session_in_contract_messages_and_offline_when_the_socket_drops(
        mosquitto: Broker, sessions: async_sessionmaker[AsyncSession]) -> None:
    cp_id = f"CP-{uuid.uuid4().hex[:6]}"
    estate_id = await register_linked_estate(sessions, **{"car-1": {"ocpp": cp_id}})
    async with (aiomqtt.Client(mosquitto.host, mosquitto.port) as reader,
                central_system(mosquitto, sessions) as url):
        await reader.subscribe(f"estates/{estate_id}/ev_charger/car-1/+", qos=1)
        async with connected_charge_point(url, cp_id) as charger:
            boot = await charger.boot()
            await charger.heartbeat()
            transaction = await charger.start_transaction(1, "RESIDENT-0412", meter_start=1000)
            await charger.meter(1, energy_wh=2500, power_w=7100, temperature_c=48.5,
                                transaction_id=transaction)
            await charger.stop_transaction(transaction, meter_stop=3000)
        messages = await contract_messages(reader, 6)

    assert getattr(boot, "status", None) == "Accepted"
    assert [channel for channel, _ in messages] == [
        "status", "status", "event", "telemetry", "event", "status"]
    assert (messages[0][1], messages[-1][1]) == ("online", "offline")
    start, reading, stop = messages[2][1], messages[3][1], messages[4][1]
    assert (start["event"], start["session_id"], start["energy_kwh"]) == (
        "session_start", str(transaction), 1.0)
    assert (stop["event"], stop["session_id"], stop["energy_kwh"]) == (
        "session_stop", str(transaction), 3.0)
    assert {k: reading[k] for k in ("energy_kwh", "power_kw", "temperature_c", "connector")} == {
        "energy_kwh": 2.5, "power_kw": 7.1, "temperature_c": 48.5, "connector": 1}


async def test_an_unknown_charge_point_is_refused_at_the_handshake(
        mosquitto: Broker, sessions: async_sessionmaker[AsyncSession]) -> None:
    await register_linked_estate(sessions, **{"car-1": {"ocpp": "CP-KNOWN"}})
    async with central_system(mosquitto, sessions) as url:
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with connected_charge_point(url, "CP-STRANGER"):
                pass
    assert refused.value.response.status_code == 404
