"""InfluxDB 1.x store: line protocol over POST /write, history over InfluxQL /query."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import httpx

from connectors.store.base import HistoryBucket, HistoryQuery
from connectors.store.influxql import quote_identifier, response_error, run_history, transport_error
from connectors.store.line_protocol import render_points
from core.telemetry import Point

log = logging.getLogger(__name__)


class InfluxV1Store:
    """Writes to one database, creating it on first use (CREATE DATABASE is idempotent)."""

    def __init__(self, url: str, database: str, username: str | None = None,
                 password: str | None = None, timeout_s: float = 10) -> None:
        self.url = url
        self.database = database
        auth = httpx.BasicAuth(username, password or "") if username else None
        self._client = httpx.AsyncClient(base_url=url, auth=auth, timeout=timeout_s)
        self._database_ready = False
        self._database_lock = asyncio.Lock()

    async def write(self, points: Sequence[Point]) -> None:
        if not points:
            return
        await self._ensure_database()
        # Rendering a batch is tens of milliseconds of CPU: keep it off the event loop.
        body = (await asyncio.to_thread(render_points, points)).encode()
        params = {"db": self.database, "precision": "ns"}
        try:
            response = await self._client.post("/write", params=params, content=body)
        except httpx.TransportError as exc:
            raise transport_error(exc, "write") from exc
        if response.status_code == 404:
            self._database_ready = False  # dropped behind our back: create it again
        if response.status_code >= 300:
            raise response_error(response, "write")

    async def history(self, query: HistoryQuery) -> list[HistoryBucket]:
        return await run_history(self._client, self.database, query)

    async def ping(self) -> bool:
        try:
            response = await self._client.get("/ping")
        except httpx.TransportError:
            return False
        return response.status_code == 204

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _ensure_database(self) -> None:
        if self._database_ready:
            return
        async with self._database_lock:
            if not self._database_ready:
                await self._create_database()
                self._database_ready = True

    async def _create_database(self) -> None:
        statement = f"CREATE DATABASE {quote_identifier(self.database)}"
        try:
            response = await self._client.post("/query", params={"q": statement})
        except httpx.TransportError as exc:
            raise transport_error(exc, "create database") from exc
        if response.status_code in (401, 403):
            # Not an admin: the database may well exist; the write will tell.
            log.warning("cannot create database %s: %s", self.database, response.text.strip())
            return
        if response.status_code >= 300 or '"error"' in response.text:
            raise response_error(response, "create database")
