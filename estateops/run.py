"""Long-running processes: the gateway (with rules, work-order intake and escalation), the API,
or all of it in one process.

uvicorn and FastAPI are imported where the API is built (estateops/api_server.py):
`estateops gateway` never loads them (tests/test_gateway_imports.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import start_http_server

from connectors.mqtt import Publisher
from core.clock import SystemClock
from estateops.resources import Resources, open_resources
from estateops.settings import Settings, get_settings
from gateway.runner import Gateway, build_gateway, partition_mqtt
from services.workorders.escalation import run_escalation
from services.workorders.notifier import Notifier
from services.workorders.sink import intake_sink

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)


@dataclass
class Operations:
    """Ingest plus what turns anomalies into work orders and escalates their deadlines."""

    resources: Resources
    gateway: Gateway
    notifier: Notifier

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.gateway.run(), name="gateway")
            tasks.create_task(
                run_escalation(self.resources.sessions, self.notifier, SystemClock()),
                name="escalation")


@asynccontextmanager
async def open_operations(resources: Resources, *,
                          owns_process: bool = False) -> AsyncIterator[Operations]:
    settings = resources.settings
    # A partitioned gateway's own client id: two connections with one id evict each other.
    client_id = partition_mqtt(settings).client_id
    publisher = Publisher(settings.mqtt, client_id=f"{client_id}-alerts")
    notifier = Notifier(resources.sessions, mqtt=publisher,
                        public_url=settings.api.link_base)
    gateway = build_gateway(
        settings, profiles=resources.profiles, store=resources.store,
        sessions=resources.sessions,
        anomalies=intake_sink(resources.sessions, notifier, SystemClock()),
        owns_process=owns_process)
    try:
        yield Operations(resources, gateway, notifier)
    finally:
        await publisher.aclose()


async def run_gateway(settings: Settings) -> None:
    async with open_resources(settings) as resources, \
            open_operations(resources, owns_process=True) as operations:
        if settings.gateway.metrics_port is not None:
            # prometheus_client serves from its own thread, off the event loop.
            start_http_server(settings.gateway.metrics_port)
        await operations.run()


async def run_api(settings: Settings) -> None:
    from estateops.api_server import api_server, serve_until_stopped

    async with open_resources(settings) as resources:
        publisher = Publisher(settings.mqtt, client_id=f"{settings.mqtt.client_id}-api-alerts")
        try:
            notifier = Notifier(resources.sessions, mqtt=publisher,
                                public_url=settings.api.link_base)
            await serve_until_stopped(api_server(resources, notifier))
        finally:
            await publisher.aclose()


def app_from_environment() -> FastAPI:
    """For `uvicorn --factory estateops.run:app_from_environment`: the API on the
    environment's settings, opening its own database and store."""
    from services.api.main import create_app

    return create_app(get_settings())
