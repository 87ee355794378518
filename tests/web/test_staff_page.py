"""Promises of the staff page beyond the work itself: data is shown as text (never parsed as
HTML), the CSP holds, a wrong password and an expired session are said in words, the page
switches to English, and the board fits a desktop screen too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from core.vocabulary import Priority, Team
from services.auth.principal import Principal, Role
from tests.web.conftest import DESKTOP, Seeded, Shots, add_person, create_order, log_in
from tests.web.stack import Stack

pytestmark = pytest.mark.timeout(120)

# Markup in a title must show as text: the page never parses data as HTML.
MARKUP_TITLE = "<img src=x onerror=alert(1)>泵房漏水"


@pytest.fixture
def dispatcher(seeded: Seeded) -> Principal:
    return add_person(seeded, "王调度", Role.DISPATCHER, Team.REPAIR)


def test_wrong_password_shows_an_error(phone: Page, dispatcher: Principal) -> None:
    phone.fill("#username", dispatcher.username)
    phone.fill("#password", "not the password")
    phone.click("#login-submit")

    expect(phone.locator("#login-error")).to_contain_text("用户名或密码错误")
    expect(phone.locator("#nav")).to_be_hidden()


def test_markup_in_a_title_is_text_and_the_csp_holds(phone: Page, stack: Stack, seeded: Seeded,
                                                     dispatcher: Principal,
                                                     shots: Shots) -> None:
    create_order(seeded, dispatcher, title_zh=MARKUP_TITLE, team=Team.REPAIR,
                 priority=Priority.P1)
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    phone.on("dialog", record)
    response = phone.goto(stack.url + "/")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    log_in(phone, dispatcher)

    card = phone.locator("#cards li").first
    expect(card.locator(".card-title")).to_have_text(MARKUP_TITLE)
    expect(phone.locator("#cards img")).to_have_count(0)
    card.locator("button").click()
    expect(phone.locator("#order-title")).to_have_text(MARKUP_TITLE)
    expect(phone.locator("#order img")).to_have_count(0)
    shots.take(phone, "markup-as-text")
    assert dialogs == []


def test_a_token_the_server_refuses_says_the_session_expired(
        phone: Page, dispatcher: Principal, shots: Shots) -> None:
    log_in(phone, dispatcher)
    phone.evaluate("sessionStorage.setItem('estateops.token', 'expired-or-forged')")
    # A reload makes the page's next call carry the refused token; a click on the board could
    # race the page's own refresh, which may already have ended the session.
    phone.reload()

    expect(phone.locator("#expired-notice")).to_contain_text("登录已过期")
    expect(phone.locator("#login-panel")).to_be_visible()
    expect(phone.locator("#nav")).to_be_hidden()
    shots.take(phone, "expired")


def test_a_token_past_its_expiry_ends_the_session_in_words(phone: Page,
                                                          dispatcher: Principal) -> None:
    log_in(phone, dispatcher)
    phone.evaluate("sessionStorage.setItem('estateops.expires_at', '2000-01-01T00:00:00Z')")

    expect(phone.locator("#expired-notice")).to_be_visible(timeout=3000)
    expect(phone.locator("#login-panel")).to_be_visible()


def test_english_switch(phone: Page, dispatcher: Principal) -> None:
    log_in(phone, dispatcher)
    expect(phone.locator("#nav-board")).to_have_text("工单")
    phone.click("#lang-switch")
    expect(phone.locator("#nav-board")).to_have_text("Work orders")
    expect(phone.locator("button[data-status=open]")).to_have_text("Open")
    phone.reload()
    expect(phone.locator("#nav-board")).to_have_text("Work orders")


@pytest.fixture
def desktop(browser: Browser, stack: Stack) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport=DESKTOP)
    page = context.new_page()
    page.goto(stack.url + "/")
    try:
        yield page
    finally:
        context.close()


def test_the_board_on_a_desktop(desktop: Page, seeded: Seeded, dispatcher: Principal,
                                shots: Shots) -> None:
    for title, priority in (("水表间漏水", Priority.P1), ("北门道闸抬不起", Priority.P2),
                            ("3楼声控灯不亮", Priority.P3)):
        create_order(seeded, dispatcher, title_zh=title, team=Team.REPAIR, priority=priority,
                     device_id="leak-1" if priority is Priority.P1 else None)
    log_in(desktop, dispatcher)
    expect(desktop.locator("#cards li")).to_have_count(3)
    expect(desktop.locator("#cards li").first).to_contain_text("水表间漏水")  # P1 first
    width = desktop.evaluate("document.documentElement.scrollWidth")
    assert width <= DESKTOP["width"]
    shots.take(desktop, "desktop-board", full_page=False)
