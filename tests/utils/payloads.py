"""Valid, realistic example payloads of the contract's device types, for tests that need one.

Each contract type has a telemetry example and one example per event (checked by
tests/gateway/test_decode.py). A profile without examples here is still tested: payloads
generated from its own declarations are in tests/utils/profile_cases.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from core.topic import Channel, Topic

# 2026-11-22T08:00:00+08:00, the instant used by the examples in the device contract.
CONTRACT_TS_MS = 1795305600000
CONTRACT_TS_RFC3339 = "2026-11-22T08:00:00+08:00"
CONTRACT_TS_NS = CONTRACT_TS_MS * 1_000_000

TELEMETRY_EXAMPLES: Mapping[str, Mapping[str, Any]] = {
    "leak_sensor": {"leak": True, "battery": 96, "rssi": -67, "temperature_c": 21.5},
    "voice_light": {"state": "on", "current_ma": 41.5, "sound_db": 63.0},
    "ev_charger": {"status": "charging", "power_kw": 1.8, "energy_kwh": 0.62,
                   "temperature_c": 48.5, "fault_code": None, "connector": 1},
    "barrier_gate": {"position": "closed", "loop_occupied": False, "fault_code": None},
}

EVENT_EXAMPLES: Mapping[str, Mapping[str, Mapping[str, Any]]] = {
    "leak_sensor": {},
    "voice_light": {"triggered": {"sound_db": 63.0}},
    "ev_charger": {
        "session_start": {"session_id": "s-0001", "energy_kwh": 0.0},
        "session_stop": {"session_id": "s-0001", "energy_kwh": 7.25},
    },
    "barrier_gate": {
        "vehicle_entry": {"plate": "黑A12345", "lane": "north-in"},
        "vehicle_exit": {"plate": "黑A12345", "lane": "north-out"},
        "obstruction": {},
        "manual_open": {"operator": "王师傅"},
    },
}


def telemetry_payload(device_type: str, **overrides: Any) -> dict[str, Any]:
    """A valid telemetry payload (no `ts`: time of receipt) with `overrides` applied."""
    return {**TELEMETRY_EXAMPLES[device_type], **overrides}


def event_payload(device_type: str, event: str, **overrides: Any) -> dict[str, Any]:
    """A valid event payload for `event` with `overrides` applied."""
    return {"event": event, **EVENT_EXAMPLES[device_type][event], **overrides}


def encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def topic_for(device_type: str, channel: Channel = Channel.TELEMETRY, *,
              estate_id: str = "longdi", device_id: str = "dev-001") -> Topic:
    return Topic(estate_id=estate_id, device_type=device_type, device_id=device_id,
                 channel=channel)
