"""The estate file's bridge names (`zigbee2mqtt:`, `ocpp:`) in the registry's bridge_links."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_profiles import load_profiles
from registry.estate_file import load_estate_file
from registry.importer import (
    KindCounts,
    RegistryImportError,
    check_bridge_addresses,
    import_estates,
)
from registry.queries import load_bridge_links

ESTATE = """\
estates:
  - id: longdi
    name: 龙涤小区
    buildings: [{code: b41, name: 41号楼, units: [{code: u2, name: 2单元}]}]
    devices:
      - {id: b41-u2-leak, type: leak_sensor, building: b41, unit: u2,
         zigbee2mqtt: 41号楼/2单元/水表间}
      - {id: car-07, type: ev_charger, kind: car, ocpp: CP-LONGDI-07}
      - {id: gate-1, type: barrier_gate}
"""


async def links(sessions: async_sessionmaker[AsyncSession], bridge: str) -> dict[str, str]:
    async with sessions() as session:
        found = await load_bridge_links(session, bridge)
    return {address: ref.device_id for address, ref in found.items()}


async def test_bridge_names_are_imported_and_a_reimport_changes_nothing(
        sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    path = tmp_path / "estate.yaml"
    path.write_text(ESTATE, encoding="utf-8")
    await import_estates(sessions, load_estate_file(path), load_profiles())
    again = await import_estates(sessions, load_estate_file(path), load_profiles())

    assert await links(sessions, "zigbee2mqtt") == {"41号楼/2单元/水表间": "b41-u2-leak"}
    assert await links(sessions, "ocpp") == {"CP-LONGDI-07": "car-07"}
    assert again.devices == KindCounts(unchanged=3)


async def test_a_renamed_charge_point_is_updated_in_place(
        sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    path = tmp_path / "estate.yaml"
    path.write_text(ESTATE, encoding="utf-8")
    await import_estates(sessions, load_estate_file(path), load_profiles())
    path.write_text(ESTATE.replace("CP-LONGDI-07", "CP-LONGDI-08"), encoding="utf-8")
    await import_estates(sessions, load_estate_file(path), load_profiles())
    assert await links(sessions, "ocpp") == {"CP-LONGDI-08": "car-07"}


def test_one_name_for_two_devices_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "estate.yaml"
    path.write_text(ESTATE.replace("{id: gate-1, type: barrier_gate}",
                                   "{id: car-08, type: ev_charger, kind: car, ocpp: CP-LONGDI-07}"),
                    encoding="utf-8")
    estates = load_estate_file(path)
    with pytest.raises(RegistryImportError) as refused:
        check_bridge_addresses(estates)
    assert str(refused.value) == (
        f"{path}:9: estates[0].devices[2].ocpp: 'CP-LONGDI-07' already names device "
        "longdi/car-07")


def test_a_friendly_name_with_mqtt_wildcards_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "estate.yaml"
    path.write_text(ESTATE.replace("41号楼/2单元/水表间", "leak/#"), encoding="utf-8")
    with pytest.raises(RegistryImportError, match="zigbee2mqtt"):
        load_estate_file(path)
