"""Which telemetry store to open, and how to reach it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, SecretStr


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
