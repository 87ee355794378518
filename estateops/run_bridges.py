"""Run the bridges (`estateops zigbee2mqtt`, `estateops ocpp`), alone or inside the demo."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from prometheus_client import start_http_server
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridges.ocpp import CentralSystem
from bridges.publish import ContractPublisher
from bridges.zigbee2mqtt import Zigbee2MqttBridge, load_z2m_profiles
from core.db import open_database
from device_profiles import ProfileSet, load_profiles
from estateops.migrate import ensure_schema
from estateops.settings import Settings


@dataclass(frozen=True)
class Bridges:
    zigbee2mqtt: Zigbee2MqttBridge
    ocpp: CentralSystem


@contextlib.asynccontextmanager
async def open_bridges(settings: Settings, sessions: async_sessionmaker[AsyncSession],
                       profiles: ProfileSet) -> AsyncIterator[Bridges]:
    """Both bridges, each with its own broker connection for what it republishes."""
    z2m, ocpp = settings.bridges.zigbee2mqtt, settings.bridges.ocpp
    async with (ContractPublisher(settings.mqtt, f"{z2m.client_id}-pub") as z2m_publish,
                ContractPublisher(settings.mqtt, f"{ocpp.client_id}-pub") as ocpp_publish):
        yield Bridges(
            zigbee2mqtt=Zigbee2MqttBridge(z2m, settings.mqtt, sessions=sessions,
                                          publish=z2m_publish, z2m_profiles=load_z2m_profiles(),
                                          profiles=profiles),
            ocpp=CentralSystem(ocpp, sessions=sessions, publish=ocpp_publish),
        )


@contextlib.asynccontextmanager
async def _bridges(settings: Settings, metrics_port: int | None) -> AsyncIterator[Bridges]:
    profiles = load_profiles(settings.profile_dirs)
    await ensure_schema(settings.effective_database_url)
    if metrics_port is not None:
        start_http_server(metrics_port)  # its own thread, off the event loop
    async with (open_database(settings.effective_database_url) as sessions,
                open_bridges(settings, sessions, profiles) as bridges):
        yield bridges


async def run_zigbee2mqtt(settings: Settings, metrics_port: int | None = None) -> None:
    async with _bridges(settings, metrics_port) as bridges:
        await bridges.zigbee2mqtt.run()


async def run_ocpp(settings: Settings, metrics_port: int | None = None) -> None:
    async with _bridges(settings, metrics_port) as bridges:
        await bridges.ocpp.run()
