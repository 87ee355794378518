"""Devices of the registry with their last state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from core.db import MAX_SQL_INTEGER
from services.api.deps import EstateScope, ProfilesDep, SessionDep, VisibleEstate
from services.api.models import DeviceList, DevicePublic, ErrorPublic
from services.api.queries.devices import (
    DeviceFilters,
    device_public,
    list_devices,
    require_device,
)

router = APIRouter(prefix="/api/v1", tags=["devices"])


@router.get("/devices", response_model=DeviceList)
async def read_devices(
    *,
    session: SessionDep,
    profiles: ProfilesDep,
    scope: EstateScope,
    estate: Annotated[str | None, Query(description="estate id")] = None,
    building: Annotated[str | None, Query(description="building code")] = None,
    device_type: Annotated[str | None, Query(alias="type", description="device type")] = None,
    online: Annotated[bool | None, Query(description="last reported status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_SQL_INTEGER)] = 0,
) -> DeviceList:
    filters = DeviceFilters(estate_id=estate, building_code=building,
                            device_type=device_type, online=online, estates=scope)
    rows, total = await list_devices(session, filters=filters, limit=limit, offset=offset)
    return DeviceList(data=[device_public(row, profiles) for row in rows], count=total)


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
    return device_public(row, profiles)
