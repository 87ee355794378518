"""The HTTP API over the device registry, last state, telemetry history and dead letters."""

from services.api.errors import ApiError, DeviceNotFound, InvalidQuery, NotFound, StoreUnavailable
from services.api.main import create_app

__all__ = [
    "ApiError",
    "DeviceNotFound",
    "InvalidQuery",
    "NotFound",
    "StoreUnavailable",
    "create_app",
]
