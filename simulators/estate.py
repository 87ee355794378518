"""A simulated estate as an import file, modelled on 龙涤小区 (an old estate in Harbin).

Layout (deterministic for a given seed): buildings 1号楼..N号楼, 2-4 units each, 6-7
floors; per unit one leak sensor in the 水表间 or 管道井 and a voice light on every
second landing; an e-bike charging shed per few buildings; a handful of car chargers;
barrier gates at the north and south entrances.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from pathlib import Path

import yaml

from registry.schema import BuildingIn, DeviceIn, EstateFile, EstateIn, UnitIn

GATE_LANES = ("north-in", "north-out", "south-in", "south-out")
GATE_NAMES = {"north-in": "北门入口", "north-out": "北门出口",
              "south-in": "南门入口", "south-out": "南门出口"}
LEAK_ROOMS = ("水表间", "管道井")


def build_estate(
    buildings: int = 60,
    estate_id: str = "longdi",
    name: str = "龙涤小区",
    *,
    seed: int = 0,
    zone: str | None = "哈尔滨",
    light_every: int = 2,
    buildings_per_shed: int = 3,
    car_chargers: int = 6,
) -> EstateFile:
    """The estate's buildings, units and devices; building 41 (if present) has unit 2."""
    if buildings < 1:
        raise ValueError("an estate needs at least one building")
    rng = random.Random(f"estate:{estate_id}:{seed}")
    building_list: list[BuildingIn] = []
    devices: list[DeviceIn] = []
    for number in range(1, buildings + 1):
        units = rng.choice((2, 3, 3, 4))
        floors = rng.choice((6, 6, 7))
        building = _building(number, units)
        building_list.append(building)
        for unit in building.units:
            devices.extend(_unit_devices(building, unit, floors, light_every, rng))
    devices.extend(_ebike_chargers(building_list, buildings_per_shed, rng))
    devices.extend(_car_chargers(car_chargers, building_list[0].code))
    devices.extend(_gates())
    estate = EstateIn(id=estate_id, name=name, zone=zone, buildings=building_list,
                      devices=devices)
    return EstateFile(estates=[estate])


def _building(number: int, units: int) -> BuildingIn:
    return BuildingIn(
        code=f"b{number}", name=f"{number}号楼",
        units=[UnitIn(code=f"u{u}", name=f"{u}单元") for u in range(1, units + 1)],
    )


def _unit_devices(building: BuildingIn, unit: UnitIn, floors: int, light_every: int,
                  rng: random.Random) -> list[DeviceIn]:
    where = f"{building.name}{unit.name}"
    prefix = f"{building.code}-{unit.code}"
    room = rng.choice(LEAK_ROOMS)
    devices = [DeviceIn(
        id=f"{prefix}-leak", type="leak_sensor", name=f"{where} 漏水传感器",
        building=building.code, unit=unit.code, location=f"{where} {room}",
    )]
    for floor in range(1, floors + 1, max(1, light_every)):
        devices.append(DeviceIn(
            id=f"{prefix}-light-f{floor}", type="voice_light", name=f"{where} {floor}楼声控灯",
            building=building.code, unit=unit.code, location=f"{where} {floor}楼楼梯间",
        ))
    return devices


def _ebike_chargers(buildings: list[BuildingIn], per_shed: int,
                    rng: random.Random) -> list[DeviceIn]:
    devices: list[DeviceIn] = []
    step = max(1, per_shed)
    for group, first in enumerate(range(0, len(buildings), step), start=1):
        served = buildings[first:first + step]
        names = f"{served[0].name}-{served[-1].name}" if len(served) > 1 else served[0].name
        shed = f"{names} 车棚"
        for port in range(1, rng.choice((4, 5, 6)) + 1):
            devices.append(DeviceIn(
                id=f"ebike-g{group:02d}-{port}", type="ev_charger", kind="ebike",
                name=f"{shed} {port}号电动车充电桩", building=served[0].code,
                location=shed,
            ))
    return devices


def _car_chargers(count: int, near_building: str) -> list[DeviceIn]:
    return [
        DeviceIn(id=f"car-{n:02d}", type="ev_charger", kind="car",
                 name=f"南门停车场 {n}号汽车充电桩", building=near_building,
                 location="南门地面停车场")
        for n in range(1, count + 1)
    ]


def _gates() -> list[DeviceIn]:
    return [
        DeviceIn(id=f"gate-{lane}", type="barrier_gate", name=f"{GATE_NAMES[lane]}道闸",
                 location=lane)
        for lane in GATE_LANES
    ]


def scale_estate(estate: EstateFile, devices: int, keep: Collection[str] = ()) -> EstateFile:
    """The estate with its device list cut to, or cloned up to, `devices` devices.

    A cut keeps the devices named in `keep` first, then takes the device types in turn, so
    even a small cut has every type. Clones keep their original's building, unit and type;
    their ids end in `-xN`. Write the result with `write_estate_yaml` and import it so the
    clones are registered.
    """
    if devices < 1:
        raise ValueError("devices must be at least 1")
    originals = _types_in_turn([(e.id, d) for e in estate.estates for d in e.devices], keep)
    if not originals:
        raise ValueError("the estate has no devices to scale")
    chosen: dict[str, list[DeviceIn]] = {e.id: [] for e in estate.estates}
    for index in range(devices):
        estate_id, device = originals[index % len(originals)]
        copy_number = index // len(originals)
        if copy_number:
            suffix = f"-x{copy_number + 1}"
            device = device.model_copy(update={
                "id": f"{device.id[:64 - len(suffix)]}{suffix}",
                "name": f"{device.name or device.id} #{copy_number + 1}",
            })
        chosen[estate_id].append(device)
    scaled = [e.model_copy(update={"devices": chosen[e.id]}) for e in estate.estates]
    return EstateFile(estates=[EstateIn.model_validate(e.model_dump()) for e in scaled])


def _types_in_turn(devices: list[tuple[str, DeviceIn]],
                   keep: Collection[str]) -> list[tuple[str, DeviceIn]]:
    first = [item for item in devices if item[1].id in keep]
    by_type: dict[str, list[tuple[str, DeviceIn]]] = {}
    for item in devices:
        if item[1].id not in keep:
            by_type.setdefault(item[1].type, []).append(item)
    queues = list(by_type.values())
    in_turn = [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)]
    return first + in_turn


def write_estate_yaml(estate: EstateFile, path: Path | str) -> None:
    """Write the estate as an import file (YAML, UTF-8, unset fields left out)."""
    data = estate.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
    Path(path).write_text(text, encoding="utf-8")


def load_estate_yaml(path: Path | str) -> EstateFile:
    """Read an import file written by `write_estate_yaml` (or by hand)."""
    return EstateFile.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
