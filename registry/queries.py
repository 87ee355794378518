"""Read helpers over the device registry for the gateway and other callers."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.tables import BridgeLink, Building, Device, Estate, Unit


@dataclass(frozen=True, slots=True)
class DeviceRef:
    """What the gateway needs to know about a registered device.

    `reporting_interval_s` is the registry's own value; None means the profile's default.
    `watched_since`: registered, enabled or out of commissioning since (None: unknown).
    """

    pk: int
    estate_id: str
    device_id: str
    device_type: str
    kind: str | None
    reporting_interval_s: float | None
    enabled: bool
    commissioning: bool = False
    watched_since: datetime | None = None


RefColumns = tuple[int, str, str, str, str | None, float | None, bool, bool, datetime | None]


def _device_refs() -> Select[*RefColumns]:
    return select(
        Device.id, Device.estate_id, Device.device_id, Device.device_type, Device.kind,
        Device.reporting_interval_s, Device.enabled, Device.commissioning, Device.watched_since,
    )


def _ref(row: Row[*RefColumns]) -> DeviceRef:
    """Estate, type and kind are shared by thousands of devices: one string each (interned)
    rather than a copy per row, ~170 bytes a device in the gateway's index."""
    return DeviceRef(
        pk=row.id, estate_id=sys.intern(row.estate_id), device_id=row.device_id,
        device_type=sys.intern(row.device_type),
        kind=None if row.kind is None else sys.intern(row.kind),
        reporting_interval_s=row.reporting_interval_s, enabled=row.enabled,
        commissioning=row.commissioning, watched_since=row.watched_since,
    )


async def load_device_index(session: AsyncSession) -> dict[tuple[str, str], DeviceRef]:
    """Every registered device, keyed by (estate_id, device_id)."""
    result = await session.execute(_device_refs())
    return {(ref.estate_id, ref.device_id): ref for ref in map(_ref, result)}


async def find_device(session: AsyncSession, estate_id: str, device_id: str) -> DeviceRef | None:
    query = _device_refs().where(Device.estate_id == estate_id, Device.device_id == device_id)
    row = (await session.execute(query)).one_or_none()
    return _ref(row) if row is not None else None


async def load_bridge_links(session: AsyncSession, bridge: str) -> dict[str, DeviceRef]:
    """The devices a bridge (`zigbee2mqtt`, `ocpp`) knows, keyed by its name for them."""
    query = (_device_refs().add_columns(BridgeLink.address)
             .join(BridgeLink, BridgeLink.device_pk == Device.id)
             .where(BridgeLink.bridge == bridge))
    result = await session.execute(query)
    return {row.address: _ref(row) for row in result}


@dataclass(frozen=True, slots=True)
class UnitRef:
    """A unit with the words people know it by: 41号楼 2单元."""

    id: int
    building_code: str
    building_name: str
    code: str
    name: str


async def list_estates(session: AsyncSession) -> list[Estate]:
    return list(await session.scalars(select(Estate).order_by(Estate.id)))


async def list_units(session: AsyncSession, estate_id: str) -> list[UnitRef]:
    rows = await session.execute(
        select(Unit.id, Building.code, Building.name, Unit.code, Unit.name)
        .join(Building, Building.id == Unit.building_id)
        .where(Building.estate_id == estate_id).order_by(Building.code, Unit.code))
    return [UnitRef(*row) for row in rows]


async def find_unit(session: AsyncSession, estate_id: str, building_code: str,
                    unit_code: str) -> int | None:
    """The id of a unit named by its codes (b41, u2), or None."""
    found: int | None = await session.scalar(
        select(Unit.id).join(Building, Building.id == Unit.building_id)
        .where(Building.estate_id == estate_id, Building.code == building_code,
               Unit.code == unit_code))
    return found


async def estate_exists(session: AsyncSession, estate_id: str) -> bool:
    return await session.get(Estate, estate_id) is not None
