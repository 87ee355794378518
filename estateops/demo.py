"""`estateops demo`: the whole system on embedded defaults, with a simulated estate."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Team
from estateops.broker import embedded_broker
from estateops.demo_qr import demo_qr_link
from estateops.resources import open_resources
from estateops.run import api_server, open_operations, serve_until_stopped
from estateops.settings import Settings
from registry.importer import import_estates
from registry.schema import EstateFile
from services.workorders.recipients import add_alert_route
from simulators.estate import build_estate
from simulators.faults import FaultPlan, default_plan
from simulators.runner import SimulationConfig, simulate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoOptions:
    buildings: int = 60
    speed: float = 1.0
    mqtt_port: int = 1883
    faults: bool = True
    duration_s: float | None = None
    alert_urls: tuple[str, ...] = ()


def _port_or_free(port: int, host: str = "127.0.0.1") -> int:
    """The wanted port if it is free, else any free one (a system mosquitto may hold 1883)."""
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
            return port
        except OSError:
            probe.bind((host, 0))
            free: int = probe.getsockname()[1]
            return free


@contextlib.asynccontextmanager
async def _broker_for(settings: Settings, options: DemoOptions) -> AsyncIterator[Settings]:
    """The settings to run with: as given if they name a broker, else the same settings
    (validated anew) pointing at an embedded broker that runs meanwhile."""
    if "url" in settings.mqtt.model_fields_set:
        yield settings  # a broker was configured: use it
        return
    port = _port_or_free(options.mqtt_port)
    async with embedded_broker(port=port) as url:
        yield settings.with_changes({"mqtt": {"url": url}})


def _banner(settings: Settings, devices: int, qr_link: str | None = None) -> str:
    api = f"http://{settings.api.host}:{settings.api.port}"
    store = settings.influx.url or f"embedded ({settings.embedded_telemetry_path})"
    return "\n".join([
        "",
        "EstateOps demo is running",
        f"  devices, live last state  {api}/api/v1/devices",
        f"  API docs                  {api}/docs",
        f"  dead letters              {api}/api/v1/dead-letters",
        f"  metrics                   {api}/metrics",
        f"  MQTT broker               {settings.mqtt.url}",
        f"  telemetry store           {store}",
        f"  registry                  {settings.effective_database_url}",
        f"  simulated devices         {devices}",
        *([f"  residents' QR link        {qr_link}"] if qr_link else []),
        "Press Ctrl-C to stop.",
        "",
    ])


async def _route_alerts(sessions: async_sessionmaker[AsyncSession], estate: EstateFile,
                        urls: tuple[str, ...]) -> None:
    async with sessions.begin() as session:
        for entry in estate.estates:
            for team in Team:
                for url in urls:
                    await add_alert_route(session, estate_id=entry.id, team=team, apprise_url=url)


async def run_demo(given: Settings, options: DemoOptions) -> None:
    estate = build_estate(buildings=options.buildings)
    devices = sum(len(entry.devices) for entry in estate.estates)
    async with (_broker_for(given, options) as settings, open_resources(settings) as resources,
                open_operations(resources) as operations):
        summary = await import_estates(resources.sessions, estate, resources.profiles)
        log.info("registry: %s", summary)
        await _route_alerts(resources.sessions, estate, options.alert_urls)
        qr_link = await demo_qr_link(resources.sessions, estate, settings)
        gateway = operations.gateway
        server = api_server(resources, operations.notifier)
        config = SimulationConfig(
            broker=settings.mqtt.broker_options(client_id="demo-sim"), estate=estate,
            speed=options.speed, duration_s=options.duration_s,
            faults=default_plan(estate) if options.faults else FaultPlan.none(),
        )
        async with asyncio.TaskGroup() as tasks:
            operations_task = tasks.create_task(operations.run(), name="operations")
            tasks.create_task(serve_until_stopped(server), name="api")
            await asyncio.wait_for(gateway.connected.wait(), timeout=30)
            print(_banner(settings, devices, qr_link), flush=True)
            stats = await simulate(config)
            log.info("simulation ended: %s", stats)
            server.should_exit = True
            operations_task.cancel()
