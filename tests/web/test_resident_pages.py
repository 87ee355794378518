"""A resident on a phone: scans a QR code, reports a leak with a photo, follows the progress
link while staff handle it with their own photo, and rates it; refused links, a flood from one
code and a file that is not a photo are each said in words. Against the whole system."""

from __future__ import annotations

import time

import httpx
import pytest
from playwright.sync_api import FilePayload, Page, expect

from core.vocabulary import Team
from services.auth.principal import Role
from services.residents.ratelimit import LINK_MESSAGE
from tests.services.residents.photos import NOT_AN_IMAGE, phone_photo
from tests.utils.estates import topic
from tests.web.conftest import Seeded, Shots, add_estate, add_person, log_in
from tests.web.residents import StaffApi, issue_link, review_requested, revoke_link, stored
from tests.web.stack import Stack, now_ms, publish

pytestmark = pytest.mark.timeout(180)

REFUSED = "这个二维码无效或已停用"


def open_report_page(page: Page, stack: Stack, path: str) -> None:
    response = page.goto(stack.url + path)
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp


def fill_report(page: Page, photo: bytes, *, name: str = "leak.jpg") -> None:
    expect(page.locator("#place")).to_contain_text("41号楼2单元")
    page.click('button[data-category="leak"]')
    page.fill("#description", "2单元3楼楼道天花板滴水，地上已经积水")
    payload: FilePayload = {"name": name, "mimeType": "image/jpeg", "buffer": photo}
    page.set_input_files("#photo", files=[payload])
    page.fill("#phone", "13800138000")


