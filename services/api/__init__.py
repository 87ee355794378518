"""The HTTP API over the device registry, last state, telemetry history and dead letters.

`create_app` is imported on first use: `estateops gateway` reads `services.api.settings`,
and must not load FastAPI and every route (openpyxl, Pillow, apprise) to do so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.api.errors import ApiError, DeviceNotFound, InvalidQuery, NotFound, StoreUnavailable

if TYPE_CHECKING:
    from services.api.main import create_app

__all__ = [
    "ApiError",
    "DeviceNotFound",
    "InvalidQuery",
    "NotFound",
    "StoreUnavailable",
    "create_app",
]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from services.api.main import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
