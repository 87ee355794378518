"""The API's settings: where it listens, and what it needs of the composed settings."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field, model_validator

from connectors.mqtt import MqttSettings
from connectors.store.settings import InfluxSettings
from services.auth.settings import AuthSettings

# The body limits services/api/guards.py enforces; here so that reading the settings (as
# `estateops gateway` does) needs no Starlette. An upload: an 8 MiB photo, or it in base64.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_UPLOAD_BYTES = 12 * 1024 * 1024

WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES, gt=0,
        description="larger request bodies are refused with 413 before they are read")
    max_upload_bytes: int = Field(
        default=DEFAULT_MAX_UPLOAD_BYTES, gt=0,
        description="the same for the routes that take a photo (guards.UPLOAD_PATHS)")
    ssl_certfile: Path | None = Field(
        default=None, description="serve HTTPS with this certificate chain (PEM)")
    ssl_keyfile: Path | None = Field(default=None, description="its private key (PEM)")
    public_url: str | None = Field(
        default=None, description="where phones reach the API, e.g. https://wuye.example.cn:"
        " residents' progress links in notices start with it (ESTATEOPS_API__PUBLIC_URL);"
        " unset: notices carry no link (the demo sets it to this machine's address)")

    @property
    def link_base(self) -> str | None:
        """The start of every link given to a resident (progress links in notices); None
        when unset: the address phones reach is not one EstateOps can guess (0.0.0.0, a
        container's name, a reverse proxy), so notices then go without a link."""
        return self.public_url.rstrip("/") if self.public_url else None

    def local_base(self) -> str:
        """This API on this machine (the demo's links): http(s)://host:port."""
        host = "127.0.0.1" if self.host in WILDCARD_HOSTS else self.host
        scheme = "https" if self.ssl_certfile is not None else "http"
        return f"{scheme}://{host}:{self.port}"

    @model_validator(mode="after")
    def _both_or_neither(self) -> ApiSettings:
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError("HTTPS needs both ssl_certfile and ssl_keyfile")
        return self


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

    @property
    def api(self) -> ApiSettings: ...
