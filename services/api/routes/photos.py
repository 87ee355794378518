"""Staff photos of a work order (进门, 维修, 清理): upload one as the request body, list them,
read one. Checked and re-encoded like the residents' photos; a refused upload stores nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from services.api.deps import CurrentStaff, NowDep, SessionDep
from services.api.errors import NotFound
from services.api.models import error_responses
from services.api.routes.residents import PHOTO_HEADERS
from services.api.routes.work_orders import WorkOrderId, actor_of, authorised
from services.auth.policy import Access, require_visible
from services.residents import photos
from services.residents.errors import PhotoRefused
from services.workorders import service
from services.workorders.schemas import EventKind
from services.workorders.timeline import record

router = APIRouter(prefix="/api/v1/work-orders", tags=["work orders"], responses=error_responses(
    e403="the caller's role may not add to this work order",
    e404="no such work order or photo in the caller's estates",
    e413="the photo is too large", e415="not a JPEG, PNG, WebP or GIF photo"))
TOO_LARGE = "照片太大了（最大 8 MB），请换一张。"


class PhotoInfoPublic(BaseModel):
    id: int
    by: str
    note: str | None
    by_resident: bool


async def _body(request: Request) -> bytes:
    """The request body, refused as soon as it passes the size limit."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > photos.MAX_UPLOAD_BYTES:
            raise PhotoRefused(TOO_LARGE, too_large=True)
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/{work_order_id}/photos", status_code=201,
             openapi_extra={"requestBody": {"content": {"image/*": {"schema": {
                 "type": "string", "format": "binary"}}}, "required": True}})
async def upload_photo(work_order_id: WorkOrderId, request: Request, session: SessionDep,
                       principal: CurrentStaff, now: NowDep,
                       note: Annotated[str | None, Query(max_length=200)] = None,
                       ) -> PhotoInfoPublic:
    """The body is the image itself (JPEG, PNG, WebP or GIF, at most 8 MB)."""
    clean = photos.clean(await _body(request))
    async with session.begin():
        await authorised(session, principal, work_order_id, Access.COMMENT)
        actor = actor_of(principal)
        row = await photos.store(session, work_order_id, clean, actor=actor.key,
                                 actor_name=actor.name, note=note, now=now)
        await record(session, work_order_id, EventKind.COMMENT, actor=actor, at=now,
                     note=note or "上传了照片", data={"photo_id": row.id})
        return PhotoInfoPublic(id=row.id, by=actor.name, note=note, by_resident=False)


@router.get("/{work_order_id}/photos")
async def list_photos(work_order_id: WorkOrderId, session: SessionDep,
                      principal: CurrentStaff) -> list[PhotoInfoPublic]:
    order = await service.get(session, work_order_id)
    require_visible(principal, order.estate_id, f"work order {work_order_id}")
    return [PhotoInfoPublic(id=p.id, by=p.actor_name, note=p.note, by_resident=p.by_resident)
            for p in await photos.listed(session, work_order_id)]


@router.get("/{work_order_id}/photos/{photo_id}", response_class=Response)
async def read_photo(work_order_id: WorkOrderId, photo_id: WorkOrderId, session: SessionDep,
                     principal: CurrentStaff) -> Response:
    order = await service.get(session, work_order_id)
    require_visible(principal, order.estate_id, f"work order {work_order_id}")
    data = await photos.content(session, work_order_id, photo_id)
    if data is None:
        raise NotFound(f"no photo {photo_id} of work order {work_order_id}")
    return Response(data, media_type=photos.JPEG, headers=PHOTO_HEADERS)
