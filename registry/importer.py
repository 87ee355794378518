"""Import estates, buildings, units and devices into the registry, updating rows in place.

Rows are matched by their natural keys (estate id; building code in its estate; unit code in
its building; device id in its estate), so a re-import keeps primary keys and never
duplicates. Rows the file does not mention are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import Base
from device_profiles import ProfileSet
from registry.estate_file import RegistryImportError, check_zones, load_estate_file, locate
from registry.schema import DeviceIn, EstateFile, EstateIn, ZoneIn
from registry.tables import BridgeLink, Building, Device, Estate, Unit, Zone

__all__ = [
    "ImportSummary",
    "KindCounts",
    "RegistryImportError",
    "import_estates",
    "load_estate_file",
]

RowT = TypeVar("RowT", bound=Base)


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass
class KindCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: Outcome) -> None:
        match outcome:
            case Outcome.CREATED:
                self.created += 1
            case Outcome.UPDATED:
                self.updated += 1
            case Outcome.UNCHANGED:
                self.unchanged += 1

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


@dataclass
class ImportSummary:
    zones: KindCounts = field(default_factory=KindCounts)
    estates: KindCounts = field(default_factory=KindCounts)
    buildings: KindCounts = field(default_factory=KindCounts)
    units: KindCounts = field(default_factory=KindCounts)
    devices: KindCounts = field(default_factory=KindCounts)

    def by_kind(self) -> dict[str, KindCounts]:
        zones = {"zones": self.zones} if self.zones != KindCounts() else {}
        return {**zones, "estates": self.estates, "buildings": self.buildings, "units": self.units,
                "devices": self.devices}

    def __str__(self) -> str:
        return "; ".join(f"{kind} {counts}" for kind, counts in self.by_kind().items())


def _device_problem(device: DeviceIn, profiles: ProfileSet) -> tuple[str, str] | None:
    """(field, problem) if the device does not fit its profile."""
    profile = profiles.get(device.type)
    if profile is None:
        known = ", ".join(profiles.device_types)
        return "type", f"unknown device type {device.type!r}; known types: {known}"
    if profile.kinds and device.kind not in profile.kinds:
        got = f" (got {device.kind!r})" if device.kind is not None else ""
        return "kind", f"device type {device.type} needs kind {' or '.join(profile.kinds)}{got}"
    if not profile.kinds and device.kind is not None:
        return "kind", f"device type {device.type} has no kinds; remove kind {device.kind!r}"
    return None


def check_against_profiles(estates: EstateFile, profiles: ProfileSet) -> None:
    """Every device type must have a profile and every kind must be one of the profile's."""
    seen: set[str] = set()
    for i, estate in enumerate(estates.estates):
        if estate.id in seen:
            where, field_name = locate(estates, ("estates", i, "id"))
            raise RegistryImportError(where, f"{field_name}: estate {estate.id!r} is listed twice")
        seen.add(estate.id)
        for j, device in enumerate(estate.devices):
            problem = _device_problem(device, profiles)
            if problem is not None:
                where, field_name = locate(estates, ("estates", i, "devices", j, problem[0]))
                raise RegistryImportError(where, f"{field_name}: {problem[1]}")


def check_bridge_addresses(estates: EstateFile) -> None:
    """A bridge's name for a device (a Zigbee2MQTT friendly name, an OCPP charge point id)
    stands for one device only, across every estate of the file."""
    seen: dict[tuple[str, str], str] = {}
    for i, estate in enumerate(estates.estates):
        for j, device in enumerate(estate.devices):
            for bridge, address in device.bridge_addresses.items():
                first = seen.setdefault((bridge, address), f"{estate.id}/{device.id}")
                if first != f"{estate.id}/{device.id}":
                    where, name = locate(estates, ("estates", i, "devices", j, bridge))
                    raise RegistryImportError(
                        where, f"{name}: {address!r} already names device {first}")


def _upsert(session: AsyncSession, model: type[RowT], existing: RowT | None,
            values: Mapping[str, Any]) -> tuple[RowT, Outcome]:
    if existing is None:
        row = model(**values)
        session.add(row)
        return row, Outcome.CREATED
    changed = False
    for name, value in values.items():
        if getattr(existing, name) != value:
            setattr(existing, name, value)
            changed = True
    return existing, Outcome.UPDATED if changed else Outcome.UNCHANGED


async def _import_buildings(session: AsyncSession, estate: EstateIn,
                            summary: ImportSummary) -> dict[str, Building]:
    rows = await session.scalars(select(Building).where(Building.estate_id == estate.id))
    existing = {row.code: row for row in rows}
    for building in estate.buildings:
        values = {"estate_id": estate.id, "code": building.code, "name": building.name}
        existing[building.code], outcome = _upsert(
            session, Building, existing.get(building.code), values
        )
        summary.buildings.add(outcome)
    await session.flush()
    return existing


