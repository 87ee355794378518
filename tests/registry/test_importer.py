"""Importing estate files: idempotent re-import, CSV equal to YAML, updates in place."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_profiles import ProfileSet
from estateops.registry_import import import_file
from registry.importer import ImportSummary, KindCounts, import_estates, load_estate_file
from tests.registry.rows import read_registry
from tests.registry.samples import replace_in_file


async def test_yaml_import_creates_the_estates_with_chinese_names(
    sessions: async_sessionmaker[AsyncSession], longdi_yaml: Path, profiles: ProfileSet
) -> None:
    summary = await import_estates(sessions, load_estate_file(longdi_yaml), profiles)

    assert summary == ImportSummary(
        estates=KindCounts(created=2), buildings=KindCounts(created=2),
        units=KindCounts(created=2), devices=KindCounts(created=7),
    )
    rows = await read_registry(sessions)
    assert rows.estates["longdi"] == ("龙涤小区", "香坊区", "Asia/Shanghai")
    building_41 = rows.buildings[("longdi", "b41")]
    assert building_41[1] == "41号楼"
    assert rows.units[(building_41[0], "u2")][1] == "2单元"
    leak = rows.device("longdi", "leak-41-2-01")
    assert leak["display_name"] == "41号楼2单元水表间"
    assert leak["building_id"] == building_41[0]
    assert leak["unit_id"] == rows.units[(building_41[0], "u2")][0]
    assert rows.device("longdi", "light-41-2-3f")["reporting_interval_s"] == 300.0
    assert rows.device("longdi", "ebike-42-01")["kind"] == "ebike"


async def test_reimport_changes_nothing_and_keeps_primary_keys(
    sessions: async_sessionmaker[AsyncSession], longdi_yaml: Path, profiles: ProfileSet
) -> None:
    estates = load_estate_file(longdi_yaml)
    await import_estates(sessions, estates, profiles)
    before = await read_registry(sessions)

    summary = await import_estates(sessions, estates, profiles)

    assert summary == ImportSummary(
        estates=KindCounts(unchanged=2), buildings=KindCounts(unchanged=2),
        units=KindCounts(unchanged=2), devices=KindCounts(unchanged=7),
    )
    assert await read_registry(sessions) == before


async def test_reimport_updates_a_changed_display_name_in_place(
    sessions: async_sessionmaker[AsyncSession], longdi_yaml: Path, profiles: ProfileSet
) -> None:
    await import_estates(sessions, load_estate_file(longdi_yaml), profiles)
    before = await read_registry(sessions)
    replace_in_file(longdi_yaml, "41号楼2单元水表间", "41号楼2单元水表间(东)")

    summary = await import_estates(sessions, load_estate_file(longdi_yaml), profiles)

    assert summary.devices == KindCounts(updated=1, unchanged=6)
    after = await read_registry(sessions)
    leak = after.device("longdi", "leak-41-2-01")
    assert leak["display_name"] == "41号楼2单元水表间(东)"
    assert leak["pk"] == before.device("longdi", "leak-41-2-01")["pk"]
    assert after.devices.keys() == before.devices.keys()
    assert after.buildings == before.buildings
    assert after.units == before.units


async def test_moving_a_device_to_another_building_keeps_its_row(
    sessions: async_sessionmaker[AsyncSession], longdi_yaml: Path, profiles: ProfileSet
) -> None:
    await import_estates(sessions, load_estate_file(longdi_yaml), profiles)
    before = await read_registry(sessions)
    replace_in_file(longdi_yaml, "light-41-3-1f, type: voice_light, building: b41, unit: u3,",
                    "light-41-3-1f, type: voice_light, building: b42,")

    await import_estates(sessions, load_estate_file(longdi_yaml), profiles)

    light = (await read_registry(sessions)).device("longdi", "light-41-3-1f")
    assert light["pk"] == before.device("longdi", "light-41-3-1f")["pk"]
    assert light["building_id"] == before.buildings[("longdi", "b42")][0]
    assert light["unit_id"] is None


async def test_devices_missing_from_the_file_are_left_alone(
    sessions: async_sessionmaker[AsyncSession], longdi_yaml: Path, profiles: ProfileSet
) -> None:
    await import_estates(sessions, load_estate_file(longdi_yaml), profiles)
    gate = "      - {id: gate-north, type: barrier_gate, name: 北门道闸, location: north-in}\n"
    replace_in_file(longdi_yaml, gate, "")

    summary = await import_estates(sessions, load_estate_file(longdi_yaml), profiles)

    assert summary.devices == KindCounts(unchanged=6)
    assert ("longdi", "gate-north") in (await read_registry(sessions)).devices


def test_csv_reads_as_the_same_estates_as_yaml(longdi_yaml: Path, longdi_csv: Path) -> None:
    from_csv = load_estate_file(longdi_csv).model_dump()
    assert from_csv == load_estate_file(longdi_yaml).model_dump()
    assert from_csv["estates"][0]["buildings"][0]["units"][1] == {"code": "u3", "name": "3单元"}


async def test_csv_import_then_yaml_import_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], longdi_yaml: Path, longdi_csv: Path,
    profiles: ProfileSet,
) -> None:
    created = await import_estates(sessions, load_estate_file(longdi_csv), profiles)
    from_csv = await read_registry(sessions)

    again = await import_estates(sessions, load_estate_file(longdi_yaml), profiles)

    assert created.devices == KindCounts(created=7)
    assert again == ImportSummary(
        estates=KindCounts(unchanged=2), buildings=KindCounts(unchanged=2),
        units=KindCounts(unchanged=2), devices=KindCounts(unchanged=7),
    )
    assert await read_registry(sessions) == from_csv


async def test_import_file_is_what_the_cli_runs(
    database_url: str, longdi_csv: Path, profiles: ProfileSet
) -> None:
    first = await import_file(database_url, longdi_csv, profiles)
    second = await import_file(database_url, longdi_csv, profiles)

    assert str(first) == (
        "estates 2 created, 0 updated, 0 unchanged; buildings 2 created, 0 updated, 0 unchanged; "
        "units 2 created, 0 updated, 0 unchanged; devices 7 created, 0 updated, 0 unchanged"
    )
    assert second.devices == KindCounts(unchanged=7)


async def test_import_file_creates_the_schema_of_a_new_sqlite_database(
    tmp_path: Path, longdi_yaml: Path, profiles: ProfileSet
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'estateops.sqlite3'}"
    summary = await import_file(url, longdi_yaml, profiles)
    assert summary.estates == KindCounts(created=2)
