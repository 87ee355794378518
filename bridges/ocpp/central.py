"""The OCPP 1.6J central system: chargers connect to ws://host:port/ocpp/<charge point id>.

The charge point id (OCPP's chargeBoxIdentity, the last part of the URL) must be linked to a
registered device (`ocpp: <id>` in the estate file); any other is refused at the handshake
with 404. A charger whose WebSocket closes or stops answering pings goes offline.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator
from http import HTTPStatus
from urllib.parse import unquote, urlsplit

import websockets
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from bridges import contract
from bridges.contract import Publish
from bridges.links import LinkDirectory
from bridges.metrics import BRIDGE_MESSAGES, OCPP_CONNECTED
from bridges.ocpp.session import ChargePointSession
from bridges.settings import OcppSettings
from registry.queries import DeviceRef

log = logging.getLogger(__name__)
logging.getLogger("bridges.ocpp.wire").setLevel(logging.WARNING)
BRIDGE = "ocpp"
SUBPROTOCOL = Subprotocol("ocpp1.6")


def charge_point_id(path: str) -> str:
    """The last segment of the request path: /ocpp/CP-0042 -> CP-0042."""
    return unquote(urlsplit(path).path.rstrip("/").rsplit("/", 1)[-1])


class CentralSystem:
    def __init__(self, settings: OcppSettings, *, sessions: async_sessionmaker[AsyncSession],
                 publish: Publish) -> None:
        self.settings = settings
        self._publish = publish
        self.links = LinkDirectory(sessions, BRIDGE, refresh_s=settings.registry_refresh_s)
        self._transactions = itertools.count(int(time.time()) % 1_000_000_000)
        self.connected: dict[str, ChargePointSession] = {}
        self.port: int | None = None
        self.listening = asyncio.Event()

    async def _device(self, path: str) -> DeviceRef | None:
        return await self.links.find(charge_point_id(path))

    async def _process_request(self, connection: ServerConnection,
                               request: Request) -> Response | None:
        if await self._device(request.path) is None:
            BRIDGE_MESSAGES.labels(bridge=BRIDGE, outcome="unknown_device").inc()
            log.warning("refused unknown charge point %r", charge_point_id(request.path))
            return connection.respond(HTTPStatus.NOT_FOUND, "unknown charge point\n")
        return None

    async def _handle(self, connection: ServerConnection) -> None:
        name = charge_point_id(connection.request.path if connection.request else "")
        device = await self._device(connection.request.path if connection.request else "")
        if device is None:
            return
        session = ChargePointSession(
            name, connection, device=device, publish=self._publish,
            heartbeat_interval_s=self.settings.heartbeat_interval_s,
            next_transaction_id=lambda: next(self._transactions))
        self.connected[name] = session
        OCPP_CONNECTED.inc()
        try:
            await session.start()
        except websockets.ConnectionClosed:
            log.info("charge point %s disconnected", name)
        finally:
            OCPP_CONNECTED.dec()
            if self.connected.get(name) is session:
                del self.connected[name]
            await self._went_offline(device)

    async def _went_offline(self, device: DeviceRef) -> None:
        try:
            await self._publish(contract.status(device, False))
        except Exception:
            log.exception("could not publish that %s went offline", device.device_id)

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[Server]:
        """Listen (port 0: any free one, then in `self.port`) until the context ends."""
        async with serve(self._handle, self.settings.host, self.settings.port,
                         subprotocols=[SUBPROTOCOL],
                         process_request=self._process_request) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self.listening.set()
            log.info("OCPP 1.6J central system on ws://%s:%s/ocpp/<charge point id>",
                     self.settings.host, self.port)
            yield server

    async def run(self) -> None:
        await self.links.refresh()
        async with self.serving():
            await asyncio.Future()
