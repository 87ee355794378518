"""A technician sees only its estates' work orders, and only the buttons it may use: each
button shown is one the API then accepts, and none is shown that it would refuse."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from core.vocabulary import Priority, Team
from services.auth.principal import Principal, Role
from tests.web.conftest import Seeded, Shots, add_estate, add_person, create_order, log_in
from tests.web.stack import Stack

pytestmark = pytest.mark.timeout(120)

OWN = "二楼水管滴水"
OTHER_TEAM = "北门道闸抬不起"
OTHER_ESTATE = "别的小区漏水"


def buttons(page: Page) -> list[str]:
    page.locator("#order-status").wait_for()
    return page.locator("#actions .action-bar button").all_inner_texts()


def allowed_by_api(page: Page, order_id: int) -> list[str]:
    detail = page.evaluate("(id) => EO.api(`/api/v1/work-orders/${id}`)", order_id)
    return [str(action) for action in detail["allowed_actions"]]


def open_order(page: Page, order_id: int) -> None:
    page.goto(f"{page.url.split('#')[0]}#/orders/{order_id}")


@pytest.fixture
def orders(seeded: Seeded) -> dict[str, int]:
    dispatcher = add_person(seeded, "王调度", Role.DISPATCHER, Team.REPAIR)
    elsewhere = add_estate(seeded)
    return {
        OWN: create_order(seeded, dispatcher, title_zh=OWN, team=Team.REPAIR),
        OTHER_TEAM: create_order(seeded, dispatcher, title_zh=OTHER_TEAM, team=Team.SAFETY,
                                 priority=Priority.P1),
        OTHER_ESTATE: create_order(seeded, dispatcher, title_zh=OTHER_ESTATE, team=Team.REPAIR,
                                   estate_id=elsewhere),
    }


@pytest.fixture
def technician(seeded: Seeded) -> Principal:
    return add_person(seeded, "李师傅", Role.TECHNICIAN, Team.REPAIR)


def test_a_technician_sees_its_estate_and_only_usable_buttons(
        phone: Page, stack: Stack, orders: dict[str, int], technician: Principal,
        shots: Shots) -> None:
    log_in(phone, technician)
    cards = phone.locator("#cards li")
    expect(cards).to_have_count(2)
    expect(phone.locator("#cards")).not_to_contain_text(OTHER_ESTATE)
    expect(phone.locator("#nav-admin")).to_be_hidden()
    expect(phone.locator("#nav-manager")).to_be_hidden()
    shots.take(phone, "technician-board")

    phone.locator("#filter-team").click()
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text(OWN)

    cards.first.locator("button").click()
    assert buttons(phone) == ["接单", "备注"]
    assert allowed_by_api(phone, orders[OWN]) == ["acknowledge", "comment"]
    shots.take(phone, "own-order")
    phone.locator("#actions button", has_text="接单").click()
    expect(phone.locator("#order-status")).to_have_text("已接单")
    assert buttons(phone) == ["开始处理", "备注"]

    open_order(phone, orders[OTHER_TEAM])
    expect(phone.locator("#order-title")).to_have_text(OTHER_TEAM)
    expect(phone.locator("#actions .action-bar button")).to_have_count(0)
    expect(phone.locator("#read-only")).to_be_visible()
    assert allowed_by_api(phone, orders[OTHER_TEAM]) == []
    shots.take(phone, "other-team-order")

    open_order(phone, orders[OTHER_ESTATE])
    expect(phone.locator("#load-error")).to_contain_text("未找到")
    expect(phone.locator("#order-title")).to_have_count(0)
    shots.take(phone, "other-estate-order")


def test_an_admin_sees_the_admin_link(phone: Page, stack: Stack, seeded: Seeded) -> None:
    admin = add_person(seeded, "系统管理员", Role.ADMIN)
    log_in(phone, admin)
    expect(phone.locator("#nav-admin")).to_have_attribute("href", "/admin")
    expect(phone.locator("#nav-admin")).to_be_visible()
    expect(phone.locator("#nav-manager")).to_have_attribute("href", "/manager")
    expect(phone.locator("#nav-manager")).to_be_visible()
