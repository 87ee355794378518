"""Zigbee2MQTT topics and payloads -> contract messages (pure functions, no I/O).

Zigbee2MQTT publishes a device's state as one JSON object on `<base>/<friendly_name>` and,
with availability on, `{"state": "online"|"offline"}` (older versions: the bare word),
retained, on `<base>/<friendly_name>/availability`. Friendly names may contain "/".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bridges.zigbee2mqtt.profiles import Z2mProfile

IGNORED_SUFFIXES = ("/set", "/get", "/availability/set")


@dataclass(frozen=True, slots=True)
class Z2mTopic:
    friendly_name: str
    kind: Literal["state", "availability"]


def parse_topic(topic: str, base: str) -> Z2mTopic | None:
    """A device's state or availability topic; None for the bridge's own and command topics."""
    rest = topic.removeprefix(f"{base}/")
    if rest == topic or not rest or rest.startswith("bridge/") or rest == "bridge":
        return None
    if rest.endswith(IGNORED_SUFFIXES):
        return None
    if rest.endswith("/availability"):
        return Z2mTopic(rest.removesuffix("/availability"), "availability")
    return Z2mTopic(rest, "state")


def parse_availability(payload: bytes) -> bool | None:
    """True online, False offline, None unreadable."""
    text = payload.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        try:
            state = json.loads(text).get("state")
        except (ValueError, AttributeError):
            return None
    else:
        state = text  # legacy_availability_payload: the bare word
    return {"online": True, "offline": False}.get(state) if isinstance(state, str) else None


def translate_state(payload: bytes, profile: Z2mProfile) -> dict[str, object] | None:
    """The contract telemetry of one state message, or None if it is not a JSON object."""
    try:
        state = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(state, dict):
        return None
    values: dict[str, object] = {}
    ts = _last_seen(state.get("last_seen"))
    if ts is not None:
        values["ts"] = ts
    for name, value in state.items():
        field = profile.fields.get(name)
        if field is not None and value is not None:
            values[field] = value
    return values


def _last_seen(value: object) -> str | int | None:
    """Zigbee2MQTT's `last_seen` (advanced.last_seen: ISO_8601, ISO_8601_local or epoch ms)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed.isoformat() if parsed.tzinfo is not None else None
    return None