async def _import_units(session: AsyncSession, estate: EstateIn, buildings: Mapping[str, Building],
                        summary: ImportSummary) -> dict[tuple[str, str], Unit]:
    code_of = {row.id: code for code, row in buildings.items()}
    rows = await session.scalars(select(Unit).where(Unit.building_id.in_(code_of)))
    existing = {(code_of[row.building_id], row.code): row for row in rows}
    for building in estate.buildings:
        building_id = buildings[building.code].id
        for unit in building.units:
            key = (building.code, unit.code)
            values = {"building_id": building_id, "code": unit.code, "name": unit.name}
            existing[key], outcome = _upsert(session, Unit, existing.get(key), values)
            summary.units.add(outcome)
    await session.flush()
    return existing


def _device_values(estate_id: str, device: DeviceIn, buildings: Mapping[str, Building],
                   units: Mapping[tuple[str, str], Unit]) -> dict[str, Any]:
    building = buildings[device.building] if device.building is not None else None
    unit = units[(device.building or "", device.unit)] if device.unit is not None else None
    return {
        "estate_id": estate_id, "device_id": device.id, "device_type": device.type,
        "display_name": device.name, "building_id": building.id if building else None,
        "unit_id": unit.id if unit else None, "location": device.location, "kind": device.kind,
        "reporting_interval_s": device.reporting_interval_s, "enabled": device.enabled,
        "commissioning": device.commissioning,
    }


async def _import_devices(session: AsyncSession, estate: EstateIn,
                          buildings: Mapping[str, Building], units: Mapping[tuple[str, str], Unit],
                          summary: ImportSummary) -> None:
    rows = await session.scalars(select(Device).where(Device.estate_id == estate.id))
    existing = {row.device_id: row for row in rows}
    for device in estate.devices:
        values = _device_values(estate.id, device, buildings, units)
        existing[device.id], outcome = _upsert(session, Device, existing.get(device.id), values)
        summary.devices.add(outcome)
    await session.flush()
    for device in estate.devices:
        await _import_links(session, existing[device.id].id, device.bridge_addresses)


async def _import_links(session: AsyncSession, device_pk: int,
                        addresses: Mapping[str, str]) -> None:
    """The device's name on each bridge the file gives; names it does not give are kept."""
    if not addresses:
        return
    rows = await session.scalars(select(BridgeLink).where(BridgeLink.device_pk == device_pk))
    existing = {row.bridge: row for row in rows}
    for bridge, address in addresses.items():
        values = {"device_pk": device_pk, "bridge": bridge, "address": address}
        _upsert(session, BridgeLink, existing.get(bridge), values)
    await session.flush()


async def _import_zones(session: AsyncSession, zones: list[ZoneIn],
                        summary: ImportSummary) -> None:
    for zone in zones:
        values = {"id": zone.id, "name": zone.name}
        _, outcome = _upsert(session, Zone, await session.get(Zone, zone.id), values)
        summary.zones.add(outcome)
    await session.flush()


async def _import_estate(session: AsyncSession, estate: EstateIn, zone: ZoneIn | None,
                         summary: ImportSummary) -> None:
    values: dict[str, Any] = {"id": estate.id, "name": estate.name, "zone": estate.zone,
                              "timezone": estate.timezone}
    if zone is not None:  # a file that lists no zones leaves an estate's zone_id alone
        values |= {"zone": zone.name, "zone_id": zone.id}
    _, outcome = _upsert(session, Estate, await session.get(Estate, estate.id), values)
    summary.estates.add(outcome)
    await session.flush()
    buildings = await _import_buildings(session, estate, summary)
    units = await _import_units(session, estate, buildings, summary)
    await _import_devices(session, estate, buildings, units, summary)


async def import_estates(sessions: async_sessionmaker[AsyncSession], estates: EstateFile,
                         profiles: ProfileSet) -> ImportSummary:
    """Create or update everything in `estates` in one transaction; idempotent."""
    check_against_profiles(estates, profiles)
    check_bridge_addresses(estates)
    check_zones(estates)
    summary = ImportSummary()
    try:
        async with sessions.begin() as session:
            await _import_zones(session, estates.zones, summary)
            for estate in estates.estates:
                await _import_estate(session, estate, estates.zone_of(estate), summary)
    except IntegrityError as exc:
        raise RegistryImportError(
            "database", f"the registry changed during the import, nothing was saved: {exc.orig}"
        ) from exc
    return summary
