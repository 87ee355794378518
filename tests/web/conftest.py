"""Fixtures of the browser tests: a migrated SQLite file with a small estate, the running
system (tests/web/stack.py), headless Chromium, and a phone-sized page."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Priority, Team
from estateops.migrate import upgrade
from registry.tables import Device
from services.auth.accounts import NewStaff, create_staff
from services.auth.principal import Principal, Role
from services.workorders import service
from services.workorders.schemas import Actor, WorkOrderCreate
from tests.fixtures.mosquitto import Broker
from tests.fixtures.processes import require_binary
from tests.utils.auth import PASSWORD, password_hash
from tests.utils.estates import register_small_estate
from tests.web.stack import Stack, in_database, running_stack

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1366, "height": 768}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@dataclass(frozen=True)
class Seeded:
    database_url: str
    estate_id: str


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    url = f"sqlite:///{tmp_path / 'estateops.sqlite3'}"
    upgrade(url)
    return Seeded(url, in_database(url, register_small_estate))


def add_person(seeded: Seeded, name: str, role: Role, team: Team | None = None,
               estates: tuple[str, ...] | None = None) -> Principal:
    """A staff member with a display name, working in the seeded estate; password PASSWORD."""
    new = NewStaff(username=f"{role.value}-{uuid.uuid4().hex[:8]}", role=role,
                   password_hash=password_hash(), display_name=name, team=team,
                   estates=frozenset(estates if estates is not None else (seeded.estate_id,)))

    async def create(sessions: async_sessionmaker[AsyncSession]) -> Principal:
        async with sessions() as session, session.begin():
            return await create_staff(session, new)

    return in_database(seeded.database_url, create)


@pytest.fixture
def stack(mosquitto: Broker, seeded: Seeded, tmp_path: Path) -> Iterator[Stack]:
    with running_stack(mosquitto, seeded.database_url, tmp_path, seeded.estate_id) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    chromium = require_binary("chromium", "chromium", search=["/usr/bin/chromium"])
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def phone(browser: Browser, stack: Stack) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=PHONE,
                                  has_touch=True, is_mobile=True, device_scale_factor=2)
    page = context.new_page()
    page.goto(stack.url + "/")
    try:
        yield page
    finally:
        context.close()  # before the server stops, so the alert stream ends first


class Shots:
    """Numbered screenshots of one test under var/screenshots/<test>/ (gitignored)."""

    def __init__(self, name: str) -> None:
        self.folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", name)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def take(self, page: Page, step: str, *, full_page: bool = True) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node.name)


def log_in(page: Page, person: Principal, password: str = PASSWORD) -> None:
    page.fill("#username", person.username)
    page.fill("#password", password)
    page.click("#login-submit")
    page.locator("#nav").wait_for(state="visible")


def create_order(seeded: Seeded, by: Principal, *, title_zh: str, team: Team,
                 priority: Priority = Priority.P2, estate_id: str | None = None,
                 device_id: str | None = None) -> int:
    """A work order reported by staff; returns its id."""
    estate = estate_id or seeded.estate_id

    async def create(sessions: async_sessionmaker[AsyncSession]) -> int:
        async with sessions() as session, session.begin():
            device_pk = None if device_id is None else await session.scalar(
                select(Device.id).where(Device.estate_id == estate,
                                        Device.device_id == device_id))
            order = await service.create(session, WorkOrderCreate(
                estate_id=estate, device_pk=device_pk, location="泵房", priority=priority,
                team=team, title_zh=title_zh, title_en="Reported by staff"),
                actor=Actor(id=by.staff_id, name=by.name, role=by.role),
                now=datetime.now(UTC))
            return order.id

    return in_database(seeded.database_url, create)


def add_estate(seeded: Seeded) -> str:
    """Another small estate in the same database."""
    return in_database(seeded.database_url, register_small_estate)
