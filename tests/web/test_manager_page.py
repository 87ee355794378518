"""The manager page and the monthly report in a real headless Chromium against the real API.

A zone manager logs in on /manager for a seeded month, sees the 5341 board and the weekly
chart of its own zone only (numbers read back from Chart.js), then opens an estate's
printable monthly report. Screenshots at desktop and phone size go to
var/screenshots/manager/ for people to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize, expect

from core.db import create_engine_for, session_factory
from estateops.migrate import upgrade
from services.auth.principal import Role
from services.workorders.model import Source
from tests.utils.auth import PASSWORD, add_staff
from tests.utils.estates import register_small_estate
from tests.utils.manager_seed import MONTH, Spec, month_specs, seed_month
from tests.utils.zones import add_zone
from tests.web.stack import api_only, run_apart

pytestmark = pytest.mark.timeout(180)

USERNAME = "li-zone-manager"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "manager"
DESKTOP: ViewportSize = {"width": 1366, "height": 768}
PHONE: ViewportSize = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Seeded:
    database_url: str
    mine: list[str]  # the manager's zone's estates
    other: str
    specs: list[Spec]


async def _seed(database_url: str) -> Seeded:
    engine = create_engine_for(database_url)
    try:
        sessions = session_factory(engine)
        estates = [await register_small_estate(sessions) for _ in range(3)]
        zone = await add_zone(sessions, estates[:2], name="香坊片区")
        await add_zone(sessions, estates[2:], name="道里片区")
        specs = month_specs(estates)
        await seed_month(sessions, specs)
        await add_staff(sessions, role=Role.VIEWER, username=USERNAME, zones=[zone])
        return Seeded(database_url, estates[:2], estates[2], specs)
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


def open_page(browser: Browser, url: str, viewport: ViewportSize, problems: list[str]) -> Page:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=viewport)
    page = context.new_page()

    def keep(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", keep)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(url)
    return page


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def chart_data(page: Page, canvas: str) -> dict[str, Any]:
    data: dict[str, Any] = page.evaluate(
        """(selector) => {
             const chart = Chart.getChart(document.querySelector(selector));
             const datasets = chart.data.datasets.map((d) => ({ label: d.label, data: d.data }));
             return { labels: chart.data.labels, datasets };
           }""", canvas)
    return data


def sensor_orders(seeded: Seeded, estates: list[str]) -> int:
    return sum(1 for s in seeded.specs if s.estate in estates and s.source is Source.SENSOR)


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_a_zone_manager_sees_the_board_the_chart_and_the_monthly_report(
        browser: Browser, served: str, seeded: Seeded, size: str, viewport: ViewportSize) -> None:
    problems: list[str] = []
    page = open_page(browser, f"{served}/manager?month={MONTH}", viewport, problems)
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="登录 Log in").click()

    board = page.locator("#board tbody tr")
    expect(board).to_have_count(2)  # the two estates of the manager's zone, not the third
    for estate in seeded.mine:
        mine = [s for s in seeded.specs if s.estate == estate]
        row = page.locator(f"#board tr[data-key='estate:{estate}']")
        expect(row.locator("td.count")).to_have_text(str(len(mine)))
    expect(page.locator(f"#board tr[data-key='estate:{seeded.other}']")).to_have_count(0)
    page.wait_for_function("() => Chart.getChart(document.querySelector('#chart-weeks'))")
    weeks = chart_data(page, "#chart-weeks")
    sensor = next(d for d in weeks["datasets"] if d["label"].startswith("传感器"))
    assert sum(sensor["data"]) == sensor_orders(seeded, seeded.mine)
    assert weeks["labels"][0] == "W44"
    shoot(page, f"{size}-1-manager")

    first_overdue = page.locator("#ledger .items a").first
    expect(first_overdue).to_have_attribute("href", re.compile(r"^/#/orders/\d+$"))
    expect(page.locator("select[name=zone] option")).to_have_count(2)  # all, and its one zone
    page.select_option("select[name=estate]", seeded.mine[1])
    expect(board).to_have_count(1)
    expect(page.locator(f"#board tr[data-key='estate:{seeded.mine[1]}']")).to_have_count(1)
    page.select_option("select[name=estate]", "")
    expect(board).to_have_count(2)

    page.locator("#ranking a").first.click()
    expect(page.locator("#report .title")).to_contain_text("2026年11月物业服务月报")
    estate = page.evaluate("() => new URLSearchParams(location.search).get('estate')")
    assert estate in seeded.mine
    orders = sum(1 for s in seeded.specs if s.estate == estate)
    expect(page.locator("[data-figure=orders] dd")).to_have_text(str(orders))
    page.wait_for_function("() => Chart.getChart(document.querySelector('#chart-report'))")
    report = chart_data(page, "#chart-report")
    sensor = next(d for d in report["datasets"] if d["label"].startswith("传感器"))
    assert sum(sensor["data"]) == sensor_orders(seeded, [estate])
    shoot(page, f"{size}-2-report")
    page.emulate_media(media="print")
    shoot(page, f"{size}-3-report-print")
    assert problems == []
    page.context.close()
