"""Devices of the registry with their last state, and how many are online, offline or in
anomaly per estate and building."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from core.db import MAX_SQL_INTEGER
from services.api.deps import EstateScope, ProfilesDep, SessionDep, VisibleEstate
from services.api.models import DeviceCountsList, DeviceList, DevicePublic, ErrorPublic
from services.api.queries.devices import (
    DeviceFilters,
    device_counts,
    device_extras,
    device_public,
    list_devices,
    require_device,
)

router = APIRouter(prefix="/api/v1", tags=["devices"])


def device_filters(
    scope: EstateScope,
    estate: Annotated[str | None, Query(description="estate id")] = None,
    building: Annotated[str | None, Query(description="building code")] = None,
    device_type: Annotated[str | None, Query(alias="type", description="device type")] = None,
    online: Annotated[bool | None, Query(description="last reported status")] = None,
    anomaly: Annotated[bool | None, Query(
        description="true: only devices with an active sensor work order")] = None,
    q: Annotated[str | None, Query(max_length=100, description=(
        "part of the device id, name, location or building name"))] = None,
) -> DeviceFilters:
    return DeviceFilters(estate_id=estate, building_code=building, device_type=device_type,
                         online=online, anomaly=anomaly, search=q, estates=scope)


DeviceFiltersDep = Annotated[DeviceFilters, Depends(device_filters)]


@router.get("/devices", response_model=DeviceList)
async def read_devices(
    *,
    session: SessionDep,
    profiles: ProfilesDep,
    filters: DeviceFiltersDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_SQL_INTEGER)] = 0,
) -> DeviceList:
    rows, total = await list_devices(session, filters=filters, limit=limit, offset=offset)
    extras = await device_extras(session, rows)
    return DeviceList(data=[device_public(row, profiles, extras[row[0].id]) for row in rows],
                      count=total)


@router.get("/devices/summary", response_model=DeviceCountsList)
async def read_device_counts(session: SessionDep, filters: DeviceFiltersDep) -> DeviceCountsList:
    """Per estate and building (null: devices outside any building), by estate and building
    name; the same filters as the device list."""
    counts = await device_counts(session, filters=filters)
    return DeviceCountsList(data=counts, count=len(counts))


@router.get(
    "/estates/{estate_id}/devices/{device_id}",
    response_model=DevicePublic,
    responses={404: {"model": ErrorPublic,
                     "description": "device not registered, or estate not in the caller's scope"}},
)
async def read_device(
    estate_id: VisibleEstate, device_id: str, session: SessionDep, profiles: ProfilesDep
) -> DevicePublic:
    row = await require_device(session, estate_id=estate_id, device_id=device_id)
    return device_public(row, profiles, (await device_extras(session, [row]))[row[0].id])
