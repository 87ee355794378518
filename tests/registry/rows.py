"""Read the registry back as plain values keyed by natural keys, to compare imports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from registry.tables import Building, Device, Estate, Unit


@dataclass(frozen=True)
class RegistryRows:
    estates: dict[str, tuple[Any, ...]]
    buildings: dict[tuple[str, str], tuple[Any, ...]]
    units: dict[tuple[int, str], tuple[Any, ...]]
    devices: dict[tuple[str, str], tuple[Any, ...]]

    def device(self, estate_id: str, device_id: str) -> dict[str, Any]:
        fields = ("pk", "device_type", "display_name", "building_id", "unit_id", "location",
                  "kind", "reporting_interval_s", "enabled")
        return dict(zip(fields, self.devices[(estate_id, device_id)], strict=True))


async def read_registry(sessions: async_sessionmaker[AsyncSession]) -> RegistryRows:
    async with sessions() as session:
        estates = await session.scalars(select(Estate))
        buildings = await session.scalars(select(Building))
        units = await session.scalars(select(Unit))
        devices = await session.scalars(select(Device))
        return RegistryRows(
            estates={e.id: (e.name, e.zone, e.timezone) for e in estates},
            buildings={(b.estate_id, b.code): (b.id, b.name) for b in buildings},
            units={(u.building_id, u.code): (u.id, u.name) for u in units},
            devices={
                (d.estate_id, d.device_id): (
                    d.id, d.device_type, d.display_name, d.building_id, d.unit_id, d.location,
                    d.kind, d.reporting_interval_s, d.enabled,
                )
                for d in devices
            },
        )
