"""Photos: checked, re-encoded as JPEG with Pillow (which drops EXIF and everything else
that rode along), and stored; a refused upload stores nothing."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.residents.errors import PhotoRefused
from services.residents.tables import WorkOrderPhoto

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # more is a decompression bomb, not a phone photo
LONGEST_SIDE = 1600
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "MPO"})
JPEG = "image/jpeg"


@dataclass(frozen=True, slots=True)
class CleanPhoto:
    data: bytes
    width: int
    height: int


def _open(raw: bytes) -> Image.Image:
    if not raw:
        raise PhotoRefused("照片是空的，请重新选择。")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise PhotoRefused("照片太大了（最大 8 MB），请换一张。", too_large=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
            if image.format not in ACCEPTED_FORMATS:
                raise PhotoRefused("只能上传照片（JPEG、PNG、WebP 或 GIF）。")
            if image.width * image.height > MAX_PIXELS:
                raise PhotoRefused("照片尺寸太大了，请换一张。", too_large=True)
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRefused("只能上传照片（JPEG、PNG、WebP 或 GIF）。") from exc
    return image


def clean(raw: bytes) -> CleanPhoto:
    """The photo turned upright, at most LONGEST_SIDE pixels, as a fresh JPEG with no EXIF."""
    image = ImageOps.exif_transpose(_open(raw)).convert("RGB")
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return CleanPhoto(out.getvalue(), image.width, image.height)


async def store(session: AsyncSession, work_order_id: int, photo: CleanPhoto, *, actor: str,
                actor_name: str, now: datetime, note: str | None = None,
                report_id: int | None = None) -> WorkOrderPhoto:
    row = WorkOrderPhoto(work_order_id=work_order_id, resident_report_id=report_id, actor=actor,
                         actor_name=actor_name, note=note, content_type=JPEG,
                         width=photo.width, height=photo.height, data=photo.data,
                         created_at=now)
    session.add(row)
    await session.flush()
    return row


@dataclass(frozen=True, slots=True)
class PhotoInfo:
    id: int
    actor: str
    actor_name: str
    note: str | None
    by_resident: bool
    created_at: datetime


async def listed(session: AsyncSession, work_order_id: int) -> list[PhotoInfo]:
    rows = await session.execute(
        select(WorkOrderPhoto.id, WorkOrderPhoto.actor, WorkOrderPhoto.actor_name,
               WorkOrderPhoto.note, WorkOrderPhoto.resident_report_id,
               WorkOrderPhoto.created_at)
        .where(WorkOrderPhoto.work_order_id == work_order_id).order_by(WorkOrderPhoto.id))
    return [PhotoInfo(row.id, row.actor, row.actor_name, row.note,
                      row.resident_report_id is not None, row.created_at) for row in rows]


async def content(session: AsyncSession, work_order_id: int, photo_id: int) -> bytes | None:
    data: bytes | None = await session.scalar(select(WorkOrderPhoto.data).where(
        WorkOrderPhoto.id == photo_id, WorkOrderPhoto.work_order_id == work_order_id))
    return data
