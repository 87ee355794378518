"""Dead letters, newest first, with a bounded preview of each payload."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import LargeBinary, Select, func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.tables import DeadLetter
from services.api.models import DeadLetterPublic, ReasonCount

PAYLOAD_PREVIEW_BYTES = 4096

StatementT = TypeVar("StatementT", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True, slots=True)
class DeadLetterFilters:
    reason: str | None = None
    estate_id: str | None = None
    device_id: str | None = None
    estates: frozenset[str] | None = None  # the caller's scope; None means every estate


def _where(statement: StatementT, filters: DeadLetterFilters) -> StatementT:
    if filters.estates is not None:
        # A letter whose estate is unknown stays invisible to a scoped caller.
        statement = statement.where(DeadLetter.estate_id.in_(filters.estates))
    if filters.reason is not None:
        statement = statement.where(DeadLetter.reason == filters.reason)
    if filters.estate_id is not None:
        statement = statement.where(DeadLetter.estate_id == filters.estate_id)
    if filters.device_id is not None:
        statement = statement.where(DeadLetter.device_id == filters.device_id)
    return statement


def payload_text(preview: bytes, *, truncated: bool) -> str:
    """UTF-8 text with bad bytes replaced; a character cut by truncation is dropped, not mangled."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    return decoder.decode(preview, final=not truncated)


async def list_dead_letters(
    session: AsyncSession, *, filters: DeadLetterFilters, limit: int, offset: int
) -> tuple[list[DeadLetterPublic], int]:
    ids = _where(select(DeadLetter.id), filters)
    total = await session.scalar(select(func.count()).select_from(ids.subquery()))
    # Only a prefix of each payload leaves the database: payloads may be large.
    preview = func.substr(DeadLetter.payload, 1, PAYLOAD_PREVIEW_BYTES, type_=LargeBinary)
    columns = select(DeadLetter.id, DeadLetter.received_at, DeadLetter.topic, DeadLetter.reason,
                     DeadLetter.detail, DeadLetter.estate_id, DeadLetter.device_id,
                     DeadLetter.payload_size, preview)
    page = (
        _where(columns, filters)
        .order_by(DeadLetter.received_at.desc(), DeadLetter.id.desc())
        .limit(limit).offset(offset)
    )
    rows = (await session.execute(page)).all()
    return [_public(row) for row in rows], int(total or 0)


PreviewRow = Row[int, datetime, str, str, str, str | None, str | None, int, bytes]


def _public(row: PreviewRow) -> DeadLetterPublic:
    id_, received_at, topic, reason, detail, estate_id, device_id, payload_size, preview = row
    preview = preview or b""
    truncated = payload_size > len(preview)
    return DeadLetterPublic(
        id=id_, received_at=received_at, topic=topic, reason=reason, detail=detail,
        estate_id=estate_id, device_id=device_id, payload_size=payload_size,
        payload=payload_text(preview, truncated=truncated), payload_truncated=truncated,
    )


async def count_by_reason(
    session: AsyncSession, *, estate_id: str | None = None,
    estates: frozenset[str] | None = None,
) -> list[ReasonCount]:
    statement = select(DeadLetter.reason, func.count().label("count")).group_by(DeadLetter.reason)
    statement = _where(statement, DeadLetterFilters(estate_id=estate_id, estates=estates))
    statement = statement.order_by(func.count().desc(), DeadLetter.reason)
    rows = (await session.execute(statement)).all()
    return [ReasonCount(reason=reason, count=count) for reason, count in rows]
