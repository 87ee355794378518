"""Fuzzed MQTT messages for one estate: normal readings mixed with every kind of bad input
the issue found (bad JSON, NaN before a syntax error, deep nesting, huge and non-UTF-8
payloads, seq over 2**63, old and future ts, typed extras, free-text event attributes,
unknown devices, bad topics, redeliveries). Deterministic for a seed."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

ESTATE = "fuzz"
TYPES = ("leak_sensor", "voice_light", "ev_charger", "barrier_gate")
DEVICES = [(device_type, f"{device_type.split('_')[0]}-{n}")
           for device_type in TYPES for n in range(10)]
DAY_MS = 86_400_000
Message = tuple[str, bytes]
# Wildcards, NUL and control characters: the client refuses them, or Mosquitto disconnects
# the publisher, which then resends the same message forever.
_NOT_PUBLISHABLE = str.maketrans({"+": "p", "#": "h",
                                  **{chr(code): "c" for code in (*range(32), *range(127, 160))}})

EXAMPLES: dict[str, dict[str, Any]] = {
    "leak_sensor": {"leak": False, "battery": 96, "rssi": -67},
    "voice_light": {"state": "on", "current_ma": 41.5, "sound_db": 63.0},
    "ev_charger": {"status": "charging", "power_kw": 1.8, "energy_kwh": 0.62,
                   "temperature_c": 48.5, "fault_code": None, "connector": 1},
    "barrier_gate": {"position": "closed", "loop_occupied": False, "fault_code": None},
}
EVENTS: dict[str, list[str]] = {"voice_light": ["triggered"], "ev_charger": ["session_start"],
                                "barrier_gate": ["vehicle_entry", "obstruction", "manual_open"]}


class Fuzzer:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seq: dict[str, int] = {}
        self.sent: list[Message] = []

    def text(self, size: int) -> str:
        return "".join(chr(self.rng.choice([self.rng.randrange(32, 127),
                                            self.rng.randrange(0x4E00, 0x9FFF),
                                            self.rng.randrange(1, 0xD7FF)]))
                       for _ in range(size))

    def value(self, depth: int = 0) -> Any:
        pick = self.rng.randrange(12 if depth < 3 else 9)
        simple = [None, self.rng.random() < 0.5, self.rng.randint(-(2**70), 2**70),
                  self.rng.uniform(-1e9, 1e9), self.text(self.rng.randrange(0, 80)),
                  self.rng.choice(["on", "open", "charging", "online", "NaN"]),
                  2**64, float("nan"), self.rng.randrange(100)]
        if pick < len(simple):
            return simple[pick]
        if pick == 9:
            return [self.value(depth + 1) for _ in range(self.rng.randrange(4))]
        return {self.text(5): self.value(depth + 1) for _ in range(self.rng.randrange(4))}

    def device(self) -> tuple[str, str]:
        return self.rng.choice(DEVICES)

    def topic(self, device_type: str, device_id: str, channel: str = "telemetry") -> str:
        return f"estates/{ESTATE}/{device_type}/{device_id}/{channel}"

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def next_seq(self, device_id: str) -> int:
        self.seq[device_id] = self.seq.get(device_id, 0) + 1
        return self.seq[device_id]

    def dump(self, data: Any) -> bytes:
        return json.dumps(data, allow_nan=True, ensure_ascii=False).encode(
            "utf-8", errors="surrogatepass")

    # One method per kind of message; each returns (topic, payload).
    def valid(self) -> Message:
        device_type, device_id = self.device()
        body = {**EXAMPLES[device_type], "ts": self.now_ms(), "seq": self.next_seq(device_id)}
        return self.topic(device_type, device_id), self.dump(body)

    def mutated(self) -> Message:
        device_type, device_id = self.device()
        body: dict[str, Any] = {**EXAMPLES[device_type], "ts": self.now_ms()}
        for _ in range(self.rng.randrange(1, 4)):
            body[self.rng.choice([*body, "seq", "ts", "water_leak"])] = self.value()
        return self.topic(device_type, device_id), self.dump(body)

    def extras(self) -> Message:
        device_type, device_id = self.device()
        body = {**EXAMPLES[device_type], "linkquality": self.rng.choice(
            ["high", 87, 87.5, True, None, [1]]), self.text(8): self.value()}
        return self.topic(device_type, device_id), self.dump(body)

    def event(self) -> Message:
        device_type = self.rng.choice(list(EVENTS))
        device_id = self.rng.choice([d for t, d in DEVICES if t == device_type])
        body = {"event": self.rng.choice([*EVENTS[device_type], self.text(6)]),
                "plate": self.text(8), "lane": self.text(12), "operator": self.text(4),
                "session_id": self.text(16), "energy_kwh": self.rng.random()}
        return self.topic(device_type, device_id, "event"), self.dump(body)

    def timing(self) -> Message:
        device_type, device_id = self.device()
        offset = self.rng.choice([-self.rng.randrange(8, 5000) * DAY_MS, 2 * DAY_MS,
                                  -(2**62), 10**18])
        body = {**EXAMPLES[device_type], "ts": self.now_ms() + offset,
                "seq": self.rng.choice([2**63, 2**64, -1, self.next_seq(device_id)])}
        return self.topic(device_type, device_id), self.dump(body)

    def raw(self) -> Message:
        device_type, device_id = self.device()
        good = self.dump({**EXAMPLES[device_type], "ts": self.now_ms()})
        payload = self.rng.choice([
            self.rng.randbytes(self.rng.randrange(64)),
            good[:self.rng.randrange(len(good))],
            b'{"leak": NaN, ' + self.rng.randbytes(4),
            b'{"x": NaN' + b"[" * self.rng.randrange(10, 5000),
            good.decode().encode("utf-16"),
            b'{"leak": "\xff\xfe"}',
            b'{"leak": ' + b"1" * 5000 + b"}",
        ])
        return self.topic(device_type, device_id), payload

    def deep(self) -> Message:
        device_type, device_id = self.device()
        depth = self.rng.choice([50, 500, 990, 3000, 30000])
        return self.topic(device_type, device_id), (
            b'{"leak": false, "x": ' + b"[" * depth + b"]" * depth + b"}")

    def huge(self) -> Message:
        device_type, device_id = self.device()
        size = self.rng.choice([60_000, 70_000, 300_000, 1_000_000])
        return self.topic(device_type, device_id), self.dump(
            {**EXAMPLES[device_type], "blob": "x" * size})

    def stranger(self) -> Message:
        device_type = self.rng.choice([*TYPES, "fridge", "LEAK", self.text(5)])
        device_id = self.rng.choice([f"ghost-{self.rng.randrange(10**6)}", self.text(10),
                                     "a" * 70, self.device()[1]])
        channel = self.rng.choice(["telemetry", "event", "status", "config", ""])
        topic = f"estates/{ESTATE}/{device_type}/{device_id}/{channel}"
        return topic.translate(_NOT_PUBLISHABLE), self.dump(EXAMPLES["leak_sensor"])

    def status(self) -> Message:
        device_type, device_id = self.device()
        payload = self.rng.choice([b"online", b"offline", b'{"state": "offline"}', b"maybe",
                                   b'"' + b"[" * 3000, self.rng.randbytes(10)])
        return self.topic(device_type, device_id, "status"), payload

    def redelivery(self) -> Message:
        return self.rng.choice(self.sent) if self.sent else self.valid()


KINDS: dict[str, tuple[float, Callable[[Fuzzer], Message]]] = {
    "valid": (20, Fuzzer.valid), "mutated": (22, Fuzzer.mutated), "extras": (10, Fuzzer.extras),
    "event": (10, Fuzzer.event), "timing": (8, Fuzzer.timing), "raw": (12, Fuzzer.raw),
    "deep": (2, Fuzzer.deep), "huge": (0.5, Fuzzer.huge), "stranger": (9, Fuzzer.stranger),
    "status": (4, Fuzzer.status), "redelivery": (2.5, Fuzzer.redelivery),
}


def fuzz_messages(count: int, *, seed: int) -> list[Message]:
    fuzzer = Fuzzer(seed)
    names = list(KINDS)
    weights = [KINDS[name][0] for name in names]
    for name in fuzzer.rng.choices(names, weights, k=count):
        fuzzer.sent.append(KINDS[name][1](fuzzer))
    return fuzzer.sent
