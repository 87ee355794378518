"""Progress links: a secret token in a link to the resident progress page (/p/{token}).

Only the token's sha256 is stored (resident_reports for a resident's own report,
resident_notices for a notice sent to a unit's contacts); the link exists only in what the
resident was given. So a link is never read back: each message carries a fresh one.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.workorders.tables import ResidentNotice

TOKEN_BYTES = 24
PROGRESS_PATH = "/p/"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def progress_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + PROGRESS_PATH + token


async def issue_notice(session: AsyncSession, work_order_id: int, *, alert: str,
                       at: datetime) -> str:
    """A new progress token for a notice about `work_order_id`; only its hash is kept."""
    token = new_token()
    session.add(ResidentNotice(work_order_id=work_order_id, token_hash=token_hash(token),
                               alert=alert, created_at=at))
    await session.flush()
    return token


async def residents_were_told(session: AsyncSession, work_order_id: int) -> bool:
    found = await session.scalar(select(ResidentNotice.id).where(
        ResidentNotice.work_order_id == work_order_id).limit(1))
    return found is not None


async def notice_order(session: AsyncSession, token: str) -> int | None:
    """The work order a notice's token is for, or None."""
    found: int | None = await session.scalar(select(ResidentNotice.work_order_id).where(
        ResidentNotice.token_hash == token_hash(token)))
    return found
