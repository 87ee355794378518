"""Zones above estates: listed in the estate file, linked by `zone:`, checked strictly."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_profiles import ProfileSet
from registry.importer import KindCounts, RegistryImportError, import_estates, load_estate_file
from registry.tables import Estate, Zone

ZONED = """\
zones:
  - {id: xiangfang, name: 香坊片区}
  - {id: daoli, name: 道里片区}
estates:
  - {id: longdi, name: 龙涤小区, zone: xiangfang}
  - {id: hexing, name: 和兴小区, zone: 道里片区}
  - {id: lone, name: 独立小区}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "zoned.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def test_an_estate_joins_the_zone_its_zone_key_names_by_id_or_name(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, profiles: ProfileSet
) -> None:
    summary = await import_estates(sessions, load_estate_file(write(tmp_path, ZONED)), profiles)

    assert summary.zones == KindCounts(created=2)
    async with sessions() as session:
        zones = {zone.id: zone.name for zone in await session.scalars(select(Zone))}
        estates = {e.id: (e.zone_id, e.zone) for e in await session.scalars(select(Estate))}
    assert zones == {"xiangfang": "香坊片区", "daoli": "道里片区"}
    assert estates == {"longdi": ("xiangfang", "香坊片区"), "hexing": ("daoli", "道里片区"),
                       "lone": (None, None)}


async def test_reimport_keeps_the_zones(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, profiles: ProfileSet
) -> None:
    estates = load_estate_file(write(tmp_path, ZONED))
    await import_estates(sessions, estates, profiles)
    summary = await import_estates(sessions, estates, profiles)
    assert summary.zones == KindCounts(unchanged=2)
    assert summary.estates == KindCounts(unchanged=3)


def test_an_unknown_zone_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, ZONED.replace("zone: xiangfang", "zone: nowhere"))
    with pytest.raises(RegistryImportError) as caught:
        load_estate_file(path)
    assert "unknown zone 'nowhere'" in caught.value.problem
    assert caught.value.where == f"{path}:5"
