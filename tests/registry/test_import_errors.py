"""Bad estate files are refused with the file, the line and the field at fault; nothing is saved."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import open_database
from device_profiles import ProfileSet
from estateops.registry_import import import_file
from registry.importer import RegistryImportError, import_estates
from registry.schema import EstateFile
from registry.tables import Device, Estate
from tests.registry.samples import DATA

GATE = "{id: gate-north, type: barrier_gate, name: 北门道闸, location: north-in}"
CSV_LIGHT = "light-41-2-3f,voice_light,,3F,,300"


@dataclass(frozen=True)
class BadFile:
    name: str
    sample: str  # which sample file to start from
    old: str
    new: str
    needle: str  # text on the line the error must name (its last occurrence)
    expected: str  # text the message must contain


CASES = [
    BadFile("unknown-key", "longdi.yaml", "location: 水表间}", "location: 水表间, colour: red}",
            "colour", "colour: Extra inputs are not permitted"),
    BadFile("unknown-building", "longdi.yaml", "building: b42}", "building: b99}",
            "b99", "unknown building 'b99'"),
    BadFile("unknown-unit", "longdi.yaml", "unit: u3,", "unit: u9,", "u9", "unknown unit 'u9'"),
    BadFile("device-listed-twice", "longdi.yaml", GATE, f"{GATE}\n      - {GATE}", "gate-north",
            "'gate-north' is listed twice"),
    BadFile("unknown-device-type", "longdi.yaml", "type: barrier_gate", "type: fridge",
            "fridge", ".type: unknown device type 'fridge'"),
    # The estate file takes any slug as a kind; the charger's profile declares car and ebike.
    BadFile("kind-not-car-or-ebike", "longdi.yaml", "kind: car,", "kind: truck,", "truck",
            "kind: device type ev_charger needs kind car or ebike (got 'truck')"),
    BadFile("kind-not-a-slug", "longdi.yaml", "kind: car,", "kind: Car,", "Car",
            "kind: String should match pattern"),
    BadFile("kind-not-declared-in-csv", "longdi.csv", ",car,", ",truck,", "truck",
            "kind: device type ev_charger needs kind car or ebike (got 'truck')"),
    BadFile("charger-without-kind", "longdi.yaml", "kind: car, ", "", "car-01",
            "kind: device type ev_charger needs kind car or ebike"),
    BadFile("kind-on-a-leak-sensor", "longdi.yaml", "type: leak_sensor}",
            "type: leak_sensor, kind: car}", "leak-01",
            "kind: device type leak_sensor has no kinds"),
    BadFile("bad-slug", "longdi.yaml", "id: hongqi", "id: Hong Qi", "Hong Qi",
            "id: String should match pattern"),
    BadFile("invalid-yaml", "longdi.yaml", "    zone: 香坊区", "    zone: [香坊区", "buildings:",
            "not valid YAML"),
    BadFile("malformed-csv-row", "longdi.csv", CSV_LIGHT, f"{CSV_LIGHT},extra", "extra",
            "malformed row: 14 fields, the header has 13"),
    BadFile("bad-csv-quoting", "longdi.csv", ",3F,", ',"3F"x,', '"3F"x', "malformed CSV"),
    BadFile("unknown-csv-column", "longdi.csv", "reporting_interval_s\n", "colour\n",
            "estate_id,", "unknown column 'colour'"),
    BadFile("unknown-device-type-in-csv", "longdi.csv", "barrier_gate", "fridge", "fridge",
            "device_type: unknown device type 'fridge'"),
    BadFile("conflicting-estate-name", "longdi.csv", "longdi,龙涤小区,香坊区,,,,,car-01",
            "longdi,龙涤花园,香坊区,,,,,car-01", "龙涤花园",
            "estate_name: '龙涤花园' differs from '龙涤小区' in an earlier row"),
    BadFile("bad-device-id-in-csv", "longdi.csv", "gate-north", "Gate North", "Gate North",
            "device_id: String should match pattern"),
]


def write_bad_file(case: BadFile, directory: Path) -> Path:
    text = (DATA / case.sample).read_text(encoding="utf-8")
    assert case.old in text, f"{case.name}: the sample no longer contains {case.old!r}"
    path = directory / f"{case.name}{Path(case.sample).suffix}"
    path.write_text(text.replace(case.old, case.new, 1), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return max(number for number, line in enumerate(lines, 1) if needle in line)


async def saved_rows(database_url: str) -> int:
    async with open_database(database_url) as sessions, sessions() as session:
        estates = await session.scalar(select(func.count()).select_from(Estate))
        devices = await session.scalar(select(func.count()).select_from(Device))
        return (estates or 0) + (devices or 0)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_bad_file_is_refused_naming_file_line_and_field(
    case: BadFile, tmp_path: Path, database_url: str, profiles: ProfileSet
) -> None:
    path = write_bad_file(case, tmp_path)

    with pytest.raises(RegistryImportError) as caught:
        await import_file(database_url, path, profiles)

    message = str(caught.value)
    assert message.startswith(f"{path}:{line_of(path, case.needle)}: ")
    assert case.expected in message
    assert await saved_rows(database_url) == 0


async def test_estates_built_in_code_are_refused_with_their_data_path(
    database_url: str, profiles: ProfileSet
) -> None:
    estates = EstateFile.model_validate({"estates": [
        {"id": "longdi", "name": "龙涤小区", "devices": [{"id": "x-1", "type": "fridge"}]},
    ]})
    async with open_database(database_url) as sessions:
        refused = pytest.raises(RegistryImportError, match=r"^estates\[0\]\.devices\[0\]: type: ")
        with refused:
            await import_estates(sessions, estates, profiles)
    assert await saved_rows(database_url) == 0


async def test_an_unknown_suffix_is_refused(
    tmp_path: Path, database_url: str, profiles: ProfileSet
) -> None:
    path = tmp_path / "estates.json"
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(RegistryImportError, match=r"use \.yaml, \.yml or \.csv"):
        await import_file(database_url, path, profiles)
