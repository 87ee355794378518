"""Registry devices joined with their place and last state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from device_profiles import ProfileSet
from gateway.tables import DeviceState
from registry.tables import Building, Device, Unit
from services.api.errors import DeviceNotFound
from services.api.models import DevicePublic, PlacePublic

# Outer joins: building, unit and state may be None although the generic types do not say so.
DeviceSelect = Select[Device, Building, Unit, DeviceState]
DeviceRow = Row[Device, Building, Unit, DeviceState]


@dataclass(frozen=True, slots=True)
class DeviceFilters:
    estate_id: str | None = None
    building_code: str | None = None
    device_type: str | None = None
    online: bool | None = None
    estates: frozenset[str] | None = None  # the caller's scope; None means every estate


def _joined() -> DeviceSelect:
    return (
        select(Device, Building, Unit, DeviceState)
        .outerjoin(Building, Device.building_id == Building.id)
        .outerjoin(Unit, Device.unit_id == Unit.id)
        .outerjoin(DeviceState, DeviceState.device_pk == Device.id)
    )


def _filtered(filters: DeviceFilters) -> DeviceSelect:
    statement = _joined()
    if filters.estates is not None:
        statement = statement.where(Device.estate_id.in_(filters.estates))
    if filters.estate_id is not None:
        statement = statement.where(Device.estate_id == filters.estate_id)
    if filters.building_code is not None:
        statement = statement.where(Building.code == filters.building_code)
    if filters.device_type is not None:
        statement = statement.where(Device.device_type == filters.device_type)
    if filters.online is not None:
        statement = statement.where(DeviceState.online.is_(filters.online))
    return statement


async def list_devices(
    session: AsyncSession, *, filters: DeviceFilters, limit: int, offset: int
) -> tuple[list[DeviceRow], int]:
    """One page of devices ordered by estate and device id, and how many match in all."""
    statement = _filtered(filters)
    total = await session.scalar(select(func.count()).select_from(statement.subquery()))
    page = statement.order_by(Device.estate_id, Device.device_id).limit(limit).offset(offset)
    rows = (await session.execute(page)).all()
    return list(rows), int(total or 0)


async def find_device_row(
    session: AsyncSession, *, estate_id: str, device_id: str
) -> DeviceRow | None:
    statement = _joined().where(Device.estate_id == estate_id, Device.device_id == device_id)
    return (await session.execute(statement)).first()


def _place(place: Building | Unit | None) -> PlacePublic | None:
    return None if place is None else PlacePublic(code=place.code, name=place.name)


def _reporting_interval(device: Device, profiles: ProfileSet) -> float | None:
    if device.reporting_interval_s is not None:
        return device.reporting_interval_s
    profile = profiles.get(device.device_type)
    return None if profile is None else profile.reporting_interval_s


def _state_fields(state: DeviceState | None) -> dict[str, Any]:
    if state is None:
        return {"online": None, "last_seen_at": None, "last_telemetry": None,
                "last_telemetry_at": None, "last_event": None, "last_event_at": None}
    return {"online": state.online, "last_seen_at": state.last_seen_at,
            "last_telemetry": state.last_telemetry, "last_telemetry_at": state.last_telemetry_at,
            "last_event": state.last_event, "last_event_at": state.last_event_at}


def device_public(row: DeviceRow, profiles: ProfileSet) -> DevicePublic:
    device, building, unit, state = row
    return DevicePublic(
        device_id=device.device_id,
        estate_id=device.estate_id,
        device_type=device.device_type,
        display_name=device.display_name,
        building=_place(building),
        unit=_place(unit),
        location=device.location,
        kind=device.kind,
        enabled=device.enabled,
        reporting_interval_s=_reporting_interval(device, profiles),
        **_state_fields(state),
    )


async def require_device(session: AsyncSession, *, estate_id: str, device_id: str) -> DeviceRow:
    row = await find_device_row(session, estate_id=estate_id, device_id=device_id)
    if row is None:
        raise DeviceNotFound(estate_id, device_id)
    return row
