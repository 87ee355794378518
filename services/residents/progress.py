"""What a resident sees behind their progress link, and their rating.

A progress link is either a resident's own report's (resident_reports) or one sent with a
notice to the unit's contacts (resident_notices, services/workorders/progress_links.py). A
notice's link shows the same page but rates nothing: there is no report of theirs to rate.

A rating of 2 or less flags the work order for a manager's review (review_requested_at and a
timeline line); it does not reopen it: a manager decides whether the fix failed (reopen) or
the resident is unhappy with something a new 5341 cycle would not mend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.tables import Staff
from services.residents.errors import ProgressNotFound, RatingRefused
from services.residents.photos import PhotoInfo, listed
from services.residents.reports import RESIDENT
from services.residents.tables import ResidentReport
from services.workorders.model import Status
from services.workorders.progress_links import notice_order, token_hash
from services.workorders.schemas import EventKind
from services.workorders.tables import WorkOrder, WorkOrderEvent
from services.workorders.timeline import record

REVIEW_AT_OR_BELOW = 2
RATEABLE = (Status.RESOLVED, Status.CLOSED)
STAFF_NOTE_KINDS = (EventKind.COMMENT, EventKind.RESOLVED, EventKind.STARTED,
                    EventKind.ACKNOWLEDGED)


@dataclass(frozen=True, slots=True)
class Note:
    at: datetime
    by: str
    text: str


@dataclass(frozen=True, slots=True)
class Progress:
    report: ResidentReport | None  # None: a notice's link
    order: WorkOrder
    taken_by: str | None
    notes: list[Note]
    photos: list[PhotoInfo]

    @property
    def can_rate(self) -> bool:
        return (self.report is not None and self.order.status in RATEABLE
                and self.report.rating is None)

    @property
    def since(self) -> datetime:
        return self.report.created_at if self.report is not None else self.order.created_at


async def _report_or_order(session: AsyncSession, token: str) -> tuple[ResidentReport | None,
                                                                      int]:
    """The report behind a resident's link and its work order, or a notice's work order."""
    report = await session.scalar(select(ResidentReport).where(
        ResidentReport.token_hash == token_hash(token)))
    if report is not None:
        return report, report.work_order_id
    work_order_id = await notice_order(session, token)
    if work_order_id is None:
        raise ProgressNotFound()
    return None, work_order_id


async def work_order_of(session: AsyncSession, token: str) -> int:
    """The work order a progress link shows (a report's or a notice's)."""
    return (await _report_or_order(session, token))[1]


async def _taken_by(session: AsyncSession, order: WorkOrder) -> str | None:
    if order.assignee_id is not None:
        staff = await session.get(Staff, order.assignee_id)
        if staff is not None:
            return staff.display_name
    name: str | None = await session.scalar(
        select(WorkOrderEvent.actor_name).where(
            WorkOrderEvent.work_order_id == order.id,
            WorkOrderEvent.kind == EventKind.ACKNOWLEDGED).order_by(WorkOrderEvent.id))
    return name


async def _staff_notes(session: AsyncSession, work_order_id: int) -> list[Note]:
    """Notes written by staff (their actor key is their id): not the sensor's or residents',
    nor the line a photo upload adds (the photo shows its own caption)."""
    events = await session.scalars(select(WorkOrderEvent).where(
        WorkOrderEvent.work_order_id == work_order_id, WorkOrderEvent.note.is_not(None),
        WorkOrderEvent.kind.in_(STAFF_NOTE_KINDS)).order_by(WorkOrderEvent.id))
    return [Note(event.at, event.actor_name, event.note or "") for event in events
            if event.actor.isdigit() and not (event.data or {}).get("photo_id")]


async def progress(session: AsyncSession, token: str) -> Progress:
    report, work_order_id = await _report_or_order(session, token)
    order = await session.get(WorkOrder, work_order_id, populate_existing=True)
    if order is None:
        raise ProgressNotFound()
    return Progress(report, order, await _taken_by(session, order),
                    await _staff_notes(session, order.id), await listed(session, order.id))


async def rate(session: AsyncSession, token: str, rating: int, comment: str | None, *,
               now: datetime) -> ResidentReport:
    """Rate a resolved work order once; 2 or less asks a manager to review it."""
    found = await progress(session, token)
    report = found.report
    if report is None:
        raise RatingRefused("这个链接只用于查看进度；评价请使用您自己报修时得到的链接。")
    if not found.can_rate:
        raise RatingRefused("已经评价过了。" if report.rating is not None
                            else "处理完成后才能评价。")
    report.rating, report.rating_comment, report.rated_at = rating, comment, now
    review = rating <= REVIEW_AT_OR_BELOW
    if review:
        report.review_requested_at = now
    note = f"居民评价 {rating}/5" + ("，请经理复核" if review else "")
    await record(session, report.work_order_id, EventKind.COMMENT, actor=RESIDENT, at=now,
                 note=note + (f"：{comment}" if comment else ""),
                 data={"resident_report_id": report.id, "rating": rating,
                       "review_requested": review})
    await session.flush()
    return report
