"""Factories for work-order tests: anomalies like the gateway's, staff, contacts and routes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Anomaly, AnomalyKind, Category, Priority, Team
from registry.tables import Device
from services.auth.principal import Role
from services.auth.tables import Staff, StaffEstate
from services.workorders.schemas import Actor
from services.workorders.tables import AlertRoute, UnitContact

T0 = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)  # 08:00 in 龙涤小区 (Asia/Shanghai)
DISPATCHER = Actor(id=None, name="调度 dispatcher", role=Role.DISPATCHER)


async def device_pks(sessions: async_sessionmaker[AsyncSession], estate_id: str) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(
            select(Device.device_id, Device.id).where(Device.estate_id == estate_id))
        return dict(rows.all())


async def unit_of(sessions: async_sessionmaker[AsyncSession], device_pk: int) -> int:
    async with sessions() as session:
        unit_id = await session.scalar(select(Device.unit_id).where(Device.id == device_pk))
    assert unit_id is not None
    return unit_id


def leak(estate_id: str, device_pk: int, *, at: datetime = T0, seconds: float = 0,
         kind: AnomalyKind = AnomalyKind.RAISED, rule: str = "water_leak") -> Anomaly:
    return Anomaly(
        kind=kind, estate_id=estate_id, device_pk=device_pk, device_id="leak-1",
        device_type="leak_sensor", rule=rule, at=at + timedelta(seconds=seconds),
        priority=Priority.P1, team=Team.REPAIR, category=Category.SIMPLE,
        title_en="Water leak", title_zh="漏水", readings=({"leak": True, "battery": 96},),
        notify_residents=True,  # as the leak sensor's profile says of its leak rule
    )


def charger_fault(estate_id: str, device_pk: int, *, at: datetime = T0) -> Anomaly:
    return Anomaly(
        kind=AnomalyKind.RAISED, estate_id=estate_id, device_pk=device_pk, device_id="ebike-1",
        device_type="ev_charger", rule="fault", at=at, priority=Priority.P2, team=Team.TELECOM,
        category=Category.COMPLEX, title_en="Charger fault", title_zh="充电桩故障",
        readings=({"status": "faulted", "fault_code": "E12"},),
    )


def low_battery(estate_id: str, device_pk: int, *, at: datetime = T0) -> Anomaly:
    return Anomaly(
        kind=AnomalyKind.RAISED, estate_id=estate_id, device_pk=device_pk, device_id="leak-1",
        device_type="leak_sensor", rule="low_battery", at=at, priority=Priority.P4,
        team=Team.REPAIR, category=Category.SIMPLE, title_en="Low battery",
        title_zh="电量低", readings=({"battery": 9},),
    )


async def add_staff(sessions: async_sessionmaker[AsyncSession], username: str, role: Role, *,
                    estates: list[str], team: Team | None = None, on_duty: bool = False,
                    apprise_url: str | None = None, active: bool = True) -> int:
    async with sessions.begin() as session:
        staff = Staff(username=username, display_name=username.title(), password_hash="-",
                      role=role, team=team, on_duty=on_duty, apprise_url=apprise_url,
                      active=active)
        session.add(staff)
        await session.flush()
        session.add_all(StaffEstate(staff_id=staff.id, estate_id=estate) for estate in estates)
        return staff.id


async def add_route(sessions: async_sessionmaker[AsyncSession], estate_id: str, team: Team,
                    url: str) -> None:
    async with sessions.begin() as session:
        session.add(AlertRoute(estate_id=estate_id, team=team, apprise_url=url))


async def add_contact(sessions: async_sessionmaker[AsyncSession], unit_id: int,
                      url: str) -> None:
    async with sessions.begin() as session:
        session.add(UnitContact(unit_id=unit_id, name="业主 王女士", phone="13800000000",
                                apprise_url=url))
