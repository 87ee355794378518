"""Helpers of the residents' page tests: issuing a QR link in the test's database, what staff
do through the API, and counting what was stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.auth.principal import Principal
from services.residents import links
from services.residents.signing import SignedCode, link_key
from services.residents.tables import ResidentReport, WorkOrderPhoto
from services.workorders.model import Source
from services.workorders.tables import WorkOrder
from tests.utils.auth import JWT_SECRET, bearer
from tests.web.conftest import Seeded
from tests.web.stack import in_database

KEY = link_key(None, JWT_SECRET)  # the stack signs with the JWT secret (no QR secret set)


def issue_link(seeded: Seeded, building: str | None = "b41", unit: str | None = "u2",
               estate_id: str | None = None) -> str:
    """A QR link's path, /r/{estate}/{id}.{signature}, at the unit 41号楼2单元 by default."""
    estate = estate_id or seeded.estate_id

    async def issue(sessions: async_sessionmaker[AsyncSession]) -> int:
        async with sessions.begin() as session:
            link = await links.issue(session, links.PlaceRef(estate, building, unit),
                                     now=datetime.now(UTC))
            return link.id

    return SignedCode(estate, in_database(seeded.database_url, issue)).path(KEY)


def revoke_link(seeded: Seeded, path: str) -> None:
    link_id = int(path.rsplit("/", 1)[1].split(".", maxsplit=1)[0])

    async def revoke(sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions.begin() as session:
            await links.revoke(session, link_id, now=datetime.now(UTC))

    in_database(seeded.database_url, revoke)


def stored(seeded: Seeded) -> dict[str, int]:
    """How many resident work orders, reports and photos the database holds."""
    async def count(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
        async with sessions() as session:
            return {
                "resident work orders": await session.scalar(select(func.count()).where(
                    WorkOrder.source == Source.RESIDENT)) or 0,
                "work orders": await session.scalar(
                    select(func.count()).select_from(WorkOrder)) or 0,
                "reports": await session.scalar(
                    select(func.count()).select_from(ResidentReport)) or 0,
                "photos": await session.scalar(
                    select(func.count()).select_from(WorkOrderPhoto)) or 0,
            }

    return in_database(seeded.database_url, count)


def review_requested(seeded: Seeded) -> list[int]:
    """The work orders a resident's low rating asked a manager to review."""
    async def flagged(sessions: async_sessionmaker[AsyncSession]) -> list[int]:
        async with sessions() as session:
            return list(await session.scalars(select(ResidentReport.work_order_id).where(
                ResidentReport.review_requested_at.is_not(None))))

    return in_database(seeded.database_url, flagged)


class StaffApi:
    """A staff member acting through the HTTP API, as the console would."""

    def __init__(self, url: str, principal: Principal) -> None:
        self.client = httpx.Client(base_url=url, headers=bearer(principal), timeout=10)

    def resident_orders(self) -> list[dict[str, Any]]:
        response = self.client.get("/api/v1/work-orders", params={"source": "resident"})
        response.raise_for_status()
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    def act(self, work_order_id: int, action: str, note: str | None = None) -> None:
        response = self.client.post(f"/api/v1/work-orders/{work_order_id}/{action}",
                                    json={"note": note})
        response.raise_for_status()

    def upload(self, work_order_id: int, photo: bytes, note: str,
               content_type: str = "image/jpeg") -> httpx.Response:
        return self.client.post(f"/api/v1/work-orders/{work_order_id}/photos",
                                params={"note": note}, content=photo,
                                headers={"Content-Type": content_type})
