"""The names people read on a work order: its estate, building, unit, device and assignee,
looked up in one query per table for a whole page of work orders."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.tables import Building, Device, Estate, Unit
from services.auth.principal import Role
from services.auth.tables import Staff, StaffEstate
from services.workorders.schemas import DeviceRef, StaffName
from services.workorders.tables import WorkOrder


async def _names(session: AsyncSession, column: Any, name: Any,
                 keys: Collection[Any]) -> dict[Any, str]:
    if not keys:
        return {}
    rows = await session.execute(select(column, name).where(column.in_(list(keys))))
    return dict(rows.all())


async def _devices(session: AsyncSession, pks: Collection[int]) -> dict[int, DeviceRef]:
    if not pks:
        return {}
    rows = await session.scalars(select(Device).where(Device.id.in_(list(pks))))
    return {row.id: DeviceRef(device_id=row.device_id, display_name=row.display_name,
                              device_type=row.device_type) for row in rows}


async def labels(session: AsyncSession,
                 work_orders: Sequence[WorkOrder]) -> dict[int, dict[str, Any]]:
    """Per work order id, the extra fields of WorkOrderPublic that name things."""
    def keys(attribute: str) -> set[Any]:
        return {getattr(order, attribute) for order in work_orders} - {None}

    estates = await _names(session, Estate.id, Estate.name, keys("estate_id"))
    buildings = await _names(session, Building.id, Building.name, keys("building_id"))
    units = await _names(session, Unit.id, Unit.name, keys("unit_id"))
    staff = await _names(session, Staff.id, Staff.display_name, keys("assignee_id"))
    devices = await _devices(session, keys("device_pk"))
    return {order.id: {
        "estate_name": estates.get(order.estate_id),
        "building_name": buildings.get(order.building_id),
        "unit_name": units.get(order.unit_id),
        "assignee_name": staff.get(order.assignee_id),
        "device": devices.get(order.device_pk) if order.device_pk is not None else None,
    } for order in work_orders}


async def assignable_staff(session: AsyncSession, estate_id: str) -> list[StaffName]:
    """Who may be given work in an estate: active staff working there who are not viewers."""
    rows = await session.scalars(
        select(Staff).join(StaffEstate, StaffEstate.staff_id == Staff.id)
        .where(StaffEstate.estate_id == estate_id, Staff.active.is_(True),
               Staff.role != Role.VIEWER)
        .order_by(Staff.team, Staff.display_name))
    return [StaffName(id=row.id, name=row.display_name or row.username, team=row.team,
                      role=row.role) for row in rows]
