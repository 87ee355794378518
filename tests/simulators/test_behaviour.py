"""Device behaviour over a simulated day: contract-shaped payloads and daily rhythms."""

from __future__ import annotations

import itertools
import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from statistics import mean

import pytest

from device_profiles import load_profiles
from simulators.behaviour import (
    BarrierGateModel,
    ChargerModel,
    DeviceModel,
    LeakSensorModel,
    Message,
    VoiceLightModel,
)
from simulators.clock import SHANGHAI, SimClock
from simulators.estate import build_estate
from simulators.fleet import build_fleet
from tests.simulators.support import contract_errors

WINTER_DAY = datetime(2026, 11, 22, 0, 0, tzinfo=SHANGHAI)
PLATE = re.compile(r"^[黑吉辽][A-Z][0-9A-Z]{5,6}$")


def run_day(model: DeviceModel, step_s: float = 60.0) -> Iterator[tuple[datetime, Message]]:
    for step in range(int(86_400 / step_s)):
        now = WINTER_DAY + timedelta(seconds=step * step_s)
        for message in model.step(now, step_s):
            yield now, message


@pytest.mark.parametrize(("device_type", "model"), [
    ("leak_sensor", LeakSensorModel(random.Random(1))),
    ("voice_light", VoiceLightModel(random.Random(2))),
    ("ev_charger", ChargerModel(random.Random(3), "ebike", "ebike-1")),
    ("ev_charger", ChargerModel(random.Random(4), "car", "car-1")),
    ("barrier_gate", BarrierGateModel(random.Random(5), "north-out", 0)),
])
def test_a_day_of_payloads_meets_the_contract(device_type: str, model: DeviceModel) -> None:
    profiles = load_profiles()
    channels: Counter[str] = Counter()
    for _, message in run_day(model):
        topic = f"estates/e/{device_type}/d/{message.channel}"
        payload = json.dumps({"ts": 1795305600000, "seq": 1, **message.body}).encode()
        assert contract_errors(profiles, topic, payload) == [], message
        channels[message.channel] += 1
    assert channels["telemetry"] == 1440
    assert channels["event"] > 0 or device_type == "leak_sensor"


def test_stairwell_lights_come_on_after_dark_not_at_noon() -> None:
    on_by_hour: Counter[int] = Counter()
    for seed in range(20):
        for now, message in run_day(VoiceLightModel(random.Random(seed))):
            if message.channel == "telemetry" and message.body["state"] == "on":
                on_by_hour[now.hour] += 1
                assert 35 <= float(message.body["current_ma"] or 0) <= 45
            elif message.channel == "telemetry":
                assert message.body["current_ma"] == 0
    assert on_by_hour[12] == 0
    assert on_by_hour[19] > 10 * max(1, on_by_hour[3])


def test_chargers_cycle_through_ocpp_states_with_a_rising_meter() -> None:
    model = ChargerModel(random.Random(7), "ebike", "ebike-7")
    statuses: list[str] = []
    meter = 0.0
    temps: dict[str, list[float]] = {}
    for _ in range(3):
        for _, message in run_day(model):
            if message.channel != "telemetry":
                continue
            body = message.body
            assert float(body["energy_kwh"] or 0) >= meter
            meter = float(body["energy_kwh"] or 0)
            status = str(body["status"])
            if status == "charging":
                assert 0.9 <= float(body["power_kw"] or 0) <= 2.0
            if not statuses or statuses[-1] != status:
                statuses.append(status)
            temps.setdefault(status, []).append(float(body["temperature_c"] or 0))
    cycle = ["available", "preparing", "charging", "finishing"]
    assert len(statuses) > 8
    for before, after in itertools.pairwise(statuses):
        assert cycle.index(after) == (cycle.index(before) + 1) % 4
    assert mean(temps["charging"]) > mean(temps["available"]) + 5


def test_car_chargers_draw_about_seven_kilowatts() -> None:
    model = ChargerModel(random.Random(8), "car", "car-8")
    powers = [float(m.body["power_kw"] or 0) for day in range(3) for _, m in run_day(model)
              if m.channel == "telemetry" and m.body["status"] == "charging"]
    assert powers
    assert all(6.0 <= p <= 7.5 for p in powers)


def test_gates_are_busiest_at_rush_hour() -> None:
    exits: Counter[int] = Counter()
    for seed in range(5):
        for now, message in run_day(BarrierGateModel(random.Random(seed), "north-out", seed)):
            if message.body.get("event") == "vehicle_exit":
                exits[now.hour] += 1
                assert message.body["lane"] == "north-out"
                assert PLATE.match(str(message.body["plate"])), message.body["plate"]
    assert exits[7] + exits[8] > 4 * (exits[2] + exits[3] + 1)


def test_leak_sensors_stay_dry_while_the_battery_drains() -> None:
    model = LeakSensorModel(random.Random(9))
    readings = [m.body for day in range(3) for _, m in run_day(model)]
    assert all(r["leak"] is False for r in readings)
    assert float(readings[-1]["battery"] or 0) < float(readings[0]["battery"] or 0)


def test_payloads_carry_alternating_ts_styles_and_increasing_seq() -> None:
    fleet = build_fleet(build_estate(buildings=1), load_profiles())
    clock = SimClock(start_at=WINTER_DAY)
    styles = set()
    for device in fleet[:4]:
        seqs = []
        for report_number in range(3):
            report = device.report(60.0 * (report_number + 1), 1.0, clock.wall_time(), WINTER_DAY)
            for message in report.messages:
                body = json.loads(message.payload)
                seqs.append(body["seq"])
                styles.add(type(body["ts"]))
                if isinstance(body["ts"], str):
                    assert body["ts"].endswith("+08:00")
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == len(seqs)
    assert styles == {int, str}


def test_sim_clock_compresses_time_of_day() -> None:
    ticks = iter([100.0, 130.0])
    clock = SimClock(speed=60, start_at=WINTER_DAY, monotonic=lambda: next(ticks))

    assert clock.local_now() == WINTER_DAY + timedelta(minutes=30)
    assert clock.wall_due(3600) == 160.0
