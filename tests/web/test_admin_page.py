"""The administration page in a real headless Chromium against the real API (uvicorn).

An admin logs in on /admin, sets the repair team's alert route to a local webhook, sends a
test through it, and the next P1 of that team (a leak, taken in as the gateway hands it
over) reaches the webhook through apprise. Screenshots at desktop and phone size are kept
in var/screenshots/admin/ for people to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from sqlalchemy import select

from core.clock import SystemClock
from core.db import create_engine_for, session_factory
from core.vocabulary import Team
from estateops.migrate import upgrade
from registry.tables import Device
from services.auth.principal import Role
from services.workorders.contacts import list_contacts
from services.workorders.deadlines import stored_policy
from services.workorders.notifier import Notifier
from services.workorders.rota import list_shifts
from services.workorders.rule_overrides import list_overrides
from services.workorders.sink import intake_sink
from tests.fixtures.processes import wait_until
from tests.services.workorders.factories import leak
from tests.services.workorders.webhook import Webhook, running_webhook
from tests.utils.auth import PASSWORD, add_staff
from tests.utils.estates import register_small_estate
from tests.web.stack import api_only, run_apart

pytestmark = pytest.mark.timeout(180)

USERNAME = "zhou-admin"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "admin"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Seeded:
    database_url: str
    estate_id: str


async def _seed(database_url: str) -> Seeded:
    engine = create_engine_for(database_url)
    try:
        sessions = session_factory(engine)
        estate_id = await register_small_estate(sessions)
        await add_staff(sessions, role=Role.ADMIN, username=USERNAME)
        await add_staff(sessions, role=Role.TECHNICIAN, username="wang", estates=[estate_id],
                        team=Team.REPAIR)
        return Seeded(database_url, estate_id)
    finally:
        await engine.dispose()


async def _leak_arrives(database_url: str, estate_id: str) -> None:
    """A P1 leak of the repair team, taken in as the gateway's rules hand it over."""
    engine = create_engine_for(database_url)
    try:
        sessions = session_factory(engine)
        async with sessions() as session:
            device_pk = await session.scalar(select(Device.id).where(
                Device.estate_id == estate_id, Device.device_id == "leak-1"))
        assert device_pk is not None
        take_in = intake_sink(sessions, Notifier(sessions, mqtt=None), SystemClock())
        await take_in(leak(estate_id, device_pk, at=datetime.now(UTC)))
    finally:
        await engine.dispose()


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    url = f"sqlite:///{tmp_path / 'estateops.sqlite3'}"
    upgrade(url)
    return run_apart(_seed(url))


@pytest.fixture
def served(tmp_path: Path, seeded: Seeded) -> Iterator[str]:
    with api_only(seeded.database_url, tmp_path) as url:
        yield url


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with running_webhook() as hook:
        yield hook


def open_page(browser: Browser, url: str, viewport: dict[str, int],
              problems: list[str]) -> Page:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport=viewport)  # type: ignore[arg-type]
    page = context.new_page()

    def keep(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", keep)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(url + "/admin")
    return page


def log_in(page: Page) -> None:
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="登录 Log in").click()
    expect(page.locator("#staff .card[data-username=wang]")).to_contain_text("技术员")


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_an_admin_routes_a_team_to_a_webhook_that_gets_the_test_and_the_next_p1(
        browser: Browser, served: str, seeded: Seeded, webhook: Webhook) -> None:
    problems: list[str] = []
    page = open_page(browser, served, DESKTOP, problems)
    log_in(page)
    shoot(page, "desktop-staff")

    page.locator("button[data-tab=routes]").click()
    page.select_option("select[name=route-team]", "repair")
    page.fill("input[name=route-url]", webhook.url("repair-group"))
    page.get_by_role("button", name="添加 Add", exact=True).click()
    repair = page.locator("#routes .card[data-team=repair]")
    expect(repair).to_contain_text(webhook.url("repair-group"))

    repair.locator("button.send-test").click()
    expect(repair.locator(".result")).to_contain_text("已发送")
    wait_until(lambda: len(webhook.messages("repair-group")) == 1, timeout=10,
               what="the test message")
    assert "测试" in webhook.messages("repair-group")[0]["title"]
    shoot(page, "desktop-routes")

    run_apart(_leak_arrives(seeded.database_url, seeded.estate_id))
    wait_until(lambda: len(webhook.messages("repair-group")) == 2, timeout=15,
               what="the P1's alert")
    alert = webhook.messages("repair-group")[1]
    assert alert["title"].startswith("[P1] 新工单 new: 漏水"), alert
    assert "41号楼 2单元 水表间" in alert["message"]
    assert problems == []


