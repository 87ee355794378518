"""Devices on the phone: counts per building, search, and a device page whose Chart.js
chart holds exactly the readings the test published over MQTT."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from core.vocabulary import Team
from services.auth.principal import Role
from tests.fixtures.processes import wait_until
from tests.utils.estates import topic
from tests.web.conftest import Seeded, Shots, add_person, log_in
from tests.web.stack import Stack, now_ms, publish

pytestmark = pytest.mark.timeout(120)

# Minutes ago, and the battery level then: one reading per 1-minute bucket of the 1 h chart.
READINGS = [(40, 81.0), (25, 64.0), (10, 47.0)]
CHART_POINTS = """() => Chart.getChart(document.getElementById('device-chart'))
    .data.datasets[0].data.map((point) => [point.x, point.y])"""


def publish_battery(stack: Stack) -> list[int]:
    """The readings, oldest first; returns the start of each one's minute (ms)."""
    starts = []
    for minutes_ago, level in READINGS:
        ts = now_ms(-minutes_ago * 60)
        publish(stack.broker, topic(stack.estate_id, "leak_sensor"),
                {"ts": ts, "leak": False, "battery": level})
        starts.append(ts - ts % 60_000)
    return starts


def redrawn_points(page: Page) -> list[list[float]]:
    """Ask for the last hour again (the store may still be writing), then read the chart."""
    page.locator("#range-1h").click()
    page.wait_for_timeout(200)
    points: list[list[float]] = page.evaluate(CHART_POINTS)
    return points


def test_the_device_page_charts_the_published_readings(phone: Page, stack: Stack,
                                                       seeded: Seeded, shots: Shots) -> None:
    starts = publish_battery(stack)
    log_in(phone, add_person(seeded, "王调度", Role.DISPATCHER, Team.REPAIR))
    phone.locator("#nav-devices").click()
    building = phone.locator("#buildings li", has_text="41号楼")
    expect(building).to_contain_text("共 3")
    expect(building).to_contain_text("异常 0")
    expect(phone.locator("#device-list li")).to_have_count(4)
    shots.take(phone, "devices")

    phone.fill("#device-search", "水表间")
    phone.press("#device-search", "Enter")
    expect(phone.locator("#device-list li")).to_have_count(1)
    row = phone.locator(f'#device-list li[data-device="{stack.estate_id}/leak-1"]')
    expect(row).to_contain_text("龙涤小区 41号楼2单元 水表间")
    row.locator("a").click()

    expect(phone.locator("#device-name")).to_have_text("水表间漏水")
    expect(phone.locator("#device-telemetry")).to_contain_text("battery=47")
    phone.locator('button[data-field="battery"]').click()
    wait_until(lambda: len(redrawn_points(phone)) == len(READINGS), timeout=10,
               what="the chart's three points")
    points = phone.evaluate(CHART_POINTS)
    assert points == [[start, level] for start, (_, level) in zip(starts, READINGS, strict=True)]
    shots.take(phone, "device-chart")
