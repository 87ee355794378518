"""The API's settings: where it listens, and what it needs of the composed settings."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from connectors.mqtt import MqttSettings
from connectors.store.settings import InfluxSettings
from services.auth.settings import AuthSettings


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000


class ApiConfig(Protocol):
    """What create_app reads; estateops.settings.Settings is one."""

    @property
    def effective_database_url(self) -> str: ...

    @property
    def embedded_telemetry_path(self) -> Path: ...

    @property
    def profile_dirs(self) -> list[Path]: ...

    @property
    def mqtt(self) -> MqttSettings: ...

    @property
    def influx(self) -> InfluxSettings: ...

    @property
    def auth(self) -> AuthSettings: ...