def assert_fits_the_phone(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"


def test_a_resident_reports_a_leak_follows_it_and_rates_it(
        phone: Page, stack: Stack, seeded: Seeded, shots: Shots) -> None:
    fixer = add_person(seeded, "李师傅", Role.TECHNICIAN, Team.REPAIR)
    open_report_page(phone, stack, issue_link(seeded))
    expect(phone.locator("#report-form")).to_be_visible()
    shots.take(phone, "report-opened")
    fill_report(phone, phone_photo(colour="#2f80ed"))
    expect(phone.locator("#photo-preview")).to_be_visible()
    assert_fits_the_phone(phone)
    shots.take(phone, "report-filled")
    phone.click("#report-submit")
    expect(phone.locator("#done")).to_be_visible()
    expect(phone.locator("#done")).to_contain_text("报修已提交")
    shots.take(phone, "report-sent")
    progress_url = phone.locator("#progress-link").get_attribute("href")
    assert progress_url is not None
    assert progress_url.startswith("/p/")

    staff = StaffApi(stack.url, fixer)
    [order] = staff.resident_orders()
    assert (order["source"], order["team"], order["status"]) == ("resident", "repair", "open")
    staff.act(order["id"], "acknowledge")
    staff.act(order["id"], "start")
    assert staff.upload(order["id"], phone_photo(colour="#27ae60"), "维修完成").status_code == 201
    staff.act(order["id"], "resolve", note="更换了楼上水管接头，楼道已清理干净")

    phone.click("#progress-link")
    expect(phone.locator("#status")).to_have_text("已处理完成")
    expect(phone.locator("#taken-by")).to_have_text("李师傅")
    expect(phone.locator("#notes")).to_contain_text("更换了楼上水管接头")
    photos = phone.locator("#photos img")
    expect(photos).to_have_count(2)
    for index in range(2):
        expect(photos.nth(index)).to_have_js_property("complete", True)
        assert photos.nth(index).evaluate("(img) => img.naturalWidth") > 0
    expect(phone.locator("#photos")).to_contain_text("您上传的")
    expect(phone.locator("#photos")).to_contain_text("维修完成")
    assert_fits_the_phone(phone)
    shots.take(phone, "progress-resolved")

    phone.click('button[data-star="2"]')
    phone.fill("#rating-comment", "楼道还有水渍")
    shots.take(phone, "rating-2")
    phone.click("#rating-submit")
    expect(phone.locator("#thanks")).to_be_visible()
    expect(phone.locator("#thanks")).to_contain_text("物业经理会复核")
    expect(phone.locator("#rated")).to_contain_text("★★☆☆☆")
    expect(phone.locator("#rating-form")).to_be_hidden()
    shots.take(phone, "rated")
    assert review_requested(seeded) == [order["id"]]


def test_a_report_at_an_open_sensor_leak_joins_that_order(
        phone: Page, stack: Stack, seeded: Seeded, shots: Shots) -> None:
    publish(stack.broker, topic(stack.estate_id, "leak_sensor"),
            {"ts": now_ms(), "leak": True, "battery": 88})
    deadline = time.monotonic() + 10
    while stored(seeded)["work orders"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stored(seeded)["work orders"] == 1, "the sensor's leak raised no work order"
    open_report_page(phone, stack, issue_link(seeded))
    fill_report(phone, phone_photo())
    phone.click("#report-submit")
    expect(phone.locator("#done")).to_be_visible()
    expect(phone.locator("#done")).to_contain_text("已补充到同一工单")
    shots.take(phone, "joined")
    assert stored(seeded) == {"resident work orders": 0, "work orders": 1, "reports": 1,
                              "photos": 1}


def test_forged_revoked_and_other_estate_links_are_refused(
        phone: Page, stack: Stack, seeded: Seeded, shots: Shots) -> None:
    genuine = issue_link(seeded)
    other_estate = add_estate(seeded)
    revoked = issue_link(seeded)
    revoke_link(seeded, revoked)
    refused = {
        "forged": genuine[:-2] + ("xx" if not genuine.endswith("xx") else "yy"),
        "revoked": revoked,
        "other-estate": genuine.replace(seeded.estate_id, other_estate),
    }
    for name, path in refused.items():
        open_report_page(phone, stack, path)
        expect(phone.locator("#refused")).to_contain_text(REFUSED)
        expect(phone.locator("#report-form")).to_be_hidden()
        shots.take(phone, f"refused-{name}")
    answer = httpx.post(f"{stack.url}/api/v1/resident/links{refused['forged'][2:]}/reports",
                        json={"category": "leak"}, timeout=10)
    assert answer.status_code == 404
    assert stored(seeded)["reports"] == 0


def test_the_21st_report_in_a_minute_from_one_link_is_refused(
        phone: Page, stack: Stack, seeded: Seeded, shots: Shots) -> None:
    path = issue_link(seeded)
    api = f"{stack.url}/api/v1/resident/links{path[2:]}/reports"
    for _ in range(20):
        answer = httpx.post(api, json={"category": "cleaning", "description": "垃圾未清"},
                            timeout=10)
        assert answer.status_code == 201, answer.text
    open_report_page(phone, stack, path)
    fill_report(phone, phone_photo())
    phone.click("#report-submit")
    expect(phone.locator("#report-error")).to_have_text(LINK_MESSAGE)
    shots.take(phone, "21st-refused")
    assert stored(seeded)["reports"] == 20


def test_a_file_that_is_not_a_photo_is_refused_and_nothing_stored(
        phone: Page, stack: Stack, seeded: Seeded, shots: Shots) -> None:
    fixer = add_person(seeded, "李师傅", Role.TECHNICIAN, Team.REPAIR)
    open_report_page(phone, stack, issue_link(seeded))
    fill_report(phone, NOT_AN_IMAGE, name="invoice.jpg")
    phone.click("#report-submit")
    expect(phone.locator("#report-error")).to_contain_text("只能上传照片")
    shots.take(phone, "not-a-photo")
    assert stored(seeded) == {"resident work orders": 0, "work orders": 0, "reports": 0,
                              "photos": 0}

    phone.get_by_role("button", name="移除照片").click()
    phone.click("#report-submit")  # the same report without the file goes through
    expect(phone.locator("#done")).to_be_visible()
    [order] = StaffApi(stack.url, fixer).resident_orders()
    refused = StaffApi(stack.url, fixer).upload(order["id"], NOT_AN_IMAGE, "x", "image/png")
    assert refused.status_code == 415
    api = f"{stack.url}/api/v1/resident/links{issue_link(seeded)[2:]}/reports"
    # base64 is ASCII only: other characters are a broken photo, not a server error.
    not_base64 = httpx.post(api, json={"category": "leak", "photo_base64": "照片𝄞"}, timeout=10)
    assert not_base64.status_code == 415, not_base64.text  # not a 500
    assert stored(seeded)["photos"] == 0


def test_staff_add_a_photo_from_the_console(phone: Page, stack: Stack, seeded: Seeded,
                                            shots: Shots) -> None:
    fixer = add_person(seeded, "李师傅", Role.TECHNICIAN, Team.REPAIR)
    api = f"{stack.url}/api/v1/resident/links{issue_link(seeded)[2:]}/reports"
    assert httpx.post(api, json={"category": "leak", "description": "楼道漏水",
                                 "phone": "13800138000"}, timeout=10).status_code == 201
    log_in(phone, fixer)
    phone.locator("#cards li", has_text="居民报修").locator("button").click()
    expect(phone.locator("#order-title")).to_have_text("居民报修：漏水")
    expect(phone.locator("#order-description")).to_have_text("楼道漏水\n报修人电话：13800138000")
    photo: FilePayload = {"name": "fix.jpg", "mimeType": "image/jpeg",
                          "buffer": phone_photo(colour="#27ae60")}
    phone.set_input_files("#staff-photo", files=[photo])
    expect(phone.locator("#timeline li[data-kind=comment]")).to_contain_text("上传了照片")
    assert stored(seeded)["photos"] == 1
    not_a_photo: FilePayload = {"name": "x.png", "mimeType": "image/png", "buffer": NOT_AN_IMAGE}
    phone.set_input_files("#staff-photo", files=[not_a_photo])
    expect(phone.locator("#action-error")).to_contain_text("只能上传照片")
    shots.take(phone, "console-photo")
    assert stored(seeded)["photos"] == 1
