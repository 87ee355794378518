"""The gateway's settings: its own tuning, and what it needs of the composed settings."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field, field_validator

from connectors.mqtt import MqttSettings
from gateway.partition import Partition
from gateway.spool import Synchronous

GiB = 1024**3


class GatewaySettings(BaseModel):
    batch_size: int = Field(default=5000, gt=0, description="points per store write")
    flush_interval_s: float = Field(default=0.2, gt=0, description="longest a point waits")
    queue_size: int = Field(
        default=100_000, gt=0, description="points buffered before MQTT intake pauses"
    )
    state_flush_interval_s: float = Field(default=0.5, gt=0)
    registry_refresh_s: float = Field(default=30.0, gt=0)
    lateness_intervals: float = Field(
        default=3.0, gt=0, description="a reading delayed this many reporting intervals more "
        "than its device's usual delay is late: stored, but it starts and ends no rule's run")
    max_ts_age_s: float = Field(
        default=7 * 86400, gt=0, le=100 * 365 * 86400,
        description="a `ts` further before its receipt is refused as ts_too_old",
    )
    max_ts_ahead_s: float = Field(
        default=86400, gt=0, le=365 * 86400,
        description="a `ts` further after its receipt is refused as ts_in_future",
    )
    metrics_port: int | None = Field(default=None, description="own Prometheus port, if set")
    spool_enabled: bool = Field(
        default=True, description="while the store is down, keep batches in an on-disk "
        "spool and acknowledge them (off: hold them unacknowledged, the broker keeps the rest)")
    spool_path: Path | None = Field(
        default=None, description="the spool's SQLite file (default: data_dir/spool.sqlite3, "
        "or spool-<index>.sqlite3 for a partition of several: each gateway needs its own)")
    spool_max_bytes: int = Field(
        default=8 * GiB, gt=0, description="the spool's bound; when full, messages stay "
        "unacknowledged with the broker (docs/reliability.md: ~1 h at 20 000 msg/s)")
    spool_synchronous: Synchronous = Field(
        default=Synchronous.FULL, description="FULL: a spooled batch survives power loss; "
        "NORMAL: it survives kill -9 only")
    partition: str = Field(
        default="0/1", description="index/count: this gateway owns the devices whose stable "
        "hash mod count is index (docs/deployment.md, \"Scaling gateways\")")

    @field_validator("partition")
    @classmethod
    def _index_of_count(cls, spec: str) -> str:
        return str(Partition.parse(spec))

    @property
    def owned(self) -> Partition:
        return Partition.parse(self.partition)


class GatewayConfig(Protocol):
    """What build_gateway reads; estateops.settings.Settings is one."""

    @property
    def data_dir(self) -> Path: ...

    @property
    def mqtt(self) -> MqttSettings: ...

    @property
    def gateway(self) -> GatewaySettings: ...
