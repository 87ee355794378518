"""What the engine remembers per (device, rule), and the readings it attaches to anomalies.

Everything here is JSON-ready, so a state is saved as one row and loaded back after a
restart with its timers, counters and open episode intact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.clock import ns_to_datetime
from gateway.model import Reading

Snapshot = dict[str, Any]


def _iso(time_ns: int) -> str:
    return ns_to_datetime(time_ns).isoformat(timespec="milliseconds")


def reading_snapshot(reading: Reading) -> Snapshot:
    """A reading as kept in rule state: its ts, receipt time, channel, values, event, seq."""
    snapshot: Snapshot = {"time_ns": reading.time_ns, "received_ns": reading.received_ns,
                          "channel": reading.topic.channel.value, "values": dict(reading.values)}
    if reading.event is not None:
        snapshot["event"] = reading.event
    if reading.seq is not None:
        snapshot["seq"] = reading.seq
    return snapshot


def status_snapshot(*, online: bool, received_ns: int) -> Snapshot:
    return {"time_ns": received_ns, "channel": "status",
            "values": {"status": "online" if online else "offline"}}


def attached(snapshot: Snapshot) -> Snapshot:
    """A snapshot as attached to an anomaly: with its time readable (made only when needed)."""
    return {"time": _iso(int(snapshot["time_ns"])), **snapshot}


@dataclass(slots=True)
class RuleState:
    """`streak`/`since_ns`/`started`/`recent`: the run of readings meeting a condition
    (`recent` also holds an event window); `heard_ns`: when the device was last heard;
    `last_ns`: the newest reading judged, so a late, older one cannot undo a newer verdict."""

    active: bool = False
    streak: int = 0
    since_ns: int | None = None
    last_ns: int | None = None
    heard_ns: int | None = None
    started: Snapshot | None = None
    recent: list[Snapshot] = field(default_factory=list)

    def reset_streak(self) -> None:
        self.streak, self.since_ns, self.started, self.recent = 0, None, None, []

    @property
    def idle(self) -> bool:
        """Nothing worth keeping: the same as a fresh state."""
        return not (self.active or self.streak or self.heard_ns is not None or self.recent
                    or self.started is not None or self.since_ns is not None)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"active": self.active}
        for name in ("streak", "since_ns", "last_ns", "heard_ns", "started", "recent"):
            value = getattr(self, name)
            if value:
                data[name] = value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RuleState:
        """Tolerant of a damaged row: wrong-typed entries fall back to their defaults."""
        recent = data.get("recent")
        started = data.get("started")
        return cls(
            active=data.get("active") is True,
            streak=_int(data.get("streak")) or 0,
            since_ns=_int(data.get("since_ns")),
            last_ns=_int(data.get("last_ns")),
            heard_ns=_int(data.get("heard_ns")),
            started=started if _is_snapshot(started) else None,
            recent=[item for item in recent if _is_snapshot(item)]
            if isinstance(recent, list) else [],
        )


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _is_snapshot(value: object) -> bool:
    return isinstance(value, dict) and _int(value.get("time_ns")) is not None
