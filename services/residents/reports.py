"""A resident's report becomes a work order (source resident, 5341 deadlines, the category's
team), or joins the open sensor work order of the same problem at the same place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.tables import Device
from services.residents.categories import ROUTING, ResidentCategory, Routing
from services.residents.photos import CleanPhoto, clean, store
from services.residents.tables import QrLink, ResidentReport
from services.workorders import service
from services.workorders.model import Source, Status
from services.workorders.progress_links import new_token, token_hash
from services.workorders.schemas import Actor, EventKind, WorkOrderCreate
from services.workorders.tables import WorkOrder
from services.workorders.timeline import record

RESIDENT = Actor(name="居民")
OPEN_STATUSES = (Status.OPEN, Status.ACKNOWLEDGED, Status.IN_PROGRESS)


@dataclass(frozen=True, slots=True)
class ReportIn:
    category: ResidentCategory
    description: str
    phone: str | None = None
    photo: bytes | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    report_id: int
    work_order_id: int
    token: str  # the progress link's secret: shown once, stored only as a hash
    joined: bool


def _same_place(link: QrLink) -> object | None:
    if link.device_pk is not None:
        return WorkOrder.device_pk == link.device_pk
    if link.unit_id is not None:
        return WorkOrder.unit_id == link.unit_id
    if link.building_id is not None:
        return WorkOrder.building_id == link.building_id
    return None  # an estate-wide code is too broad to tell it is the same problem


async def open_sensor_order(session: AsyncSession, link: QrLink, routing: Routing) -> int | None:
    """The open sensor work order of the same problem at the link's place, if any."""
    place = _same_place(link)
    if place is None or not routing.joins:
        return None
    found: int | None = await session.scalar(
        select(WorkOrder.id).join(Device, Device.id == WorkOrder.device_pk)
        .where(WorkOrder.estate_id == link.estate_id, WorkOrder.source == Source.SENSOR,
               WorkOrder.status.in_(OPEN_STATUSES), Device.device_type.in_(routing.joins),
               place)  # type: ignore[arg-type]
        .order_by(WorkOrder.priority, WorkOrder.created_at).limit(1))
    return found


def _description(report: ReportIn) -> str:
    phone = f"\n报修人电话：{report.phone}" if report.phone else ""
    return report.description.strip() + phone


async def _new_order(session: AsyncSession, link: QrLink, report: ReportIn, routing: Routing,
                     now: datetime) -> int:
    order = await service.create(session, WorkOrderCreate(
        estate_id=link.estate_id, building_id=link.building_id, unit_id=link.unit_id,
        device_pk=link.device_pk, location=link.label, source=Source.RESIDENT,
        category=routing.category, priority=routing.priority, team=routing.team,
        title_zh=routing.title_zh, title_en=routing.title_en,
        description=_description(report)), actor=RESIDENT, now=now)
    return order.id


async def _join(session: AsyncSession, work_order_id: int, report: ReportIn, report_id: int,
                now: datetime) -> None:
    order = await session.get(WorkOrder, work_order_id)
    if order is not None:
        order.updated_at = now
    await record(session, work_order_id, EventKind.COMMENT, actor=RESIDENT, at=now,
                 note="居民报告了同一问题：" + _description(report),
                 data={"resident_report_id": report_id, "category": report.category.value})


async def submit(session: AsyncSession, link: QrLink, report: ReportIn, *,
                 now: datetime) -> Receipt:
    """Take a report in; the photo is checked before anything is written."""
    photo: CleanPhoto | None = None if report.photo is None else clean(report.photo)
    routing = ROUTING[report.category]
    joined_id = await open_sensor_order(session, link, routing)
    work_order_id = joined_id if joined_id is not None else await _new_order(
        session, link, report, routing, now)
    token = new_token()
    row = ResidentReport(work_order_id=work_order_id, qr_link_id=link.id,
                         token_hash=token_hash(token), category=report.category,
                         description=report.description.strip(), phone=report.phone,
                         joined=joined_id is not None, created_at=now)
    session.add(row)
    await session.flush()
    if joined_id is not None:
        await _join(session, joined_id, report, row.id, now)
    if photo is not None:
        await store(session, work_order_id, photo, actor=RESIDENT.key,
                    actor_name=RESIDENT.name, now=now, report_id=row.id)
    return Receipt(row.id, work_order_id, token, joined=joined_id is not None)
