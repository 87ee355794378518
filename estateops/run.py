"""Long-running processes: the gateway, the API, or both in one process."""

from __future__ import annotations

import asyncio
import logging

import uvicorn
from prometheus_client import start_http_server

from estateops.resources import Resources, open_resources
from estateops.settings import Settings
from gateway.runner import Gateway, build_gateway

log = logging.getLogger(__name__)


def gateway_for(resources: Resources) -> Gateway:
    return build_gateway(resources.settings, profiles=resources.profiles,
                         store=resources.store, sessions=resources.sessions)


def api_server(resources: Resources) -> uvicorn.Server:
    from services.api.main import create_app

    settings = resources.settings
    app = create_app(settings, store=resources.store, sessions=resources.sessions)
    config = uvicorn.Config(app, host=settings.api.host, port=settings.api.port,
                            log_level=settings.log_level.lower(), lifespan="on")
    return uvicorn.Server(config)


async def run_gateway(settings: Settings) -> None:
    async with open_resources(settings) as resources:
        if settings.gateway.metrics_port is not None:
            # prometheus_client serves from its own thread, off the event loop.
            start_http_server(settings.gateway.metrics_port)
        await gateway_for(resources).run()


async def run_api(settings: Settings) -> None:
    async with open_resources(settings) as resources:
        await api_server(resources).serve()


async def serve_until_stopped(server: uvicorn.Server) -> None:
    """Run uvicorn as one task among others; cancelling the task shuts it down cleanly."""
    try:
        await server.serve()
    except asyncio.CancelledError:
        server.should_exit = True
        raise
