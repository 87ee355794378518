"""`estateops demo`: the whole system on embedded defaults, with a simulated estate."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from estateops.api_server import api_server, serve_until_stopped
from estateops.broker import embedded_broker
from estateops.demo_crew import CREW, put_crew_on_duty
from estateops.demo_inbox import demo_inbox
from estateops.demo_qr import demo_qr_link
from estateops.resources import open_resources
from estateops.run import open_operations
from estateops.run_bridges import Bridges, open_bridges
from estateops.settings import Settings
from registry.importer import import_estates
from registry.schema import EstateFile
from services.auth.passwords import hash_password_async
from simulators.bridged import BridgedFlavours, run_bridged_flavours, with_bridged_devices
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
    ocpp_port: int = 9000
    crew_password: str | None = None  # the demo crew's password (None: a random one)


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


def _with_ocpp_on_loopback(settings: Settings, options: DemoOptions) -> Settings:
    port = _port_or_free(options.ocpp_port)
    return settings.with_changes({"bridges": {"ocpp": {"host": "127.0.0.1", "port": port}}})


def _with_public_url(settings: Settings) -> Settings:
    """Residents' links in the demo's notices point at this machine, unless set."""
    if settings.api.public_url:
        return settings
    return settings.with_changes({"api": {"public_url": settings.api.local_base()}})


def _banner(settings: Settings, devices: int, qr_link: str | None = None) -> str:
    api = f"http://{settings.api.host}:{settings.api.port}"
    store = settings.influx.url or f"embedded ({settings.embedded_telemetry_path})"
    return "\n".join([
        "",
        "EstateOps demo is running",
        f"  staff console (phone)     {api}/",
        f"  manager figures (5341)    {api}/manager",
        f"  devices, live last state  {api}/api/v1/devices",
        f"  administration (admins)   {api}/admin",
        f"  API docs                  {api}/docs",
        f"  dead letters              {api}/api/v1/dead-letters",
        f"  metrics                   {api}/metrics",
        f"  MQTT broker               {settings.mqtt.url}",
        f"  telemetry store           {store}",
        f"  registry                  {settings.effective_database_url}",
        f"  simulated devices         {devices}, two of them behind bridges:",
        f"    Zigbee2MQTT leak sensor  topic {settings.bridges.zigbee2mqtt.base_topic}/#",
        f"    OCPP 1.6J charger        ws://{settings.bridges.ocpp.host}:"
        f"{settings.bridges.ocpp.port}/ocpp/<charge point id>",
        f"  on duty (📨 = an alert)   {', '.join(member.username for member in CREW)}",
        *([f"  residents' QR link        {qr_link}"] if qr_link else []),
        "Press Ctrl-C to stop.",
        "",
    ])


async def _crew_on_duty(sessions: async_sessionmaker[AsyncSession], estate: EstateFile,
                        options: DemoOptions, inbox: str) -> None:
    password = options.crew_password or secrets.token_urlsafe(12)
    await put_crew_on_duty(sessions, [entry.id for entry in estate.estates], inbox=inbox,
                           alert_urls=options.alert_urls,
                           password_hash=await hash_password_async(password),
                           now=datetime.now(UTC))
    log.info("on duty: %s", ", ".join(member.display_name for member in CREW))


def _flavours(settings: Settings, options: DemoOptions) -> BridgedFlavours:
    """A Zigbee2MQTT leak sensor and an OCPP charger, talking to the demo's bridges."""
    ocpp = settings.bridges.ocpp
    return BridgedFlavours(
        broker=settings.mqtt.broker_options(client_id="demo-sim"),
        ocpp_url=f"ws://{ocpp.host}:{ocpp.port}/ocpp", speed=options.speed,
        faults=options.faults, base_topic=settings.bridges.zigbee2mqtt.base_topic)


def _start_bridges(tasks: asyncio.TaskGroup, bridges: Bridges, settings: Settings,
                   options: DemoOptions) -> list[asyncio.Task[None]]:
    return [
        tasks.create_task(bridges.zigbee2mqtt.run(), name="zigbee2mqtt"),
        tasks.create_task(bridges.ocpp.run(), name="ocpp"),
        tasks.create_task(run_bridged_flavours(_flavours(settings, options)),
                          name="bridged-devices"),
    ]


async def run_demo(given: Settings, options: DemoOptions) -> None:
    estate = build_estate(buildings=options.buildings)
    registered = with_bridged_devices(estate)
    devices = sum(len(entry.devices) for entry in registered.estates)
    on_loopback = _with_public_url(_with_ocpp_on_loopback(given, options))
    async with (_broker_for(on_loopback, options) as settings,
                open_resources(settings) as resources,
                open_operations(resources, owns_process=True) as operations,
                open_bridges(settings, resources.sessions, resources.profiles) as bridges,
                demo_inbox() as inbox):
        summary = await import_estates(resources.sessions, registered, resources.profiles)
        log.info("registry: %s", summary)
        await _crew_on_duty(resources.sessions, estate, options, inbox)
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
            bridged = _start_bridges(tasks, bridges, settings, options)
            print(_banner(settings, devices, qr_link), flush=True)
            stats = await simulate(config)
            log.info("simulation ended: %s", stats)
            server.should_exit = True
            for task in (operations_task, *bridged):
                task.cancel()
