"""Profiles load completely, and a wrong one stops start-up naming file, line and problem."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from device_profiles import BUILTIN_DIR, ProfileError, load_profile, load_profiles

CONTRACT_TYPES = {"leak_sensor", "voice_light", "ev_charger", "barrier_gate"}
GOOD = """\
device_type: fridge
name: {en: Fridge, zh: 冰箱}
reporting_interval_s: 60
measurement: fridge
telemetry:
  temperature_c: {type: float, unit: "°C"}
"""


@pytest.mark.parametrize("path", sorted(BUILTIN_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_builtin_profile_resolves(path: Path) -> None:
    profile = load_profile(path)
    assert profile.device_type == path.stem
    assert profile.telemetry, "a profile must declare telemetry"
    for name, spec in profile.telemetry.items():
        assert profile.canonical_field(name) == name
        for synonym in spec.synonyms:
            assert profile.canonical_field(synonym) == name


def test_contract_types_and_synonym() -> None:
    profiles = load_profiles()
    assert set(profiles.device_types) >= CONTRACT_TYPES
    assert profiles.by_type["leak_sensor"].canonical_field("water_leak") == "leak"
    assert profiles.by_type["ev_charger"].kinds == ("car", "ebike")


def test_an_operator_profile_adds_a_device_type(tmp_path: Path) -> None:
    (tmp_path / "fridge.yaml").write_text(GOOD, encoding="utf-8")
    assert "fridge" in load_profiles([tmp_path])


def _write(tmp_path: Path, text: str, name: str = "fridge.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "line", "problem"), [
    (GOOD + "colour: blue\n", 7, "colour: Extra inputs are not permitted"),
    (GOOD.replace("type: float", "type: decimal"), 6, "telemetry.temperature_c.type"),
    (GOOD.replace("reporting_interval_s: 60", "reporting_interval_s: -1"), 3,
     "reporting_interval_s"),
    (GOOD + "  door: {type: enum}\n", 7, "an enum field needs 'values'"),
    (GOOD + "  ts: {type: int}\n", 1, "reserved"),
    (GOOD.replace("measurement: fridge", "measurement: [fridge"), 5, "not valid YAML"),
    (GOOD + "kinds: [home, Shop]\n", 7, "kinds.1: String should match pattern"),
    (GOOD + "kinds: [home, shop, home]\n", 7, "kinds: Value error, kinds ['home'] are listed"),
    # Tags only with bounded values: each distinct tag value is an InfluxDB series.
    (GOOD + "  room: {type: string, tag: true}\n", 7, "a tag needs bounded values"),
    (GOOD + "  shelf: {type: int, min: 0, tag: true}\n", 7, "a tag needs bounded values"),
    (GOOD + "  shelf: {type: int, min: 0, max: 5000, tag: true}\n", 7, "a tag needs bounded"),
    (GOOD + "  level: {type: float, min: 0, max: 1, tag: true}\n", 7, "a tag needs bounded"),
    # All events share one measurement, where a field has one type.
    (GOOD + "events:\n  a: {code: {type: int}}\n  b: {code: {type: string}}\n", 7,
     "declared with another type"),
    (GOOD + "events:\n  a: {occurred: {type: string}}\n", 7, "reserved"),
])
def test_wrong_profile_names_file_line_and_problem(tmp_path: Path, text: str, line: int,
                                                   problem: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ProfileError) as caught:
        load_profiles([tmp_path])
    assert caught.value.path == path
    assert caught.value.line == line
    assert problem in str(caught.value)
    assert f"{path}:{line}" in str(caught.value)


def test_bounded_tags_are_allowed(tmp_path: Path) -> None:
    _write(tmp_path, GOOD + "  door: {type: enum, values: [open, shut], tag: true}\n"
           "  shelf: {type: int, min: 1, max: 8, tag: true}\n  lit: {type: bool, tag: true}\n")
    assert load_profiles([tmp_path]).by_type["fridge"].telemetry["shelf"].tag


def test_device_type_must_match_file_name(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, name="freezer.yaml")
    with pytest.raises(ProfileError, match="must match the file name 'freezer'"):
        load_profiles([tmp_path])


def test_missing_profile_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="does not exist"):
        load_profiles([tmp_path / "nowhere"])
