"""Device flavours behind bridges: a Zigbee2MQTT coordinator with an Aqara SJCGQ11LM leak
sensor, and an OCPP 1.6J charge point. They speak their own protocols, not the contract,
so the demo shows EstateOps's bridges at work next to contract-native devices.

Each has one scripted fault: the leak sensor gets wet (`leak_at_s`), the charger reports
`Faulted` with errorCode `HighTemperature` (`fault_at_s`); times are simulated seconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass

import aiomqtt
import websockets
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from connectors.mqtt import BrokerOptions
from registry.schema import DeviceIn, EstateFile
from simulators.ocpp_charge_point import SimChargePoint, connected_charge_point

log = logging.getLogger(__name__)

Z2M_LEAK = DeviceIn(id="z2m-b1-u1-leak", type="leak_sensor",
                    name="1号楼1单元 厨房漏水传感器 (Zigbee)", building="b1", unit="u1",
                    location="1号楼1单元 厨房", zigbee2mqtt="b1/u1/kitchen_leak")
OCPP_CHARGER = DeviceIn(id="ocpp-car-01", type="ev_charger", kind="car",
                        name="北门停车场 OCPP 汽车充电桩", building="b1", location="北门地面停车场",
                        ocpp="CP-LONGDI-01")


def with_bridged_devices(estate: EstateFile) -> EstateFile:
    """The estate with the two bridged devices added to its first estate (building b1)."""
    first = estate.estates[0]
    devices = [*first.devices, Z2M_LEAK, OCPP_CHARGER]
    return EstateFile(estates=[first.model_copy(update={"devices": devices}),
                               *estate.estates[1:]])


@dataclass(frozen=True, kw_only=True)
class BridgedFlavours:
    broker: BrokerOptions
    ocpp_url: str  # ws://host:port/ocpp
    speed: float = 1.0
    faults: bool = True
    base_topic: str = "zigbee2mqtt"
    leak_at_s: float = 150.0
    leak_for_s: float = 1800.0
    report_every_s: float = 300.0
    fault_at_s: float = 360.0
    fault_for_s: float = 600.0
    meter_every_s: float = 60.0


class _SimTime:
    def __init__(self, speed: float) -> None:
        self._speed = speed
        self._start = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._start) * self._speed

    async def until(self, sim_s: float) -> None:
        await asyncio.sleep(max(0.0, (sim_s - self.now()) / self._speed))


def sjcgq11lm_state(*, wet: bool, reports: int) -> str:
    """An Aqara SJCGQ11LM's state as Zigbee2MQTT publishes it (every exposed property)."""
    return json.dumps({"battery": 100, "battery_low": False, "device_temperature": 24,
                       "linkquality": 110 - reports % 7, "power_outage_count": 2,
                       "trigger_count": 0, "voltage": 3025, "water_leak": wet},
                      separators=(",", ":"))


async def run_zigbee2mqtt_leak_sensor(config: BridgedFlavours) -> None:
    """A coordinator publishing the sensor's availability and state until cancelled; it
    reconnects when the broker goes away, keeping the scripted timeline."""
    clock = _SimTime(config.speed)
    while True:
        try:
            await _coordinator(config, clock)
        except aiomqtt.MqttError as exc:
            _raise_if_cancelled()
            log.info("simulated zigbee2mqtt: broker connection lost (%s); reconnecting", exc)
            await asyncio.sleep(1.0)


async def _coordinator(config: BridgedFlavours, clock: _SimTime) -> None:
    broker = config.broker
    topic = f"{config.base_topic}/{Z2M_LEAK.zigbee2mqtt}"
    async with aiomqtt.Client(broker.host, broker.port, username=broker.username,
                              password=broker.password, timeout=30,
                              identifier=f"{broker.client_id}-zigbee2mqtt") as client:
        await client.publish(f"{topic}/availability", '{"state":"online"}', qos=1, retain=True)
        reports = 0
        while True:
            now = clock.now()
            wet = config.faults and config.leak_at_s <= now < config.leak_at_s + config.leak_for_s
            await client.publish(topic, sjcgq11lm_state(wet=wet, reports=reports), qos=1)
            _raise_if_cancelled()  # 3.11's wait_for (inside publish) can swallow a cancel
            reports += 1
            await clock.until(_next_report(now, config))


def _raise_if_cancelled() -> None:
    """A client may turn a cancellation into its own error, or (Python 3.11's wait_for)
    swallow it: stop all the same."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _next_report(now: float, config: BridgedFlavours) -> float:
    """The next report: the interval's, or sooner when the leak starts or ends (a change)."""
    changes = [config.leak_at_s, config.leak_at_s + config.leak_for_s] if config.faults else []
    return min([now + config.report_every_s, *[at for at in changes if at > now]])


async def run_ocpp_charger(config: BridgedFlavours) -> None:
    """A charge point that boots, charges a car and, as scripted, overheats; reconnects if
    the central system is not there yet."""
    assert OCPP_CHARGER.ocpp is not None
    while True:
        try:
            async with connected_charge_point(config.ocpp_url, OCPP_CHARGER.ocpp) as charger:
                await _charge(charger, config, _SimTime(config.speed))
        except (TimeoutError, OSError, websockets.WebSocketException) as exc:
            _raise_if_cancelled()
            log.info("simulated charger: central system not reachable (%s); retrying", exc)
            await asyncio.sleep(1.0)


async def _charge(charger: SimChargePoint, config: BridgedFlavours, clock: _SimTime) -> None:
    await charger.boot()
    await charger.status(1, ChargePointStatus.available)
    transaction = await charger.start_transaction(1, "RESIDENT-0412", meter_start=120_000)
    await charger.status(1, ChargePointStatus.charging)
    energy_wh, faulted, tick = 120_000.0, False, 0
    while True:
        tick += 1
        await clock.until(tick * config.meter_every_s)
        energy_wh += 7_000 * config.meter_every_s / 3600
        await charger.meter(1, energy_wh=energy_wh, power_w=7_000,
                            temperature_c=38.0 + min(tick, 10), transaction_id=transaction)
        _raise_if_cancelled()  # 3.11's wait_for (inside call) can swallow a cancel
        in_fault = config.faults and (
            config.fault_at_s <= clock.now() < config.fault_at_s + config.fault_for_s)
        if in_fault != faulted:
            faulted = in_fault
            await _fault(charger, faulted)


async def _fault(charger: SimChargePoint, faulted: bool) -> None:
    if faulted:
        await charger.status(1, ChargePointStatus.faulted, ChargePointErrorCode.high_temperature)
    else:
        await charger.status(1, ChargePointStatus.charging)


async def run_bridged_flavours(config: BridgedFlavours) -> None:
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(run_zigbee2mqtt_leak_sensor(config), name="sim-zigbee2mqtt")
        tasks.create_task(run_ocpp_charger(config), name="sim-ocpp-charger")
