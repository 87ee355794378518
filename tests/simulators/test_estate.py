"""The simulated estate: 龙涤小区's layout, determinism, YAML round trip, scaling."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from registry.schema import EstateFile
from simulators.estate import (
    GATE_LANES,
    build_estate,
    load_estate_yaml,
    scale_estate,
    write_estate_yaml,
)


def test_default_estate_is_longdi_with_sixty_buildings() -> None:
    estate = build_estate().estates[0]

    assert (estate.id, estate.name) == ("longdi", "龙涤小区")
    assert [b.name for b in estate.buildings] == [f"{n}号楼" for n in range(1, 61)]
    assert all(2 <= len(b.units) <= 4 for b in estate.buildings)
    assert 600 <= len(estate.devices) <= 1000


def test_every_unit_has_a_leak_sensor_and_landing_lights() -> None:
    estate = build_estate().estates[0]
    per_unit = Counter((d.building, d.unit, d.type) for d in estate.devices if d.unit)

    for building in estate.buildings:
        for unit in building.units:
            assert per_unit[(building.code, unit.code, "leak_sensor")] == 1
            assert per_unit[(building.code, unit.code, "voice_light")] >= 3
    leak_rooms = {d.location.split()[-1] for d in estate.devices
                  if d.type == "leak_sensor" and d.location}
    assert leak_rooms == {"水表间", "管道井"}


def test_chargers_and_gates() -> None:
    devices = build_estate().estates[0].devices
    kinds = Counter(d.kind for d in devices if d.type == "ev_charger")
    gates = [d for d in devices if d.type == "barrier_gate"]

    assert kinds["ebike"] >= 60
    assert 1 <= kinds["car"] <= 10
    assert sorted(g.location or "" for g in gates) == sorted(GATE_LANES)


def test_building_41_unit_2_has_the_scripted_leak_sensor() -> None:
    devices = {d.id: d for d in build_estate().estates[0].devices}

    sensor = devices["b41-u2-leak"]
    assert (sensor.type, sensor.building, sensor.unit) == ("leak_sensor", "b41", "u2")
    assert sensor.name is not None
    assert sensor.name.startswith("41号楼2单元")


def test_one_building_estate() -> None:
    estate = build_estate(buildings=1, estate_id="tiny").estates[0]

    assert [b.code for b in estate.buildings] == ["b1"]
    assert {d.type for d in estate.devices} == {
        "leak_sensor", "voice_light", "ev_charger", "barrier_gate"}


def test_deterministic_for_a_seed() -> None:
    assert build_estate(seed=3) == build_estate(seed=3)
    assert build_estate(seed=3) != build_estate(seed=4)


def test_yaml_round_trip(tmp_path: Path) -> None:
    estate = build_estate(buildings=5)
    path = tmp_path / "estate.yaml"

    write_estate_yaml(estate, path)

    assert "龙涤小区" in path.read_text(encoding="utf-8")
    assert load_estate_yaml(path) == estate


def test_scale_down_keeps_named_devices_and_every_type() -> None:
    estate = build_estate()

    cut = scale_estate(estate, 10, keep={"b41-u2-leak"}).estates[0].devices

    assert len(cut) == 10
    assert cut[0].id == "b41-u2-leak"
    assert {d.type for d in cut} == {"leak_sensor", "voice_light", "ev_charger", "barrier_gate"}


def test_scale_up_clones_with_unique_ids() -> None:
    estate = build_estate(buildings=2)
    count = len(estate.estates[0].devices)

    scaled = scale_estate(estate, count * 2 + 3)
    ids = [d.id for d in scaled.estates[0].devices]

    assert len(ids) == len(set(ids)) == count * 2 + 3
    assert sum(i.endswith("-x3") for i in ids) == 3
    EstateFile.model_validate(scaled.model_dump())
