"""Registry devices joined with their place and last state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, case, func, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from device_profiles import ProfileSet
from device_profiles.schema import ConditionSpec
from gateway.tables import DeviceState
from registry.tables import Building, Device, Estate, Unit
from services.api.errors import DeviceNotFound
from services.api.models import ChartField, DeviceCounts, DevicePublic, PlacePublic
from services.workorders.model import Source
from services.workorders.service import ACTIVE
from services.workorders.tables import WorkOrder

# Outer joins: building, unit and state may be None although the generic types do not say so.
DeviceSelect = Select[Device, Building, Unit, DeviceState]
DeviceRow = Row[Device, Building, Unit, DeviceState]


@dataclass(frozen=True, slots=True)
class DeviceFilters:
    estate_id: str | None = None
    building_code: str | None = None
    device_type: str | None = None
    online: bool | None = None
    anomaly: bool | None = None
    search: str | None = None  # part of the device id, name, location or building name
    estates: frozenset[str] | None = None  # the caller's scope; None means every estate


def _in_anomaly() -> ColumnElement[bool]:
    """The device has a sensor work order still being handled."""
    return Device.id.in_(select(WorkOrder.device_pk).where(
        WorkOrder.status.in_(list(ACTIVE)), WorkOrder.source == Source.SENSOR,
        WorkOrder.device_pk.is_not(None)))


def _matches(search: str) -> ColumnElement[bool]:
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return or_(*(column.ilike(pattern, escape="\\") for column in (
        Device.device_id, Device.display_name, Device.location, Building.name)))


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
    if filters.anomaly is not None:
        statement = statement.where(_in_anomaly() if filters.anomaly else ~_in_anomaly())
    if filters.search:
        statement = statement.where(_matches(filters.search))
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


async def device_extras(session: AsyncSession,
                        rows: list[DeviceRow]) -> dict[int, dict[str, Any]]:
    """Per device pk: its estate's name and whether it is in anomaly."""
    pks = [row[0].id for row in rows]
    anomalous = set((await session.scalars(
        select(Device.id).where(Device.id.in_(pks), _in_anomaly()))).all()) if pks else set()
    estate_ids = {row[0].estate_id for row in rows}
    names = dict((await session.execute(
        select(Estate.id, Estate.name).where(Estate.id.in_(estate_ids)))).all())
    return {row[0].id: {"estate_name": names.get(row[0].estate_id),
                        "anomaly": row[0].id in anomalous} for row in rows}


def _sum_of(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


async def device_counts(session: AsyncSession, *,
                        filters: DeviceFilters) -> list[DeviceCounts]:
    """Per estate and building: devices in all, online, offline, never heard, in anomaly."""
    matching = _filtered(filters).with_only_columns(Device.id).subquery()
    statement = (
        select(Device.estate_id, Estate.name, Building.code, Building.name, func.count(),
               _sum_of(DeviceState.online.is_(True)), _sum_of(DeviceState.online.is_(False)),
               _sum_of(DeviceState.online.is_(None)), _sum_of(_in_anomaly()))
        .join(Estate, Estate.id == Device.estate_id)
        .outerjoin(Building, Device.building_id == Building.id)
        .outerjoin(DeviceState, DeviceState.device_pk == Device.id)
        .where(Device.id.in_(select(matching.c.id)))
        .group_by(Device.estate_id, Estate.name, Building.code, Building.name)
        .order_by(Estate.name, Building.name)
    )
    return [DeviceCounts(estate_id=estate_id, estate_name=estate_name, building_code=code,
                         building_name=name, total=total, online=online, offline=offline,
                         never=never, anomaly=anomaly)
            for estate_id, estate_name, code, name, total, online, offline, never, anomaly
            in await session.execute(statement)]


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


CHARTABLE = frozenset({"bool", "int", "float"})


def _compared(condition: ConditionSpec | None) -> list[str]:
    if condition is None:
        return []
    found = [condition.field] if condition.field is not None else []
    for part in (*(condition.all or ()), *(condition.any or ())):
        found += _compared(part)
    return list(dict.fromkeys(found))


def _profile_fields(device: Device, profiles: ProfileSet) -> dict[str, Any]:
    profile = profiles.get(device.device_type)
    if profile is None:
        return {}
    charts = [ChartField(field=name, type=spec.type.value, unit=spec.unit)
              for name, spec in profile.telemetry.items()
              if spec.type.value in CHARTABLE and not spec.tag]
    rules = {name: _compared(rule.when) for name, rule in profile.rules.items()}
    return {"type_name_zh": profile.name.zh, "type_name_en": profile.name.en,
            "chart_fields": charts, "rule_fields": {k: v for k, v in rules.items() if v}}


def device_public(row: DeviceRow, profiles: ProfileSet,
                  extras: dict[str, Any] | None = None) -> DevicePublic:
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
        **_profile_fields(device, profiles),
        **(extras or {}),
    )


async def require_device(session: AsyncSession, *, estate_id: str, device_id: str) -> DeviceRow:
    row = await find_device_row(session, estate_id=estate_id, device_id=device_id)
    if row is None:
        raise DeviceNotFound(estate_id, device_id)
    return row
