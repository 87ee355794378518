"""Issuing, revoking and checking QR links; every function takes the caller's session and
never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.tables import Building, Device, Estate, Unit
from services.residents.errors import LinkRefused
from services.residents.signing import verify
from services.residents.tables import QrLink


class PlaceNotFound(LookupError):
    """An operator named a building, unit or device the registry does not have."""


@dataclass(frozen=True, slots=True)
class PlaceRef:
    """A place named by its registry codes (what an operator types)."""

    estate_id: str
    building: str | None = None
    unit: str | None = None
    device: str | None = None


async def _building(session: AsyncSession, estate_id: str, code: str) -> Building:
    building = await session.scalar(select(Building).where(
        Building.estate_id == estate_id, Building.code == code))
    if building is None:
        raise PlaceNotFound(f"no building {code!r} in estate {estate_id!r}")
    return building


async def _unit(session: AsyncSession, building: Building, code: str) -> Unit:
    unit = await session.scalar(select(Unit).where(Unit.building_id == building.id,
                                                   Unit.code == code))
    if unit is None:
        raise PlaceNotFound(f"no unit {code!r} in building {building.code!r}")
    return unit


async def _device_link(session: AsyncSession, ref: PlaceRef, now: datetime) -> QrLink:
    device = await session.scalar(select(Device).where(
        Device.estate_id == ref.estate_id, Device.device_id == ref.device))
    if device is None:
        raise PlaceNotFound(f"no device {ref.device!r} in estate {ref.estate_id!r}")
    building = None if device.building_id is None else await session.get(
        Building, device.building_id)
    where = device.display_name or device.location or device.device_id
    label = where if building is None else f"{building.name} {where}"
    return QrLink(estate_id=ref.estate_id, building_id=device.building_id,
                  unit_id=device.unit_id, device_pk=device.id, label=label, created_at=now)


async def issue(session: AsyncSession, ref: PlaceRef, *, now: datetime) -> QrLink:
    """A new link for the place (an estate-wide one if no building or device is named)."""
    estate = await session.get(Estate, ref.estate_id)
    if estate is None:
        raise PlaceNotFound(f"no estate {ref.estate_id!r}")
    if ref.device is not None:
        link = await _device_link(session, ref, now)
    elif ref.building is None:
        link = QrLink(estate_id=estate.id, label=estate.name, created_at=now)
    else:
        building = await _building(session, estate.id, ref.building)
        unit = None if ref.unit is None else await _unit(session, building, ref.unit)
        link = QrLink(estate_id=estate.id, building_id=building.id,
                      unit_id=None if unit is None else unit.id,
                      label=building.name + ("" if unit is None else unit.name),
                      created_at=now)
    session.add(link)
    await session.flush()
    return link


async def issue_once(session: AsyncSession, ref: PlaceRef, *, now: datetime) -> QrLink:
    """The active link at exactly that place if there is one, else a new one."""
    wanted = await issue(session, ref, now=now)
    existing = await session.scalar(select(QrLink).where(
        QrLink.estate_id == wanted.estate_id, QrLink.revoked_at.is_(None),
        QrLink.id != wanted.id, _same(QrLink.building_id, wanted.building_id),
        _same(QrLink.unit_id, wanted.unit_id), _same(QrLink.device_pk, wanted.device_pk),
    ).order_by(QrLink.id).limit(1))
    if existing is None:
        return wanted
    await session.delete(wanted)
    await session.flush()
    return existing


def _same(column: Any, value: int | None) -> Any:
    return column.is_(None) if value is None else column == value


async def issue_every_unit(session: AsyncSession, estate_id: str, *,
                           now: datetime) -> list[QrLink]:
    """A link for each unit of the estate that has no active unit link yet."""
    rows = (await session.execute(
        select(Building.code, Unit.code).join(Unit, Unit.building_id == Building.id)
        .where(Building.estate_id == estate_id,
               ~Unit.id.in_(select(QrLink.unit_id).where(QrLink.revoked_at.is_(None),
                                                         QrLink.unit_id.is_not(None),
                                                         QrLink.device_pk.is_(None))))
        .order_by(Building.code, Unit.code))).all()
    return [await issue(session, PlaceRef(estate_id, building, unit), now=now)
            for building, unit in rows]


async def revoke(session: AsyncSession, link_id: int, *, now: datetime) -> QrLink:
    link = await session.get(QrLink, link_id)
    if link is None:
        raise PlaceNotFound(f"no QR link {link_id}")
    if link.revoked_at is None:
        link.revoked_at = now
    await session.flush()
    return link


async def active_links(session: AsyncSession, estate_id: str) -> list[QrLink]:
    return list(await session.scalars(select(QrLink).where(
        QrLink.estate_id == estate_id, QrLink.revoked_at.is_(None)).order_by(QrLink.label,
                                                                             QrLink.id)))


async def resolve(session: AsyncSession, key: bytes, estate_id: str, code: str) -> QrLink:
    """The link behind a scanned code; LinkRefused if forged, revoked or of another estate."""
    link_id = verify(key, estate_id, code)
    if link_id is None:
        raise LinkRefused("bad signature")
    link = await session.get(QrLink, link_id)
    if link is None or link.estate_id != estate_id:
        raise LinkRefused("no such link in this estate")
    if link.revoked_at is not None:
        raise LinkRefused("revoked")
    return link
