"""All configuration in one place: defaults, then ESTATEOPS_* environment variables, then flags.

Nested groups use a double underscore: ESTATEOPS_MQTT__URL, ESTATEOPS_INFLUX__TOKEN.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")


class MqttSettings(BaseModel):
    url: str = Field(
        default="mqtt://127.0.0.1:1883",
        description="mqtt://host:port or mqtts://host:port (TLS); user:password@ allowed",
    )
    username: str | None = None
    password: SecretStr | None = None
    ca_file: Path | None = Field(default=None, description="CA bundle for mqtts://")
    client_id: str = "estateops-gateway"
    qos: Annotated[int, Field(ge=0, le=1)] = 1
    shared_group: str | None = Field(
        default=None, description="MQTT 5 shared-subscription group for several gateways"
    )
    topic: str = "estates/+/+/+/+"
    keepalive_s: int = 30

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        if urlsplit(url).scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError("MQTT URL must start with mqtt:// or mqtts://")
        return url

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme in ("mqtts", "ssl")

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or (8883 if self.tls else 1883)

    @property
    def effective_username(self) -> str | None:
        return self.username or urlsplit(self.url).username

    @property
    def effective_password(self) -> str | None:
        if self.password is not None:
            return self.password.get_secret_value()
        return urlsplit(self.url).password

    @property
    def subscription(self) -> str:
        if self.shared_group:
            return f"$share/{self.shared_group}/{self.topic}"
        return self.topic


class InfluxSettings(BaseModel):
    url: str | None = Field(
        default=None, description="InfluxDB base URL; unset means the embedded telemetry store"
    )
    api_version: Annotated[int, Field(
        ge=1, le=2, description="2: v2 write API with token (InfluxDB 2.x/3.x, 1.8+); 1: v1 /write"
    )] = 2
    database: str = Field(default="estateops", description="v1 database (and v2 DBRP for InfluxQL)")
    org: str = "estateops"
    bucket: str = "estateops"
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: float = 10.0


class GatewaySettings(BaseModel):
    batch_size: int = Field(default=5000, gt=0, description="points per store write")
    flush_interval_s: float = Field(default=0.2, gt=0, description="longest a point waits")
    queue_size: int = Field(
        default=100_000, gt=0, description="points buffered before MQTT intake pauses"
    )
    state_flush_interval_s: float = Field(default=0.5, gt=0)
    registry_refresh_s: float = Field(default=30.0, gt=0)
    metrics_port: int | None = Field(default=None, description="own Prometheus port, if set")


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000


MIN_JWT_SECRET_LENGTH = 32


class AuthSettings(BaseModel):
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 key signing bearer tokens (32+ characters); the API refuses to "
        "start without it, `estateops demo` generates one",
    )
    token_ttl_s: int = Field(default=8 * 3600, gt=0, description="how long a token is valid")

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and len(secret.get_secret_value()) < MIN_JWT_SECRET_LENGTH:
            raise ValueError(f"jwt_secret needs at least {MIN_JWT_SECRET_LENGTH} characters")
        return secret


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
    log_level: str = "INFO"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'estateops.sqlite3'}"

    @property
    def embedded_telemetry_path(self) -> Path:
        return self.data_dir / "telemetry.sqlite3"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
