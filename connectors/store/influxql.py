"""InfluxQL history over HTTP `/query`, shared by the v1 and v2 stores.

InfluxDB 1.x serves `/query` natively; 2.x and 3.x serve it as the v1-compatibility API
(`Authorization: Token ...`, `db` = a database mapped to the bucket). Also the HTTP error
mapping both stores use: which refusals are worth retrying.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors.store.base import Aggregate, HistoryBucket, HistoryQuery, StoreError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Statuses that are not "bad data": the same request may succeed later (or once an
# operator fixes credentials or creates the database), so the points must be kept.
RETRYABLE_CLIENT_STATUSES = frozenset({401, 403, 404, 408, 425, 429})
_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n"})


def status_is_retryable(status: int) -> bool:
    return status >= 500 or status in RETRYABLE_CLIENT_STATUSES


def response_error(response: httpx.Response, action: str) -> StoreError:
    """A StoreError for a refused request, carrying the server's own explanation."""
    detail = response.text.strip()[:1000]
    return StoreError(
        f"{action} failed with HTTP {response.status_code}: {detail}",
        retryable=status_is_retryable(response.status_code),
    )


def transport_error(exc: Exception, action: str) -> StoreError:
    return StoreError(f"{action} failed: {type(exc).__name__}: {exc}", retryable=True)


def quote_identifier(name: str) -> str:
    return '"' + name.translate(_ESCAPES).replace('"', '\\"') + '"'


def quote_string(value: str) -> str:
    return "'" + value.translate(_ESCAPES).replace("'", "\\'") + "'"


def to_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def from_ns(time_ns: int) -> datetime:
    return EPOCH + timedelta(microseconds=time_ns // 1000)


def history_statement(query: HistoryQuery) -> str:
    if query.interval_s <= 0:
        raise ValueError("interval_s must be positive")
    conditions = [f'"device" = {quote_string(query.device_id)}']
    if query.estate_id is not None:
        conditions.append(f'"estate" = {quote_string(query.estate_id)}')
    conditions.append(f"time >= {to_ns(query.start)} AND time < {to_ns(query.end)}")
    return (
        f"SELECT {Aggregate(query.aggregate).value}({quote_identifier(query.field)})"
        f" FROM {quote_identifier(query.measurement)}"
        f" WHERE {' AND '.join(conditions)}"
        f" GROUP BY time({query.interval_s}s) fill(none)"
    )


def _as_float(value: object) -> float | None:
    if isinstance(value, bool | int | float):
        return float(value)
    return None  # last() of a string field has no numeric value


def parse_history(body: Mapping[str, Any]) -> list[HistoryBucket]:
    """Buckets from a `/query?epoch=ns` JSON answer of one statement."""
    if "error" in body:
        raise StoreError(f"query refused: {body['error']}", retryable=False)
    result = (body.get("results") or [{}])[0]
    error = result.get("error")
    if error is not None:
        if str(error).startswith("database not found"):
            return []
        raise StoreError(f"query refused: {error}", retryable=False)
    buckets: list[HistoryBucket] = []
    for series in result.get("series") or []:
        for time_ns, value in series.get("values") or []:
            buckets.append(HistoryBucket(start=from_ns(int(time_ns)), value=_as_float(value)))
    buckets.sort(key=lambda bucket: bucket.start)
    return buckets


async def run_history(client: httpx.AsyncClient, database: str,
                      query: HistoryQuery) -> list[HistoryBucket]:
    """Run the history statement with GET /query on a client that carries the auth."""
    params = {"db": database, "q": history_statement(query), "epoch": "ns"}
    try:
        response = await client.get("/query", params=params)
    except httpx.TransportError as exc:
        raise transport_error(exc, "history query") from exc
    if response.status_code >= 400:
        raise response_error(response, "history query")
    try:
        body = response.json()
    except ValueError as exc:
        raise response_error(response, "history query") from exc
    return parse_history(body)
