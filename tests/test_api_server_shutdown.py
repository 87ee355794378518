"""The API inside a bigger process (`estateops run`, `demo`, `serve`) leaves SIGINT and SIGTERM
to the process, and shuts down completely when its task is cancelled.

uvicorn's own signal handlers used to take both signals while it served: a Ctrl-C stopped
the API first while the gateway, the simulated estate and the broker kept running through
the API's shutdown (the demo took 35-75 s to stop), and a cancelled server skipped its
lifespan's shutdown."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from estateops.api_server import api_server, serve_until_stopped
from estateops.resources import open_resources
from estateops.settings import Settings
from tests.fixtures.processes import free_port


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, api={"port": free_port()},
                    mqtt={"url": "mqtt://127.0.0.1:9"}, auth={"jwt_secret": "x" * 32})


async def _until_answering(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                await client.get(url)
                return
            except httpx.HTTPError:
                await asyncio.sleep(0.05)
    raise AssertionError(f"the API never answered at {url}")


async def test_the_api_leaves_signals_to_the_process_and_shuts_down_when_cancelled(
        tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    handlers_before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    async with open_resources(settings) as resources:
        server = api_server(resources)
        serving = asyncio.create_task(serve_until_stopped(server))
        await _until_answering(f"http://127.0.0.1:{settings.api.port}/healthz")
        handlers_while_serving = {sig: signal.getsignal(sig) for sig in handlers_before}
        app = server.config.loaded_app
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
    assert handlers_while_serving == handlers_before
    assert server.started
    assert not hasattr(_fastapi(app).state, "resources"), "the lifespan's shutdown did not run"


def _fastapi(app: Any) -> FastAPI:
    """The FastAPI app under uvicorn's middleware wrappers."""
    while not isinstance(app, FastAPI):
        app = app.app
    return app
