"""QR links: a genuine one names its place; a forged, revoked or other-estate one is refused
in the same words; a sheet writes the place under each code."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.residents import links
from services.residents.errors import LinkRefused
from services.residents.sheet import SheetCode, render_sheet
from services.residents.signing import SignedCode, link_key, verify
from services.residents.tables import QrLink
from tests.services.residents.conftest import KEY, issue
from tests.services.workorders.factories import T0
from tests.utils.estates import register_small_estate


async def resolve(sessions: async_sessionmaker[AsyncSession], estate_id: str,
                  code: str) -> QrLink:
    async with sessions() as session:
        return await links.resolve(session, KEY, estate_id, code)


async def test_a_genuine_link_names_its_unit(sessions: async_sessionmaker[AsyncSession],
                                             estate_id: str, unit_link: QrLink) -> None:
    code = SignedCode(estate_id, unit_link.id).code(KEY)
    found = await resolve(sessions, estate_id, code)
    assert (found.id, found.label) == (unit_link.id, "41号楼2单元")
    assert found.unit_id is not None
    assert found.building_id is not None


async def test_a_device_link_is_at_the_device(sessions: async_sessionmaker[AsyncSession],
                                              estate_id: str, pks: dict[str, int]) -> None:
    link = await issue(sessions, links.PlaceRef(estate_id, device="ebike-1"))
    assert link.device_pk == pks["ebike-1"]
    assert link.label.startswith("41号楼")


@pytest.mark.parametrize("tamper", ["signature", "link id", "no signature", "other key"])
async def test_a_forged_code_is_refused(sessions: async_sessionmaker[AsyncSession],
                                        estate_id: str, unit_link: QrLink, tamper: str) -> None:
    link_id, signature = SignedCode(estate_id, unit_link.id).code(KEY).split(".")
    forged = {
        "signature": f"{link_id}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        "link id": f"{int(link_id) + 1}.{signature}",
        "no signature": link_id,
        "other key": SignedCode(estate_id, unit_link.id).code(link_key("x" * 32, "y")),
    }[tamper]
    with pytest.raises(LinkRefused, match="二维码无效") as refused:
        await resolve(sessions, estate_id, forged)
    assert refused.value.reason == "bad signature"


async def test_a_revoked_link_is_refused(sessions: async_sessionmaker[AsyncSession],
                                         estate_id: str, unit_link: QrLink) -> None:
    async with sessions.begin() as session:
        await links.revoke(session, unit_link.id, now=T0)
    with pytest.raises(LinkRefused) as refused:
        await resolve(sessions, estate_id, SignedCode(estate_id, unit_link.id).code(KEY))
    assert refused.value.reason == "revoked"


async def test_a_link_of_another_estate_is_refused(sessions: async_sessionmaker[AsyncSession],
                                                   estate_id: str, unit_link: QrLink) -> None:
    other = await register_small_estate(sessions)
    genuine_code = SignedCode(estate_id, unit_link.id).code(KEY)
    with pytest.raises(LinkRefused):  # the estate is signed too: moved paths fail the MAC
        await resolve(sessions, other, genuine_code)
    # ... and a code correctly signed for the other estate finds no link of that estate
    with pytest.raises(LinkRefused) as refused:
        await resolve(sessions, other, SignedCode(other, unit_link.id).code(KEY))
    assert refused.value.reason == "no such link in this estate"


async def test_every_unit_gets_one_link(sessions: async_sessionmaker[AsyncSession],
                                        estate_id: str, unit_link: QrLink) -> None:
    async with sessions.begin() as session:
        assert await links.issue_every_unit(session, estate_id, now=T0) == []
        await links.revoke(session, unit_link.id, now=T0)
        reissued = await links.issue_every_unit(session, estate_id, now=T0)
    assert [link.label for link in reissued] == ["41号楼2单元"]
    assert reissued[0].id != unit_link.id


def test_verify_refuses_odd_codes() -> None:
    assert verify(KEY, "e1", "") is None
    assert verify(KEY, "e1", "x.y") is None
    assert verify(KEY, "e1", SignedCode("e1", 3).code(KEY)) == 3


def test_the_sheet_writes_the_place_under_each_code() -> None:
    page = render_sheet("龙涤小区", [SheetCode("41号楼2单元", "http://h/r/e/1.abc"),
                                     SheetCode("<b>42号楼</b>", "http://h/r/e/2.def")])
    assert page.count('<svg viewBox="') == 2  # sized by the page's CSS, not fixed pixels
    assert '<p class="place">41号楼2单元</p>' in page
    assert "&lt;b&gt;42号楼&lt;/b&gt;" in page  # a label is text, never markup


async def test_issue_once_reuses_the_active_link(sessions: async_sessionmaker[AsyncSession],
                                                 estate_id: str, unit_link: QrLink) -> None:
    ref = links.PlaceRef(estate_id, "b41", "u2")
    async with sessions.begin() as session:
        assert (await links.issue_once(session, ref, now=T0)).id == unit_link.id
        building_wide = await links.issue_once(session, links.PlaceRef(estate_id, "b41"),
                                               now=T0)
        assert building_wide.id != unit_link.id
        await links.revoke(session, unit_link.id, now=T0)
        assert (await links.issue_once(session, ref, now=T0)).id not in (unit_link.id,
                                                                          building_wide.id)
