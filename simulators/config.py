"""What a simulation run is told (SimulationConfig) and what it reports (SimulationStats)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from connectors.mqtt import BrokerOptions
from registry.schema import EstateFile
from simulators.estate import build_estate
from simulators.faults import FaultPlan


@dataclass(frozen=True, kw_only=True)
class SimulationConfig:
    broker: BrokerOptions = field(default_factory=BrokerOptions)
    """Where to publish, how, and the client ids' prefix (`MqttSettings.broker_options`)."""
    estate: EstateFile = field(default_factory=build_estate)
    faults: FaultPlan = field(default_factory=FaultPlan.none)
    speed: float = 1.0
    rate: float | None = None
    """Messages per second, overall (telemetry and events; statuses are not limited)."""
    devices: int | None = None
    """Simulate this many devices: cut the estate (fault targets first) or clone devices."""
    duration_s: float | None = None
    """Real seconds to run; None runs until `stop` (or `max_messages`)."""
    max_messages: int | None = None
    """Stop after exactly this many telemetry/event messages."""
    seed: int = 0
    mode: Literal["device", "bridge"] = "device"
    """device: a connection and Last Will per device; bridge: a few shared connections."""
    bridge_connections: int = 4
    start_at: datetime | None = None
    """Simulated local start time (drives time-of-day behaviour); None: now."""
    profile_dirs: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        problems = [
            ("speed must be positive", self.speed <= 0),
            ("rate must be positive", self.rate is not None and self.rate <= 0),
            ("devices must be at least 1", self.devices is not None and self.devices < 1),
            ("duration_s must be positive", self.duration_s is not None and self.duration_s <= 0),
            ("max_messages must not be negative",
             self.max_messages is not None and self.max_messages < 0),
            ("bridge_connections must be at least 1", self.bridge_connections < 1),
        ]
        for problem, broken in problems:
            if broken:
                raise ValueError(problem)


@dataclass
class SimulationStats:
    by_type: Counter[str] = field(default_factory=Counter)
    """Telemetry and event messages published, by the publishing device's type."""
    by_fault: Counter[str] = field(default_factory=Counter)
    """Messages published while a fault shaped them, by fault label (kind:device)."""
    status_messages: int = 0
    skipped_offline: int = 0
    devices: int = 0
    connections: int = 0
    acknowledged: int = 0
    elapsed_s: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.by_type.values())
