"""The Hainan case, end to end: a leak sensor in a unit fires over real MQTT while the owner is
away; the unit's contact (a local webhook standing in for their channel) gets a notice at once
with a progress link; the staff attach photos on the way (进门, 维修, 清理) and resolve it; the
owner opens the link on a phone and sees the status and the three captioned photos in order,
and is told of the resolution with a link too."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Team
from registry.tables import Device
from services.auth.principal import Role
from services.workorders.tables import UnitContact
from tests.services.residents.photos import phone_photo
from tests.services.workorders.webhook import Webhook, running_webhook
from tests.utils.estates import topic
from tests.web.conftest import Seeded, Shots, add_person
from tests.web.residents import StaffApi
from tests.web.stack import Stack, in_database, now_ms, publish

pytestmark = pytest.mark.timeout(180)

CAPTIONS = ["进门", "维修", "清理"]
COLOURS = ["#8e44ad", "#2f80ed", "#27ae60"]
AT_ONCE_S = 10.0


@pytest.fixture
def owner_channel() -> Iterator[Webhook]:
    with running_webhook() as hook:
        yield hook


def add_unit_contact(seeded: Seeded, apprise_url: str) -> None:
    """The owner of the leak sensor's unit (41号楼2单元), reached through `apprise_url`."""
    async def add(sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions.begin() as session:
            unit_id = await session.scalar(select(Device.unit_id).where(
                Device.estate_id == seeded.estate_id, Device.device_id == "leak-1"))
            session.add(UnitContact(unit_id=unit_id, name="业主 王女士", phone="13800000000",
                                    apprise_url=apprise_url))

    in_database(seeded.database_url, add)


def wait_for_messages(hook: Webhook, path: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + AT_ONCE_S
    while len(hook.messages(path)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    messages = hook.messages(path)
    assert len(messages) == count, f"the owner got {len(messages)} messages, not {count}"
    return messages


def progress_link(stack: Stack, message: dict[str, Any]) -> str:
    found = re.search(re.escape(stack.url) + r"/p/[A-Za-z0-9_-]+", message["message"])
    assert found is not None, f"no progress link in {message['message']!r}"
    return found.group(0)


def sensor_order(staff: StaffApi) -> dict[str, Any]:
    response = staff.client.get("/api/v1/work-orders", params={"source": "sensor"})
    response.raise_for_status()
    [order] = response.json()["data"]
    assert isinstance(order, dict)
    return order


def captions(page: Page) -> list[str]:
    return page.locator("#photos figcaption .caption").all_inner_texts()


def test_the_owner_away_is_told_at_once_and_sees_the_photos_on_the_way(
        phone: Page, stack: Stack, seeded: Seeded, shots: Shots,
        owner_channel: Webhook) -> None:
    add_unit_contact(seeded, owner_channel.url("owner"))
    fixer = StaffApi(stack.url, add_person(seeded, "李师傅", Role.TECHNICIAN, Team.REPAIR))
    publish(stack.broker, topic(stack.estate_id, "leak_sensor"),
            {"ts": now_ms(), "leak": True, "battery": 88})

    [notice] = wait_for_messages(owner_channel, "owner", 1)
    assert "漏水" in notice["title"]
    assert "41号楼 2单元 水表间" in notice["message"]
    link = progress_link(stack, notice)
    phone.goto(link)
    expect(phone.locator("#status")).to_have_text("已受理，等待接单")
    expect(phone.locator("#heading")).to_have_text("维修进度")  # the owner reported nothing
    expect(phone.locator("#reported-label")).to_have_text("发现时间")
    expect(phone.locator("#rating-form")).to_be_hidden()
    shots.take(phone, "notice-opened")

    order = sensor_order(fixer)
    fixer.act(order["id"], "acknowledge")
    fixer.act(order["id"], "start")
    for caption, colour in zip(CAPTIONS, COLOURS, strict=True):
        uploaded = fixer.upload(order["id"], phone_photo(colour=colour), caption)
        assert uploaded.status_code == 201, uploaded.text
    fixer.act(order["id"], "resolve", note="更换了进水软管，地面已擦干")

    _, resolved = wait_for_messages(owner_channel, "owner", 2)
    assert "已处理完毕" in resolved["title"]
    assert progress_link(stack, resolved) != link
    phone.goto(progress_link(stack, resolved))
    expect(phone.locator("#status")).to_have_text("已处理完成")
    phone.goto(link)  # the first notice's link shows the same work order, photos and all
    expect(phone.locator("#status")).to_have_text("已处理完成")
    expect(phone.locator("#taken-by")).to_have_text("李师傅")
    expect(phone.locator("#notes")).to_contain_text("更换了进水软管")
    photos = phone.locator("#photos img")
    expect(photos).to_have_count(3)
    for index in range(3):
        photos.nth(index).scroll_into_view_if_needed()
        expect(photos.nth(index)).to_have_js_property("complete", True)
        assert photos.nth(index).evaluate("(img) => img.naturalWidth") > 0
    assert captions(phone) == CAPTIONS
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
    shots.take(phone, "resolved-with-photos")
