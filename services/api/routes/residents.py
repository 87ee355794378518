"""The residents' API, public (no login): what a scanned QR code names, the report, the
progress behind a progress link, its photos and the rating. Refusals say why in Chinese."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from registry.tables import Estate
from services.api.deps import ApiConfigDep, NowDep, SessionDep
from services.api.errors import LinkNotFound, PhotoNotAccepted
from services.api.models import RowId, error_responses
from services.residents import links, photos, progress, reports
from services.residents.categories import LABELS_ZH
from services.residents.ratelimit import ReportLimits
from services.residents.schemas import (
    CategoryOption,
    LinkPlace,
    NotePublic,
    PhotoPublic,
    ProgressPublic,
    RatingAccepted,
    RatingSubmit,
    ReportAccepted,
    ReportSubmit,
)
from services.residents.signing import link_key

router = APIRouter(prefix="/api/v1/resident", tags=["residents"], responses=error_responses(
    e404="no such link or report (forged, revoked, or of another estate)",
    e409="the report cannot be rated now", e413="the photo is too large",
    e415="not a JPEG, PNG, WebP or GIF photo",
    e429="too many reports from this link or address; see Retry-After"))
PHOTO_HEADERS = {"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}


def get_key(config: ApiConfigDep) -> bytes:
    auth = config.auth
    jwt_secret = auth.jwt_secret.get_secret_value() if auth.jwt_secret else ""
    qr_secret = auth.qr_secret.get_secret_value() if auth.qr_secret else None
    return link_key(qr_secret, jwt_secret)


def get_limits(request: Request) -> ReportLimits:
    """One set of counters per app, made on first use."""
    found = getattr(request.app.state, "resident_limits", None)
    if not isinstance(found, ReportLimits):
        found = request.app.state.resident_limits = ReportLimits()
    return found


KeyDep = Annotated[bytes, Depends(get_key)]
LimitsDep = Annotated[ReportLimits, Depends(get_limits)]


@router.get("/links/{estate_id}/{code}")
async def read_link(estate_id: str, code: str, session: SessionDep, key: KeyDep) -> LinkPlace:
    link = await links.resolve(session, key, estate_id, code)
    estate = await session.get(Estate, link.estate_id)
    return LinkPlace(estate_name=estate.name if estate else link.estate_id, place=link.label,
                     categories=[CategoryOption(value=value, label=label)
                                 for value, label in LABELS_ZH.items()])


def _photo_bytes(data: ReportSubmit) -> bytes | None:
    if not data.photo_base64:
        return None
    try:
        return base64.b64decode(data.photo_base64, validate=True)
    except ValueError as exc:  # binascii.Error, or characters outside ASCII
        raise PhotoNotAccepted("照片没有传完整，请重新选择。") from exc


@router.post("/links/{estate_id}/{code}/reports", status_code=201)
async def report(estate_id: str, code: str, data: ReportSubmit, request: Request,
                 session: SessionDep, key: KeyDep, limits: LimitsDep,
                 now: NowDep) -> ReportAccepted:
    photo = _photo_bytes(data)
    client = request.client.host if request.client else "unknown"
    async with session.begin():
        link = await links.resolve(session, key, estate_id, code)
        limits.take(link.id, client)
        receipt = await reports.submit(session, link, reports.ReportIn(
            category=data.category, description=data.description, phone=data.phone,
            photo=photo), now=now)
    return ReportAccepted(progress_url=f"/p/{receipt.token}", joined=receipt.joined)


def _progress_public(token: str, found: progress.Progress) -> ProgressPublic:
    order, report_row = found.order, found.report
    return ProgressPublic(
        title=order.title_zh or order.title_en, place=order.location, status=order.status,
        reported_at=found.since, via_notice=report_row is None,
        acknowledged_at=order.acknowledged_at, resolved_at=order.resolved_at,
        taken_by=found.taken_by,
        notes=[NotePublic(at=note.at, by=note.by, text=note.text) for note in found.notes],
        photos=[PhotoPublic(id=photo.id, url=f"/api/v1/resident/progress/{token}/photos/"
                            f"{photo.id}", by=photo.actor_name, by_resident=photo.by_resident,
                            note=photo.note, at=photo.created_at) for photo in found.photos],
        can_rate=found.can_rate, rating=report_row.rating if report_row else None,
        rating_comment=report_row.rating_comment if report_row else None)


@router.get("/progress/{token}")
async def read_progress(token: str, session: SessionDep) -> ProgressPublic:
    return _progress_public(token, await progress.progress(session, token))


@router.get("/progress/{token}/photos/{photo_id}", response_class=Response)
async def read_photo(token: str, photo_id: RowId, session: SessionDep) -> Response:
    work_order_id = await progress.work_order_of(session, token)
    data = await photos.content(session, work_order_id, photo_id)
    if data is None:
        raise LinkNotFound("找不到这张照片。")
    return Response(data, media_type=photos.JPEG, headers=PHOTO_HEADERS)


@router.post("/progress/{token}/rating")
async def rate(token: str, data: RatingSubmit, session: SessionDep,
               now: NowDep) -> RatingAccepted:
    async with session.begin():
        rated = await progress.rate(session, token, data.rating, data.comment, now=now)
        return RatingAccepted(rating=data.rating,
                              review_requested=rated.review_requested_at is not None)

