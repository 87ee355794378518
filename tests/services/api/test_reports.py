"""Manager figures on SQLite and PostgreSQL: the 5341 board of a seeded month equals counts
made here from the seed alone; a zone manager sees only its zone; CSV and XLSX agree."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.vocabulary import Category
from services.auth.principal import Role
from services.workorders.model import Source
from tests.services.api.conftest import serving
from tests.utils.auth import add_staff, bearer
from tests.utils.estates import register_small_estate
from tests.utils.manager_seed import AFTER_MONTH, MONTH, RESOLVE_S, Spec, month_specs, seed_month
from tests.utils.zones import add_zone

Zones = dict[str, list[str]]


@pytest.fixture
async def zones(seeded: async_sessionmaker[AsyncSession]) -> Zones:
    """Zone A holds two estates, zone B one; a month of work in all three."""
    estates = [await register_small_estate(seeded) for _ in range(3)]
    zone_a = await add_zone(seeded, estates[:2], name="香坊片区")
    zone_b = await add_zone(seeded, estates[2:], name="道里片区")
    await seed_month(seeded, month_specs(estates))
    return {zone_a: estates[:2], zone_b: estates[2:]}


async def _client(build_app: Callable[..., FastAPI], clock: ManualClock,
                  seeded: async_sessionmaker[AsyncSession], **staff: Any
                  ) -> AsyncIterator[httpx.AsyncClient]:
    clock.set(AFTER_MONTH)
    principal = await add_staff(seeded, **staff)
    async with serving(build_app(), bearer(principal, now=AFTER_MONTH)) as api:
        yield api


@pytest.fixture
async def admin(build_app: Callable[..., FastAPI], clock: ManualClock,
                seeded: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    async for api in _client(build_app, clock, seeded, role=Role.ADMIN):
        yield api


def expected_shares(specs: list[Spec]) -> dict[str, tuple[int, int]]:
    """(on time, late) per step, every deadline being decided by AFTER_MONTH."""
    def tally(chosen: list[Spec], met: Callable[[Spec], bool]) -> tuple[int, int]:
        on_time = sum(1 for spec in chosen if met(spec))
        return on_time, len(chosen) - on_time

    def resolved_within(limit: int) -> Callable[[Spec], bool]:
        return lambda spec: spec.resolve_s is not None and spec.resolve_s <= limit

    of = {category: [s for s in specs if s.category is category] for category in Category}
    return {
        "ack": tally(specs, lambda s: s.ack_s is not None and s.ack_s <= 300),
        "simple": tally(of[Category.SIMPLE], resolved_within(RESOLVE_S[Category.SIMPLE])),
        "complex": tally(of[Category.COMPLEX], resolved_within(RESOLVE_S[Category.COMPLEX])),
        "plan": tally(of[Category.EXTERNAL], resolved_within(24 * 3600)),
    }


def shares_of(row: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {step: (row[step]["on_time"], row[step]["late"])
            for step in ("ack", "simple", "complex", "plan")}


async def figures(api: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    response = await api.get("/api/v1/reports/figures", params={"month": MONTH, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_board_of_a_seeded_month_equals_the_counts_of_the_seed(
    admin: httpx.AsyncClient, zones: Zones,
) -> None:
    estates = [estate for members in zones.values() for estate in members]
    specs = month_specs(estates)
    body = await figures(admin)
    rows = {(row["group"], row["key"]): row for row in body["board"]}

    for estate in estates:
        mine = [spec for spec in specs if spec.estate == estate]
        assert rows[("estate", estate)]["count"] == len(mine)
        assert shares_of(rows[("estate", estate)]) == expected_shares(mine)
    for zone, members in zones.items():
        assert shares_of(rows[("zone", zone)]) == expected_shares(
            [spec for spec in specs if spec.estate in members])
    for team in {spec.team for spec in specs}:
        assert shares_of(rows[("team", team.value)]) == expected_shares(
            [spec for spec in specs if spec.team is team])


async def test_weekly_trends_count_every_order_report_and_rating(
    admin: httpx.AsyncClient, zones: Zones,
) -> None:
    estates = [estate for members in zones.values() for estate in members]
    specs = month_specs(estates)
    weeks = (await figures(admin))["weeks"]

    assert sum(week["work_orders"] for week in weeks) == len(specs)
    assert sum(week["sensor"] for week in weeks) == sum(s.source is Source.SENSOR for s in specs)
    residents = [s for s in specs if s.source is Source.RESIDENT]
    assert sum(week["resident_reports"] for week in weeks) == len(residents)
    assert sum(week["rated"] for week in weeks) == sum(s.rating is not None for s in residents)
    assert [week["week"] for week in weeks][:2] == ["2026-W44", "2026-W45"]  # Nov 1 is a Sunday


async def test_repeat_faults_count_each_devices_orders(
    admin: httpx.AsyncClient, zones: Zones,
) -> None:
    estates = [estate for members in zones.values() for estate in members]
    specs = month_specs(estates)
    repeats = (await figures(admin))["repeats"]

    expected = {estate: sum(1 for s in specs if s.estate == estate and s.source is Source.SENSOR)
                for estate in estates}
    assert {row["estate_id"]: row["faults"] for row in repeats} == {
        estate: count for estate, count in expected.items() if count >= 2}


async def test_a_zone_manager_sees_only_its_zone(
    build_app: Callable[..., FastAPI], clock: ManualClock,
    seeded: async_sessionmaker[AsyncSession], zones: Zones,
) -> None:
    (zone_a, members_a), (zone_b, members_b) = zones.items()
    async for api in _client(build_app, clock, seeded, role=Role.VIEWER, zones=[zone_a]):
        body = await figures(api)
        assert {row["id"] for row in body["estates"]} == set(members_a)
        offered = (await api.get("/api/v1/reports/estates")).json()
        assert {(row["id"], row["zone_id"]) for row in offered} == {
            (estate, zone_a) for estate in members_a}
        assert {row["estate_id"] for row in body["ranking"]} == set(members_a)
        seen = {row["key"] for row in body["board"] if row["group"] != "team"}
        assert seen == {*members_a, zone_a}
        team_total = sum(row["count"] for row in body["board"] if row["group"] == "team")
        assert team_total == sum(1 for s in month_specs([*members_a, *members_b])
                                 if s.estate in members_a)
        for params in ({"zone": zone_b}, {"estate": members_b[0]}):
            response = await api.get("/api/v1/reports/figures", params={"month": MONTH, **params})
            assert response.status_code == 404


async def test_csv_and_xlsx_hold_the_same_numbers_as_the_figures(
    admin: httpx.AsyncClient, zones: Zones,
) -> None:
    zone = next(iter(zones))
    body = await figures(admin, zone=zone)
    params = {"month": MONTH, "zone": zone}
    csv_text = (await admin.get("/api/v1/reports/figures.csv", params=params)).text
    rows = list(csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff"))))
    workbook = (await admin.get("/api/v1/reports/figures.xlsx", params=params)).content
    sheet = load_workbook(io.BytesIO(workbook))["board"]
    header, *cells = [list(row) for row in sheet.iter_rows(values_only=True)]

    assert [(r["group"], r["key"]) for r in rows] == [(r["group"], r["key"]) for r in body["board"]]
    for row, json_row, xlsx_row in zip(rows, body["board"], cells, strict=True):
        xlsx = dict(zip(header, xlsx_row, strict=True))
        assert int(row["count"]) == json_row["count"] == xlsx["count"]
        for step in ("ack", "simple", "complex", "plan"):
            for part in ("on_time", "late"):
                column = f"{step}_{part}"
                assert int(row[column]) == json_row[step][part] == xlsx[column]


async def test_a_bad_month_is_refused(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/api/v1/reports/figures", params={"month": "2026-13"})
    assert response.status_code == 422
    assert "bad period" in response.text
