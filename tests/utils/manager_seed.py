"""A month of work orders and resident ratings with explicit timestamps, for manager figures.

Each order is a plain `Spec`, so a test can count what the figures should say from the specs
alone, without the code under test.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Category, Priority, Team
from registry.tables import Device, Estate
from services.residents.categories import ResidentCategory
from services.residents.tables import ResidentReport
from services.workorders.deadlines import LEDGER_COLOURS
from services.workorders.model import Source, Status
from services.workorders.tables import WorkOrder

MONTH = "2026-11"
# 2026-11-02 08:00 in Asia/Shanghai; every order is raised within the month from here.
START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
AFTER_MONTH = datetime(2026, 12, 20, tzinfo=UTC)  # the clock: every deadline decided by then
RESOLVE_S = {Category.SIMPLE: 30 * 60, Category.COMPLEX: 4 * 3600,
             Category.EXTERNAL: 7 * 24 * 3600}
ACK_S, PLAN_S = 5 * 60, 24 * 3600


@dataclass(frozen=True, slots=True)
class Spec:
    estate: str
    team: Team
    category: Category
    source: Source
    day: int  # days after START
    ack_s: int | None  # seconds from raising to acknowledging (None: never)
    resolve_s: int | None
    rating: int | None = None  # a resident's rating (resident orders only)

    @property
    def created_at(self) -> datetime:
        return START + timedelta(days=self.day, hours=self.day % 5)


def month_specs(estates: list[str]) -> list[Spec]:
    """A varied month: on time and late at every step, both sources, three categories."""
    specs = []
    teams = list(Team)
    categories = list(Category)
    for i in range(36):
        category = categories[i % 3]
        ack_s = None if i % 11 == 0 else (120 if i % 3 else 900) + i
        # An external job resolved within a day has met its plan deadline too.
        limit = PLAN_S if category is Category.EXTERNAL and i % 4 == 1 else RESOLVE_S[category]
        resolve_s = None if i % 7 == 0 else (limit - 60 if i % 4 else limit + 600)
        source = Source.RESIDENT if i % 2 else Source.SENSOR
        rating = (i % 5) + 1 if source is Source.RESIDENT and resolve_s and i % 3 else None
        specs.append(Spec(estate=estates[(i // 2) % len(estates)], team=teams[i % len(teams)],
                          category=category, source=source, day=i % 27, ack_s=ack_s,
                          resolve_s=resolve_s, rating=rating))
    return specs


def _order(spec: Spec) -> WorkOrder:
    at = spec.created_at
    ack = at + timedelta(seconds=spec.ack_s) if spec.ack_s is not None else None
    resolved = at + timedelta(seconds=spec.resolve_s) if spec.resolve_s is not None else None
    status = Status.RESOLVED if resolved else Status.ACKNOWLEDGED if ack else Status.OPEN
    plan = at + timedelta(seconds=PLAN_S) if spec.category is Category.EXTERNAL else None
    return WorkOrder(
        estate_id=spec.estate, source=spec.source, category=spec.category,
        title_en="Seeded", title_zh="测试工单", priority=Priority.P3, team=spec.team,
        status=status, ack_due_at=at + timedelta(seconds=ACK_S),
        resolve_due_at=at + timedelta(seconds=RESOLVE_S[spec.category]), plan_due_at=plan,
        ledger_colour=LEDGER_COLOURS[spec.category], created_at=at, updated_at=at,
        acknowledged_at=ack, resolved_at=resolved)


ESTATE_NAMES = ("龙涤小区", "和兴小区", "松雷小区", "文昌小区")


async def seed_month(sessions: async_sessionmaker[AsyncSession], specs: list[Spec]) -> None:
    """The specs as work orders (a sensor's on the estate's first device, so devices repeat)
    and resident reports; the estates get distinct names, in order of first appearance."""
    estates = list(dict.fromkeys(spec.estate for spec in specs))
    async with sessions() as session, session.begin():
        for estate_id, name in zip(estates, ESTATE_NAMES, strict=False):
            await session.execute(update(Estate).where(Estate.id == estate_id).values(name=name))
        first_device = {estate_id: await session.scalar(
            select(Device.id).where(Device.estate_id == estate_id).order_by(Device.id).limit(1))
            for estate_id in estates}
        for index, spec in enumerate(specs):
            order = _order(spec)
            if spec.source is Source.SENSOR:
                order.device_pk = first_device[spec.estate]
            session.add(order)
            await session.flush()
            if spec.source is Source.RESIDENT:
                session.add(_report(order, spec, index))


def _report(order: WorkOrder, spec: Spec, index: int) -> ResidentReport:
    token = hashlib.sha256(f"{order.id}-{index}".encode()).hexdigest()
    return ResidentReport(
        work_order_id=order.id, token_hash=token, category=ResidentCategory.OTHER,
        description="楼道灯不亮", joined=False, created_at=spec.created_at,
        rating=spec.rating, rated_at=spec.created_at + timedelta(days=1) if spec.rating else None)
