"""All configuration composed in one place: defaults, then ESTATEOPS_* environment variables,
then flags. Each group's model lives with the package it configures.

Nested groups use a double underscore: ESTATEOPS_MQTT__URL, ESTATEOPS_INFLUX__TOKEN.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bridges.settings import BridgeSettings
from connectors.mqtt import MqttSettings
from connectors.store.settings import InfluxSettings
from gateway.settings import GatewaySettings
from services.api.settings import ApiSettings
from services.auth.settings import AuthSettings

__all__ = [
    "ApiSettings", "AuthSettings", "BridgeSettings", "GatewaySettings", "InfluxSettings",
    "MqttSettings", "Settings", "get_settings",
]

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ESTATEOPS_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; unset means SQLite in data_dir"
    )
    profile_dirs: list[Path] = Field(default_factory=list, description="extra profile folders")
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    influx: InfluxSettings = Field(default_factory=InfluxSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    bridges: BridgeSettings = Field(default_factory=BridgeSettings)
    log_level: str = "INFO"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'estateops.sqlite3'}"

    @property
    def embedded_telemetry_path(self) -> Path:
        return self.data_dir / "telemetry.sqlite3"

    def with_changes(self, changes: Mapping[str, Any]) -> Settings:
        """New Settings, validated, that differ from these only by `changes` (groups as
        nested mappings: a group's other fields are kept). A built Settings never changes."""
        return Settings.model_validate(_merged(self.model_dump(exclude_unset=True), changes))


def _merged(base: Mapping[str, Any], more: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in more.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
