"""The staff page in a real headless Chromium against the real API served by uvicorn.

The API runs in a thread with its own event loop, on a migrated SQLite file with a small
estate, an admin, two work orders and the last state of one device. The browser logs in
through the form, acknowledges a work order, reads the devices and receives a live alert.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from connectors.store import EmbeddedStore
from core.db import create_engine_for, session_factory
from core.vocabulary import Priority, Team
from estateops.migrate import upgrade
from estateops.settings import Settings
from gateway.tables import DeviceState
from registry.tables import Device
from services.api import create_app
from services.api.alert_stream import AlertHub, LiveAlert
from services.auth.principal import Role
from services.workorders import service
from services.workorders.model import Status
from services.workorders.schemas import Actor, WorkOrderCreate
from services.workorders.tables import WorkOrder
from tests.fixtures.processes import free_port, require_binary, wait_until
from tests.utils.auth import JWT_SECRET, PASSWORD, add_staff
from tests.utils.estates import register_small_estate

pytestmark = pytest.mark.timeout(120)

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
USERNAME = "zhang-admin"
LEAK_TITLE = "水表间漏水"
LATE_TITLE = "北门道闸抬不起"
# Markup in a title must show as text: the page never parses data as HTML.
ALERT_TITLE = "<img src=x onerror=alert(1)>泵房漏水"

T = TypeVar("T")


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to its end in a thread of its own: Playwright's sync API keeps an
    event loop running in the test's thread, where asyncio.run is refused."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


@dataclass(frozen=True)
class Seeded:
    database_url: str
    estate_id: str
    leak_order_id: int


@dataclass(frozen=True)
class Served:
    url: str
    hub: AlertHub
    loop: asyncio.AbstractEventLoop


async def _seed(database_url: str, now: datetime) -> Seeded:
    engine = create_engine_for(database_url)
    sessions = session_factory(engine)
    try:
        estate_id = await register_small_estate(sessions)
        admin = await add_staff(sessions, role=Role.ADMIN, username=USERNAME)
        actor = Actor(id=admin.staff_id, name=admin.name, role=admin.role)
        async with sessions() as session, session.begin():
            leak = await session.scalar(select(Device).where(
                Device.estate_id == estate_id, Device.device_id == "leak-1"))
            assert leak is not None
            session.add(DeviceState(device_pk=leak.id, online=True, last_seen_at=now,
                                    last_telemetry={"leak": False, "battery": 87},
                                    last_telemetry_at=now))
            order = await service.create(session, WorkOrderCreate(
                estate_id=estate_id, device_pk=leak.id, priority=Priority.P2, team=Team.REPAIR,
                title_zh=LEAK_TITLE, title_en="Leak in the meter room"), actor=actor, now=now)
            await service.create(session, WorkOrderCreate(
                estate_id=estate_id, location="north-in", priority=Priority.P1,
                team=Team.SAFETY, title_zh=LATE_TITLE, title_en="North gate stuck"),
                actor=actor, now=now - timedelta(hours=2))
        return Seeded(database_url, estate_id, order.id)
    finally:
        await engine.dispose()


async def _status_of(database_url: str, work_order_id: int) -> Status:
    engine = create_engine_for(database_url)
    try:
        async with session_factory(engine)() as session:
            order = await session.get(WorkOrder, work_order_id)
            assert order is not None
            return order.status
    finally:
        await engine.dispose()


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    url = f"sqlite:///{tmp_path / 'estateops.sqlite3'}"
    upgrade(url)
    return run_apart(_seed(url, datetime.now(UTC)))


def _serve(loop: asyncio.AbstractEventLoop, server: uvicorn.Server, store: EmbeddedStore) -> None:
    async def serve_then_close() -> None:
        try:
            await server.serve()
        finally:
            await store.aclose()  # create_app leaves a given store to its owner
            # As asyncio.run does: end what is left (sse-starlette's shutdown watcher).
            leftovers = asyncio.all_tasks() - {asyncio.current_task()}
            for task in leftovers:
                task.cancel()
            await asyncio.gather(*leftovers, return_exceptions=True)

    try:
        loop.run_until_complete(serve_then_close())
    finally:
        loop.close()


@pytest.fixture
def served(tmp_path: Path, seeded: Seeded) -> Iterator[Served]:
    """The API on a free loopback port, run by uvicorn in a thread with its own loop."""
    settings = Settings(data_dir=tmp_path, database_url=seeded.database_url,
                        auth={"jwt_secret": JWT_SECRET},
                        mqtt={"url": "mqtt://127.0.0.1:9"})  # no broker: alerts come via hub
    hub = AlertHub()
    store = EmbeddedStore(tmp_path / "telemetry.sqlite3")
    app = create_app(settings, store=store, alert_hub=hub)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=3))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=_serve, args=(loop, server, store), name="uvicorn",
                              daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), timeout=30, what="uvicorn")
        assert server.started, "uvicorn stopped before it was serving"
        yield Served(f"http://127.0.0.1:{port}", hub, loop)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def browser() -> Iterator[Browser]:
    chromium = require_binary("chromium", "chromium", search=["/usr/bin/chromium"])
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, served: Served) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport={"width": 1280, "height": 1000})
    opened = context.new_page()
    opened.goto(served.url + "/")
    try:
        yield opened
    finally:
        context.close()  # before the server stops, so the alert stream ends first


def log_in(page: Page, password: str) -> None:
    page.fill("#username", USERNAME)
    page.fill("#password", password)
    page.click("#login-submit")


def publish_alert(served: Served, estate_id: str) -> None:
    wait_until(lambda: served.hub.clients > 0, timeout=15, what="the page's alert stream")
    alert = LiveAlert(estate_id=estate_id, priority="P1", work_order_id="99", body={
        "kind": "created", "title_zh": ALERT_TITLE, "title_en": "Pump room leak",
        "location": "B1", "at": datetime.now(UTC).isoformat()})
    served.loop.call_soon_threadsafe(served.hub.publish, alert)


def test_wrong_password_shows_an_error(page: Page) -> None:
    log_in(page, "not the password")

    expect(page.locator("#login-error")).to_contain_text("用户名或密码错误")
    expect(page.locator("#app")).to_be_hidden()


def test_staff_log_in_acknowledge_and_watch(page: Page, served: Served, seeded: Seeded,
                                            tmp_path: Path) -> None:
    log_in(page, PASSWORD)

    leak_row = page.locator("#work-orders tbody tr", has_text=LEAK_TITLE)
    expect(leak_row).to_contain_text("待接单")
    late_row = page.locator("#work-orders tbody tr", has_text=LATE_TITLE)
    expect(late_row.locator(".overdue").first).to_contain_text("已超时")
    # Open orders first, the P1 before the P2.
    expect(page.locator("#work-orders tbody tr").first).to_contain_text(LATE_TITLE)

    device_row = page.locator(f'#devices tr[data-device="{seeded.estate_id}/leak-1"]')
    expect(device_row).to_contain_text("在线")
    expect(device_row).to_contain_text("battery=87")
    expect(device_row).to_contain_text("41号楼")

    leak_row.get_by_role("button", name="接单").click()
    expect(leak_row.locator(".status")).to_contain_text("已接单")
    expect(leak_row.get_by_role("button")).to_have_count(0)
    assert run_apart(_status_of(seeded.database_url, seeded.leak_order_id)) \
        is Status.ACKNOWLEDGED

    page.select_option("#device-type", "voice_light")
    expect(device_row).to_have_count(0)
    expect(page.locator("#devices tbody tr")).to_have_count(1)
    page.select_option("#device-type", "")

    expect(page.locator("#alerts-state")).to_contain_text("已连接")
    publish_alert(served, seeded.estate_id)
    expect(page.locator("#alerts li").first).to_contain_text(ALERT_TITLE)

    page.screenshot(path=str(tmp_path / "staff-page.png"), full_page=True)
