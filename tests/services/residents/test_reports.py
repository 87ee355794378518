"""A resident's report: a work order with source resident, 5341 deadlines and the category's
team; joining an open sensor order at the same place; photos re-encoded, non-images refused
with nothing stored; the rating, and a low one flagged for a manager's review."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Action, Team
from services.residents import progress, reports
from services.residents.categories import ResidentCategory
from services.residents.errors import PhotoRefused, RatingRefused, TooManyReports
from services.residents.photos import clean
from services.residents.ratelimit import LINK_MESSAGE, ReportLimits
from services.residents.tables import QrLink, ResidentReport, WorkOrderPhoto
from services.workorders import service
from services.workorders.intake import intake
from services.workorders.model import Source, Status
from services.workorders.schemas import Actor, EventKind
from services.workorders.tables import WorkOrder, WorkOrderEvent
from tests.services.residents.photos import GPS_TAG, MAKE_TAG, NOT_AN_IMAGE, phone_photo
from tests.services.workorders.factories import T0, leak

FIXER = Actor(id=7, name="李师傅")


async def submit(sessions: async_sessionmaker[AsyncSession], link: QrLink,
                 report: reports.ReportIn) -> reports.Receipt:
    async with sessions.begin() as session:
        return await reports.submit(session, link, report, now=T0)


async def count(sessions: async_sessionmaker[AsyncSession], table: type[object]) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(table)) or 0


LEAK = reports.ReportIn(ResidentCategory.LEAK, "楼道天花板滴水", phone="13800138000",
                        photo=phone_photo())


async def test_a_report_becomes_a_resident_work_order(sessions: async_sessionmaker[AsyncSession],
                                                      unit_link: QrLink) -> None:
    receipt = await submit(sessions, unit_link, LEAK)
    async with sessions() as session:
        order = await service.get(session, receipt.work_order_id)
    assert not receipt.joined
    assert (order.source, order.team, order.status) == (Source.RESIDENT, Team.REPAIR, Status.OPEN)
    assert (order.ack_due_at, order.resolve_due_at) == (T0 + timedelta(minutes=5),
                                                        T0 + timedelta(minutes=30))
    assert order.unit_id == unit_link.unit_id
    assert order.location == "41号楼2单元"
    assert "13800138000" in order.description
    assert [event.kind for event in order.events] == [EventKind.RAISED]
    assert await count(sessions, WorkOrderPhoto) == 1


async def test_cleaning_goes_to_the_cleaning_team(sessions: async_sessionmaker[AsyncSession],
                                                  unit_link: QrLink) -> None:
    receipt = await submit(sessions, unit_link, reports.ReportIn(ResidentCategory.CLEANING, ""))
    async with sessions() as session:
        order = await service.get(session, receipt.work_order_id)
    assert order.team is Team.CLEANING


async def test_a_report_at_an_open_sensor_leak_joins_it(
        sessions: async_sessionmaker[AsyncSession], estate_id: str, pks: dict[str, int],
        unit_link: QrLink) -> None:
    async with sessions.begin() as session:
        sensor = await intake(session, leak(estate_id, pks["leak-1"]), now=T0)
    receipt = await submit(sessions, unit_link, LEAK)
    assert receipt.joined
    assert receipt.work_order_id == sensor.work_order_id
    assert await count(sessions, WorkOrder) == 1
    async with sessions() as session:
        order = await service.get(session, receipt.work_order_id)
        photo_order = await session.scalar(select(WorkOrderPhoto.work_order_id))
    joined = order.events[-1]
    assert joined.kind is EventKind.COMMENT
    assert joined.actor_name == "居民"
    assert joined.data is not None
    assert joined.data["category"] == "leak"
    assert photo_order == sensor.work_order_id


async def test_another_problem_at_that_place_opens_its_own_order(
        sessions: async_sessionmaker[AsyncSession], estate_id: str, pks: dict[str, int],
        unit_link: QrLink) -> None:
    async with sessions.begin() as session:
        sensor = await intake(session, leak(estate_id, pks["leak-1"]), now=T0)
    receipt = await submit(sessions, unit_link, reports.ReportIn(ResidentCategory.LIGHTS, "灯坏"))
    assert not receipt.joined
    assert receipt.work_order_id != sensor.work_order_id


async def test_a_non_image_is_refused_and_nothing_is_stored(
        sessions: async_sessionmaker[AsyncSession], unit_link: QrLink) -> None:
    with pytest.raises(PhotoRefused, match="只能上传照片"):
        await submit(sessions, unit_link, reports.ReportIn(ResidentCategory.LEAK, "x",
                                                           photo=NOT_AN_IMAGE))
    for table in (WorkOrder, WorkOrderEvent, ResidentReport, WorkOrderPhoto):
        assert await count(sessions, table) == 0, table


def test_a_photo_is_reencoded_without_its_exif() -> None:
    raw = phone_photo((4000, 3000))
    assert MAKE_TAG in Image.open(io.BytesIO(raw)).getexif()
    cleaned = clean(raw)
    image = Image.open(io.BytesIO(cleaned.data))
    assert image.format == "JPEG"
    assert max(image.size) == 1600
    exif = image.getexif()
    assert MAKE_TAG not in exif
    assert GPS_TAG not in exif


def test_a_huge_image_is_refused_as_too_large() -> None:
    with pytest.raises(PhotoRefused) as refused:
        clean(phone_photo((9000, 9000), "#ffffff"))
    assert refused.value.too_large


async def _resolve(sessions: async_sessionmaker[AsyncSession], work_order_id: int) -> None:
    async with sessions.begin() as session:
        for action in (Action.ACKNOWLEDGE, Action.START, Action.RESOLVE):
            await service.transition(session, work_order_id, action, actor=FIXER, now=T0,
                                     note="已更换水管接头" if action is Action.RESOLVE else None)


async def rate(sessions: async_sessionmaker[AsyncSession], token: str,
               rating: int) -> ResidentReport:
    async with sessions.begin() as session:
        return await progress.rate(session, token, rating, "还在滴水", now=T0)


async def test_a_low_rating_flags_the_order_for_review(
        sessions: async_sessionmaker[AsyncSession], unit_link: QrLink) -> None:
    receipt = await submit(sessions, unit_link, LEAK)
    with pytest.raises(RatingRefused, match="处理完成后"):
        await rate(sessions, receipt.token, 5)
    await _resolve(sessions, receipt.work_order_id)
    async with sessions() as session:
        shown = await progress.progress(session, receipt.token)
    assert shown.can_rate
    assert shown.taken_by == "李师傅"
    assert [note.text for note in shown.notes] == ["已更换水管接头"]
    rated = await rate(sessions, receipt.token, 2)
    assert rated.review_requested_at == T0
    with pytest.raises(RatingRefused, match="已经评价过"):
        await rate(sessions, receipt.token, 1)
    async with sessions() as session:
        order = await service.get(session, receipt.work_order_id)
    assert order.status is Status.RESOLVED  # flagged, not reopened: a manager decides
    assert order.events[-1].data == {"resident_report_id": rated.id, "rating": 2,
                                     "review_requested": True}


async def test_a_good_rating_asks_for_no_review(sessions: async_sessionmaker[AsyncSession],
                                                unit_link: QrLink) -> None:
    receipt = await submit(sessions, unit_link, LEAK)
    await _resolve(sessions, receipt.work_order_id)
    assert (await rate(sessions, receipt.token, 3)).review_requested_at is None


def test_the_21st_report_in_a_minute_from_one_link_is_refused() -> None:
    limits = ReportLimits()
    for client in range(20):
        limits.take(1, f"10.0.0.{client}")
    with pytest.raises(TooManyReports, match=LINK_MESSAGE) as refused:
        limits.take(1, "10.0.0.99")
    assert refused.value.retry_after_s > 0
    limits.take(2, "10.0.0.99")  # another link is counted apart


def test_one_client_is_limited_across_links() -> None:
    limits = ReportLimits(per_client="3/minute")
    for link in range(3):
        limits.take(link, "10.0.0.1")
    with pytest.raises(TooManyReports, match="您提交得太频繁"):
        limits.take(9, "10.0.0.1")
