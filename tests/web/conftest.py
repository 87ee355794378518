"""Fixtures of the browser tests: a migrated SQLite file with a small estate, the running
system (tests/web/stack.py), headless Chromium, and a phone-sized page."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from core.vocabulary import Team
from estateops.migrate import upgrade
from services.auth.accounts import NewStaff, create_staff
from services.auth.principal import Principal, Role
from tests.fixtures.mosquitto import Broker
from tests.fixtures.processes import require_binary
from tests.utils.auth import PASSWORD, password_hash
from tests.utils.estates import register_small_estate
from tests.web.stack import Stack, opened_sessions, run_apart, running_stack

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
    with opened_sessions(url) as sessions:
        estate_id = run_apart(register_small_estate(sessions))
    return Seeded(url, estate_id)


def add_person(seeded: Seeded, name: str, role: Role, team: Team | None = None,
               estates: tuple[str, ...] | None = None) -> Principal:
    """A staff member with a display name, working in the seeded estate; password PASSWORD."""
    new = NewStaff(username=f"{role.value}-{uuid.uuid4().hex[:8]}", role=role,
                   password_hash=password_hash(), display_name=name, team=team,
                   estates=frozenset(estates if estates is not None else (seeded.estate_id,)))

    async def create() -> Principal:
        with opened_sessions(seeded.database_url) as sessions:
            async with sessions() as session, session.begin():
                return await create_staff(session, new)

    return run_apart(create())


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
