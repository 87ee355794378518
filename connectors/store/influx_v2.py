"""InfluxDB 2.x/3.x (and VictoriaMetrics) store: influxdb-client's async v2 write API.

History goes through the InfluxQL v1-compatibility `/query` endpoint with a token; the
`database` (a DBRP mapping) defaults to the bucket name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import aiohttp
import httpx
from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.client.influxdb_client_async import InfluxDBClientAsync

from connectors.store.base import HistoryBucket, HistoryQuery, StoreError
from connectors.store.influxql import run_history, status_is_retryable, transport_error
from connectors.store.line_protocol import render_points
from core.telemetry import Point


class InfluxV2Store:
    def __init__(self, url: str, org: str, bucket: str, token: str, *,
                 database: str | None = None, timeout_s: float = 10) -> None:
        self.url = url
        self.org = org
        self.bucket = bucket
        self.database = database or bucket
        self._token = token
        self._timeout_s = timeout_s
        self._writer: InfluxDBClientAsync | None = None
        self._http = httpx.AsyncClient(
            base_url=url, timeout=timeout_s, headers={"Authorization": f"Token {token}"}
        )

    async def write(self, points: Sequence[Point]) -> None:
        if not points:
            return
        write_api = self._write_client().write_api()
        # Rendering a batch is tens of milliseconds of CPU: keep it off the event loop.
        lines = await asyncio.to_thread(render_points, points)
        try:
            # The client's default precision is ns, the same as Point.time_ns.
            await write_api.write(bucket=self.bucket, org=self.org, record=lines)
        except InfluxDBError as exc:
            raise _refusal(exc) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise transport_error(exc, "write") from exc

    async def history(self, query: HistoryQuery) -> list[HistoryBucket]:
        return await run_history(self._http, self.database, query)

    async def ping(self) -> bool:
        try:
            response = await self._http.get("/ping")
        except httpx.TransportError:
            return False
        return response.status_code == 204

    async def aclose(self) -> None:
        if self._writer is not None:
            await self._writer.close()  # type: ignore[no-untyped-call]
            self._writer = None
        await self._http.aclose()

    def _write_client(self) -> InfluxDBClientAsync:
        # The async client must be built inside a running event loop, so not in __init__.
        if self._writer is None:
            self._writer = InfluxDBClientAsync(
                url=self.url, token=self._token, org=self.org,
                timeout=int(self._timeout_s * 1000),
            )
        return self._writer


def _refusal(exc: InfluxDBError) -> StoreError:
    status = getattr(exc, "status", None)
    message = getattr(exc, "message", None) or str(exc)
    if isinstance(message, bytes):
        message = message.decode(errors="replace")
    if not isinstance(status, int) or status == 0:
        # Raised before any request went out: waiting will not change it.
        return StoreError(f"write failed: {message}", retryable=False)
    return StoreError(f"write failed with HTTP {status}: {message}",
                      retryable=status_is_retryable(status))
