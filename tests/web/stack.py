"""The whole system for browser tests: real Mosquitto (a fixture), a real gateway with its
rules and the work-order intake, the alert notifier publishing on MQTT, and the API with the
staff page served by uvicorn, all on one event loop in a thread of its own (Playwright's
sync API keeps a loop running in the test's thread)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiomqtt
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store import EmbeddedStore
from core.clock import SystemClock
from core.db import create_engine_for, session_factory
from estateops.settings import Settings
from services.api import create_app
from services.workorders.notifier import Notifier
from services.workorders.sink import intake_sink
from tests.fixtures.mosquitto import Broker
from tests.fixtures.processes import free_port, wait_until
from tests.utils.auth import JWT_SECRET
from tests.utils.gateway import gateway_settings, running_gateway

T = TypeVar("T")


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to its end on a loop of its own thread (asyncio.run is refused in the
    test's thread while Playwright runs)."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


def in_database(database_url: str,
                work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Run `work` with sessions of the database, on a loop of its own, from the test thread."""
    async def run() -> T:
        engine = create_engine_for(database_url)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    return run_apart(run())


@dataclass
class Stack:
    """What a test talks to: the page's URL and the broker devices publish to."""

    url: str
    broker: Broker
    estate_id: str


class _Servers:
    def __init__(self, broker: Broker, database_url: str, data_dir: Path, estate_id: str) -> None:
        self.broker, self.database_url, self.data_dir = broker, database_url, data_dir
        self.estate_id = estate_id
        self.port = free_port()
        self.server: uvicorn.Server | None = None
        self.failure: BaseException | None = None

    def api_settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, database_url=self.database_url,
                        auth={"jwt_secret": JWT_SECRET}, mqtt={"url": self.broker.url})

    async def serve(self) -> None:
        engine = create_engine_for(self.database_url)
        sessions = session_factory(engine)
        store = EmbeddedStore(self.data_dir / "telemetry.sqlite3")
        gateway = gateway_settings(broker_url=self.broker.url, database_url=self.database_url,
                                   data_dir=self.data_dir, estate_id=self.estate_id)
        try:
            async with aiomqtt.Client(self.broker.host, self.broker.port,
                                      identifier=f"notifier-{uuid.uuid4().hex[:8]}") as mqtt:
                notifier = Notifier(sessions, mqtt=mqtt,
                                    public_url=f"http://127.0.0.1:{self.port}")
                sink = intake_sink(sessions, notifier, SystemClock())
                async with running_gateway(gateway, store=store, sessions=sessions,
                                           anomalies=sink):
                    app = create_app(self.api_settings(), store=store, sessions=sessions,
                                     notifier=notifier)
                    self.server = uvicorn.Server(uvicorn.Config(
                        app, host="127.0.0.1", port=self.port, log_level="warning",
                        timeout_graceful_shutdown=2))
                    await self.server.serve()
        finally:
            await store.aclose()
            await engine.dispose()
            await _end_leftovers()

    def run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self.serve())
        except Exception as exc:  # noqa: BLE001 - the fixture reports it, not a silent thread
            self.failure = exc
        finally:
            loop.close()


async def _end_leftovers() -> None:
    # As asyncio.run does: end what is left (sse-starlette's shutdown watcher).
    leftovers = asyncio.all_tasks() - {asyncio.current_task()}
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)


@contextmanager
def running_stack(broker: Broker, database_url: str, data_dir: Path,
                  estate_id: str) -> Iterator[Stack]:
    servers = _Servers(broker, database_url, data_dir, estate_id)
    thread = threading.Thread(target=servers.run, name="estateops-stack", daemon=True)
    thread.start()
    try:
        wait_until(lambda: (servers.server is not None and servers.server.started)
                   or not thread.is_alive(), timeout=30, what="the gateway and the API")
        assert thread.is_alive(), f"the stack stopped while starting: {servers.failure!r}"
        yield Stack(f"http://127.0.0.1:{servers.port}", broker, estate_id)
    finally:
        if servers.server is not None:
            servers.server.should_exit = True
        thread.join(timeout=20)


def publish(broker: Broker, topic: str, payload: dict[str, object]) -> None:
    """One device message, QoS 1, from a short-lived client of its own."""
    async def send() -> None:
        async with aiomqtt.Client(broker.host, broker.port,
                                  identifier=f"device-{uuid.uuid4().hex[:8]}") as client:
            await client.publish(topic, json.dumps(payload), qos=1)

    run_apart(send())


def now_ms(offset_s: float = 0.0) -> int:
    return round((time.time() + offset_s) * 1000)


def _serve_embedded(loop: asyncio.AbstractEventLoop, server: uvicorn.Server,
                    store: EmbeddedStore) -> None:
    async def serve_then_close() -> None:
        try:
            await server.serve()
        finally:
            await store.aclose()
            leftovers = asyncio.all_tasks() - {asyncio.current_task()}
            for task in leftovers:
                task.cancel()
            await asyncio.gather(*leftovers, return_exceptions=True)

    try:
        loop.run_until_complete(serve_then_close())
    finally:
        loop.close()


@contextmanager
def api_only(database_url: str, data_dir: Path) -> Iterator[str]:
    """The API and pages alone (no broker, no gateway) on an embedded store, served by uvicorn
    in a thread; yields its base URL."""
    settings = Settings(data_dir=data_dir, database_url=database_url,
                        auth={"jwt_secret": JWT_SECRET}, mqtt={"url": "mqtt://127.0.0.1:9"})
    store = EmbeddedStore(data_dir / "telemetry.sqlite3")
    server = uvicorn.Server(uvicorn.Config(create_app(settings, store=store), host="127.0.0.1",
                                           port=(port := free_port()), log_level="warning",
                                           timeout_graceful_shutdown=3))
    thread = threading.Thread(target=_serve_embedded,
                              args=(asyncio.new_event_loop(), server, store), daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), timeout=30, what="uvicorn")
        assert server.started, "uvicorn stopped before it was serving"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