def test_an_admin_edits_and_disables_a_technician_on_the_page(
        browser: Browser, served: str) -> None:
    problems: list[str] = []
    page = open_page(browser, served, DESKTOP, problems)
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page)
    wang = page.locator("#staff .card[data-username=wang]")
    wang.get_by_role("button", name="编辑 Edit").click()
    wang.locator("form.edit select").nth(1).select_option("safety")
    wang.locator("form.edit input").first.fill("王师傅")
    shoot(page, "desktop-staff-edit")
    wang.get_by_role("button", name="保存 Save").click()
    expect(wang).to_contain_text("平安 safety")
    expect(wang).to_contain_text("王师傅")
    wang.get_by_role("button", name="停用 Disable").click()
    expect(wang).to_have_class(re.compile(r"\bdisabled\b"))
    expect(wang.locator(".chip.warn")).to_be_visible()
    response = page.request.post(served + "/api/v1/auth/token",
                                 form={"username": "wang", "password": PASSWORD})
    assert response.status == 401
    assert problems == []


def test_every_section_works_on_a_phone(browser: Browser, served: str, seeded: Seeded) -> None:
    problems: list[str] = []
    page = open_page(browser, served, PHONE, problems)
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page)
    page.locator("#staff details.add summary").click()
    shoot(page, "phone-staff")

    page.locator("button[data-tab=rota]").click()
    page.select_option("select[name=shift-staff]", label="wang")
    page.select_option("select[name=shift-team]", "repair")
    page.get_by_role("button", name="排班 Add shift").click()
    repair = page.locator("#rota .card[data-team=repair]")
    expect(repair).to_contain_text("现在值班 on duty now: wang")
    shoot(page, "phone-rota")

    page.locator("button[data-tab=contacts]").click()
    page.select_option("select[name=contact-unit]", label="41号楼 2单元")
    page.fill("input[name=contact-name]", "业主 王女士")
    page.fill("input[name=contact-phone]", "13800000000")
    page.get_by_role("button", name="添加 Add", exact=True).click()
    expect(page.locator("#contacts .cards")).to_contain_text("41号楼 2单元 业主 王女士")
    shoot(page, "phone-contacts")

    page.locator("button[data-tab=policy]").click()
    page.fill("#policy input[name=ack_s]", "10")
    page.get_by_role("button", name="保存 Save").click()
    expect(page.locator("#policy")).to_contain_text("本小区设定")
    shoot(page, "phone-policy")

    page.locator("button[data-tab=rules]").click()
    overheating = page.locator("#rules .card[data-rule='ev_charger/overheating']")
    overheating.get_by_role("button", name="调整 Change").click()
    overheating.locator("input[name=value]").fill("65")
    overheating.get_by_role("button", name="保存 Save").click()
    expect(overheating).to_contain_text("已调整 changed: value=65")
    shoot(page, "phone-rules")

    page.locator("button[data-tab=routes]").click()
    shoot(page, "phone-routes")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a phone"
    assert problems == []
    assert run_apart(_admin_state(seeded)) == (1, 1, {"ack_s": 600}, {"value": 65})


async def _admin_state(seeded: Seeded) -> tuple[int, int, dict[str, Any], dict[str, Any]]:
    """What the page stored: shifts, contacts, the deadline policy, the rule override."""
    engine = create_engine_for(seeded.database_url)
    try:
        async with session_factory(engine)() as session:
            shifts = len(await list_shifts(session, estate_id=seeded.estate_id))
            contacts = len(await list_contacts(session, estate_id=seeded.estate_id))
            policy = await stored_policy(session, seeded.estate_id)
            [override] = await list_overrides(session, estate_id=seeded.estate_id)
            return shifts, contacts, policy, override.params
    finally:
        await engine.dispose()
