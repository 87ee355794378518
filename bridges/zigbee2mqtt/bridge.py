"""The Zigbee2MQTT bridge: `<base>/#` in, contract messages under `estates/...` out."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridges import contract
from bridges.contract import Publish
from bridges.links import LinkDirectory
from bridges.metrics import BRIDGE_MESSAGES
from bridges.settings import Zigbee2MqttSettings
from bridges.zigbee2mqtt.profiles import Z2mProfile
from bridges.zigbee2mqtt.silence import align_reporting_intervals, intervals_to_set
from bridges.zigbee2mqtt.translate import Z2mTopic, parse_availability, parse_topic, translate_state
from connectors.mqtt import MqttSettings, consume
from device_profiles import ProfileSet
from registry.queries import DeviceRef

log = logging.getLogger(__name__)
BRIDGE = "zigbee2mqtt"


class Zigbee2MqttBridge:
    """Translates one Zigbee2MQTT instance's devices that the registry links to a device."""

    def __init__(self, settings: Zigbee2MqttSettings, mqtt: MqttSettings, *,
                 sessions: async_sessionmaker[AsyncSession], publish: Publish,
                 z2m_profiles: Mapping[str, Z2mProfile], profiles: ProfileSet,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._mqtt = mqtt
        self._sessions = sessions
        self._publish = publish
        self._z2m = z2m_profiles
        self._profiles = profiles
        self._monotonic = monotonic
        self.links = LinkDirectory(sessions, BRIDGE, refresh_s=settings.registry_refresh_s)
        self._last_heard: dict[str, float] = {}
        self._timed_out: set[str] = set()
        self.connected = asyncio.Event()

    def _count(self, outcome: str) -> None:
        BRIDGE_MESSAGES.labels(bridge=BRIDGE, outcome=outcome).inc()

    async def handle(self, topic: str, payload: bytes, _received_ns: int = 0) -> None:
        parsed = parse_topic(topic, self.settings.base_topic)
        if parsed is None:
            self._count("ignored")
            return
        device = await self.links.find(parsed.friendly_name)
        profile = self._z2m.get(device.device_type) if device is not None else None
        if device is None or profile is None:
            self._count("unknown_device")
            log.debug("no registered device for zigbee2mqtt name %r", parsed.friendly_name)
            return
        await self._translate(parsed, payload, device, profile)

    async def _translate(self, parsed: Z2mTopic, payload: bytes, device: DeviceRef,
                         profile: Z2mProfile) -> None:
        if parsed.kind == "availability":
            online = parse_availability(payload)
            if online is None:
                self._count("unreadable")
                return
            self._timed_out.discard(parsed.friendly_name)
            await self._publish(contract.status(device, online))
        else:
            values = translate_state(payload, profile)
            if values is None:
                self._count("unreadable")
                return
            await self._heard(parsed.friendly_name, device)
            await self._publish(contract.telemetry(device, values))
        self._count("translated")

    async def _heard(self, name: str, device: DeviceRef) -> None:
        self._last_heard[name] = self._monotonic()
        if name in self._timed_out:  # back after our own timeout: online again
            self._timed_out.discard(name)
            await self._publish(contract.status(device, True))

    async def check_silence(self) -> list[str]:
        """Mark offline, once, every linked device silent longer than its profile's timeout
        (as Zigbee2MQTT's availability would, in case it is switched off there)."""
        now = self._monotonic()
        timed_out: list[str] = []
        for name, device in self.links.links.items():
            profile = self._z2m.get(device.device_type)
            heard = self._last_heard.setdefault(name, now)
            if profile is None or name in self._timed_out:
                continue
            if now - heard >= profile.offline_timeout_s:
                self._timed_out.add(name)
                timed_out.append(name)
                await self._publish(contract.status(device, False))
        return timed_out

    async def refresh(self) -> None:
        links = await self.links.refresh()
        await align_reporting_intervals(
            self._sessions, intervals_to_set(links, self._z2m, self._profiles))

    async def _every(self, seconds: float, step: Callable[[], object]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                result = step()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("zigbee2mqtt bridge: periodic step failed")

    async def run(self) -> None:
        await self.refresh()
        await self.check_silence()  # starts every linked device's clock
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(consume(
                self._mqtt, self.handle, self.connected,
                subscription=f"{self.settings.base_topic}/#", qos=1,
                client_id=self.settings.client_id, persistent=False,
            ), name="zigbee2mqtt-consume")
            tasks.create_task(self._every(self.settings.registry_refresh_s, self.refresh),
                              name="zigbee2mqtt-registry")
            tasks.create_task(self._every(self.settings.offline_check_s, self.check_silence),
                              name="zigbee2mqtt-silence")
