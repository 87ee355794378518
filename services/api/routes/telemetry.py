"""Aggregated telemetry history of one device, read from the telemetry store."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query

from connectors.store.base import Aggregate, HistoryBucket, HistoryQuery, StoreError, TelemetryStore
from services.api.deps import ApiConfigDep, ProfilesDep, SessionDep, StoreDep, VisibleEstate
from services.api.errors import InvalidQuery, StoreUnavailable
from services.api.history import DEFAULT_INTERVAL, build_history_query
from services.api.models import ErrorPublic, HistoryBucketPublic, HistoryPublic, IsoDatetime
from services.api.queries.devices import require_device

router = APIRouter(prefix="/api/v1", tags=["telemetry"])


async def fetch_history(
    store: TelemetryStore, query: HistoryQuery, *, timeout_s: float
) -> list[HistoryBucket]:
    try:
        async with asyncio.timeout(timeout_s):
            return await store.history(query)
    except StoreError as exc:
        raise StoreUnavailable(f"telemetry store failed: {exc}") from exc
    except TimeoutError as exc:
        raise StoreUnavailable(f"telemetry store did not answer within {timeout_s}s") from exc


@router.get(
    "/estates/{estate_id}/devices/{device_id}/history",
    response_model=HistoryPublic,
    responses={
        404: {"model": ErrorPublic,
              "description": "device not registered, or estate not in the caller's scope"},
        422: {"model": ErrorPublic, "description": "field, range or interval not valid"},
        503: {"model": ErrorPublic, "description": "telemetry store unavailable"},
    },
)
async def read_history(
    *,
    estate_id: VisibleEstate,
    device_id: str,
    session: SessionDep,
    profiles: ProfilesDep,
    store: StoreDep,
    settings: ApiConfigDep,
    field: Annotated[str, Query(description="numeric or boolean telemetry field")],
    start: Annotated[IsoDatetime | None, Query(description="default: end - 24 h")] = None,
    end: Annotated[IsoDatetime | None, Query(description="default: now")] = None,
    interval: Annotated[str, Query(description="bucket width: seconds, or 30s/5m/1h/1d")] = (
        DEFAULT_INTERVAL
    ),
    agg: Annotated[Aggregate, Query(description="aggregate per bucket")] = Aggregate.MEAN,
) -> HistoryPublic:
    device = (await require_device(session, estate_id=estate_id, device_id=device_id))[0]
    profile = profiles.get(device.device_type)
    if profile is None:
        raise InvalidQuery(f"device type {device.device_type!r} has no profile, so no history")
    query = build_history_query(
        profile=profile, estate_id=estate_id, device_id=device_id, field=field,
        start=start, end=end, interval=interval, aggregate=agg,
    )
    buckets = await fetch_history(store, query, timeout_s=settings.influx.timeout_s)
    return HistoryPublic(
        estate_id=estate_id, device_id=device_id, measurement=query.measurement,
        field=query.field, aggregate=query.aggregate, interval_s=query.interval_s,
        start=query.start, end=query.end, count=len(buckets),
        data=[HistoryBucketPublic(start=bucket.start, value=bucket.value) for bucket in buckets],
    )
