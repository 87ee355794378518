"""Where a work order is: building, unit and location, checked against the registry."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from registry.tables import Building, Device, Unit
from services.workorders.errors import InvalidReference


@dataclass(frozen=True, slots=True)
class Place:
    building_id: int | None = None
    unit_id: int | None = None
    location: str | None = None


async def device_place(session: AsyncSession, device_pk: int, estate_id: str) -> Place:
    """Where a registered device is; InvalidReference if it is not in `estate_id`."""
    device = await session.get(Device, device_pk)
    if device is None or device.estate_id != estate_id:
        raise InvalidReference("device_pk", device_pk, f"no such device in estate {estate_id}")
    return Place(device.building_id, device.unit_id, device.location or device.display_name)


async def place_of(session: AsyncSession, estate_id: str, given: Place, *,
                   device_pk: int | None) -> Place:
    """The place of a reported work order: what was given, completed from the device and unit,
    and refused if any part belongs to another estate or contradicts another part."""
    place = given
    if device_pk is not None:
        at_device = await device_place(session, device_pk, estate_id)
        place = Place(given.building_id or at_device.building_id,
                      given.unit_id or at_device.unit_id, given.location or at_device.location)
    building_id = place.building_id
    if place.unit_id is not None:
        unit = await session.get(Unit, place.unit_id)
        if unit is None:
            raise InvalidReference("unit_id", place.unit_id, "no such unit")
        if building_id not in (None, unit.building_id):
            raise InvalidReference("unit_id", place.unit_id, f"not in building {building_id}")
        building_id = unit.building_id
    if building_id is not None:
        building = await session.get(Building, building_id)
        if building is None or building.estate_id != estate_id:
            raise InvalidReference("building_id", building_id,
                                   f"no such building in estate {estate_id}")
    return Place(building_id, place.unit_id, place.location)
