"""The HTTP API over the device registry, last state, telemetry history and dead letters."""

from services.api.errors import ApiError, DeviceNotFound, InvalidQuery, NotFound, StoreUnavailable
from services.api.main import app_from_environment, create_app

__all__ = [
    "ApiError",
    "DeviceNotFound",
    "InvalidQuery",
    "NotFound",
    "StoreUnavailable",
    "app_from_environment",
    "create_app",
]
