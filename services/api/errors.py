"""Domain errors of the API; one exception handler in main.py turns them into HTTP responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class ApiError(Exception):
    """Root of the API's errors: an HTTP status, a stable code and a human message."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra: dict[str, Any] = dict(extra or {})

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "detail": self.message, **self.extra}


class NotFound(ApiError):
    status_code = 404
    code = "not_found"


class DeviceNotFound(NotFound):
    def __init__(self, estate_id: str, device_id: str) -> None:
        super().__init__(
            f"device {device_id!r} is not registered in estate {estate_id!r}",
            extra={"estate_id": estate_id, "device_id": device_id},
        )


class InvalidQuery(ApiError):
    status_code = 422
    code = "invalid_query"


class StoreUnavailable(ApiError):
    status_code = 503
    code = "store_unavailable"
