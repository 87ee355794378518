"""Scripted faults: the default plan, what each fault does to a report, malformed kinds."""

from __future__ import annotations

import json
import math
import time

import pytest

from device_profiles import load_profiles
from registry.schema import DeviceIn
from simulators.behaviour import Message
from simulators.estate import build_estate
from simulators.faults import (
    ActiveFault,
    Fault,
    FaultKind,
    FaultPlan,
    FaultPlanError,
    MalformedKind,
    apply_fault,
    default_plan,
    fault_plan,
    malformed_message,
)
from tests.simulators.support import contract_errors, parse_payload

SENSOR = DeviceIn(id="b41-u2-leak", type="leak_sensor", building="b41", unit="u2")
VALID = {"ts": 1795305600000, "seq": 7, "leak": False, "battery": 88.0, "rssi": -70,
         "temperature_c": 15.2}


def malformed(kind: MalformedKind) -> tuple[str, bytes]:
    message = malformed_message(kind, "longdi", SENSOR, dict(VALID),
                                profile=load_profiles().get("leak_sensor"),
                                wall_time=time.time())
    return message.topic, message.payload


def test_not_json() -> None:
    _, payload = malformed(MalformedKind.NOT_JSON)
    with pytest.raises(ValueError, match="Expecting value"):
        json.loads(payload)


def test_json_array() -> None:
    _, payload = malformed(MalformedKind.JSON_ARRAY)
    assert isinstance(json.loads(payload), list)


def test_wrong_type_says_yes_to_a_bool() -> None:
    _, payload = malformed(MalformedKind.WRONG_TYPE)
    assert json.loads(payload)["leak"] == "yes"


def test_nan_is_raw_text() -> None:
    _, payload = malformed(MalformedKind.NAN)
    assert b"NaN" in payload
    assert math.isnan(json.loads(payload)["battery"])
    with pytest.raises(ValueError, match="non-finite"):
        parse_payload(payload)


def test_ts_two_days_ahead() -> None:
    _, payload = malformed(MalformedKind.FUTURE_TS)
    ahead_s = json.loads(payload)["ts"] / 1000 - time.time()
    assert 47 * 3600 < ahead_s <= 48 * 3600 + 1


def test_oversize_is_a_json_object_over_64_kib() -> None:
    _, payload = malformed(MalformedKind.OVERSIZE)
    assert len(payload) > 64 * 1024
    assert isinstance(json.loads(payload), dict)


def test_unknown_device_keeps_a_valid_payload_on_an_unregistered_id() -> None:
    topic, payload = malformed(MalformedKind.UNKNOWN_DEVICE)
    device_id = topic.split("/")[3]
    assert device_id not in {d.id for d in build_estate().estates[0].devices}
    assert contract_errors(load_profiles(), topic, payload) == []


def test_type_mismatch_publishes_under_another_type() -> None:
    topic, payload = malformed(MalformedKind.TYPE_MISMATCH)
    _, _, device_type, device_id, _ = topic.split("/")
    assert device_id == SENSOR.id
    assert device_type != SENSOR.type
    assert json.loads(payload)["leak"] is False


def test_contract_checker_rejects_each_payload_kind() -> None:
    profiles = load_profiles()
    for kind in (MalformedKind.NOT_JSON, MalformedKind.JSON_ARRAY, MalformedKind.WRONG_TYPE,
                 MalformedKind.NAN, MalformedKind.FUTURE_TS, MalformedKind.OVERSIZE):
        topic, payload = malformed(kind)
        assert contract_errors(profiles, topic, payload), kind


def test_default_plan_covers_every_kind() -> None:
    plan = default_plan(build_estate())

    kinds = {f.kind for f in plan.faults}
    assert kinds == set(FaultKind)
    assert {f.malformed for f in plan.faults if f.malformed} == set(MalformedKind)
    leak = next(f for f in plan.faults if f.kind is FaultKind.LEAK)
    assert leak.device_id == "b41-u2-leak"
    stuck = next(f for f in plan.faults if f.kind is FaultKind.GATE_STUCK_OPEN)
    assert stuck.duration_s >= 120
    plan.check(build_estate().estates[0].devices)


def test_default_plan_on_a_small_estate_leaves_out_missing_targets() -> None:
    estate = build_estate(buildings=1)
    plan = default_plan(estate)

    assert FaultKind.LEAK not in {f.kind for f in plan.faults}
    plan.check(estate.estates[0].devices)


def test_plan_check_rejects_missing_and_mistyped_targets() -> None:
    devices = build_estate(buildings=1).estates[0].devices
    with pytest.raises(FaultPlanError, match="not simulated"):
        FaultPlan((Fault(FaultKind.LEAK, "nope", 0, 10),)).check(devices)
    with pytest.raises(FaultPlanError, match="needs a leak_sensor"):
        FaultPlan((Fault(FaultKind.LEAK, "gate-north-in", 0, 10),)).check(devices)


def test_fault_plan_names() -> None:
    estate = build_estate(buildings=1)
    assert fault_plan("none", estate) == FaultPlan()
    assert fault_plan("default", estate) == default_plan(estate)
    with pytest.raises(ValueError, match="none or default"):
        fault_plan("chaos", estate)


def overlay(kind: FaultKind, messages: list[Message], reports: int = 0,
            elapsed_s: float = 0.0) -> list[Message]:
    active = ActiveFault(Fault(kind, "d", 0, 600), started_at_s=0.0, reports=reports)
    return apply_fault(active, messages, elapsed_s)


def test_leak_and_flapping_leak() -> None:
    dry = [Message("telemetry", {"leak": False, "battery": 90.0})]
    assert overlay(FaultKind.LEAK, dry)[0].body["leak"] is True
    flaps = [overlay(FaultKind.FLAPPING_LEAK, dry, reports=n)[0].body["leak"] for n in range(4)]
    assert flaps == [True, False, True, False]


def test_ebike_overheating_reaches_sixty() -> None:
    idle = [Message("telemetry", {"status": "available", "power_kw": 0.0, "temperature_c": 5.0})]
    body = overlay(FaultKind.CHARGER_OVERHEAT, idle, elapsed_s=300)[0].body
    assert body["status"] == "charging"
    assert float(body["temperature_c"] or 0) >= 60


def test_gate_stuck_open_lets_no_vehicle_through() -> None:
    busy = [Message("event", {"event": "vehicle_entry", "plate": "黑A12345", "lane": "x"}),
            Message("telemetry", {"position": "closed", "loop_occupied": True})]
    out = overlay(FaultKind.GATE_STUCK_OPEN, busy)
    assert [m.body for m in out] == [{"position": "open", "loop_occupied": False}]


def test_dead_lamp_is_on_without_current() -> None:
    off = [Message("telemetry", {"state": "off", "current_ma": 0.0, "sound_db": 60.0})]
    for reports in range(3):
        body = overlay(FaultKind.DEAD_LAMP, off, reports=reports)[0].body
        assert body["state"] == "on"
        assert float(body["current_ma"] or 0) < 5
