"""Domain errors of the API; one exception handler in main.py turns them into HTTP responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from services.auth.errors import AuthError, NotAuthenticated, OutsideScope
from services.workorders.errors import (
    AlreadyOpen,
    ConditionActive,
    IllegalTransition,
    InvalidPolicy,
    InvalidReference,
    WorkOrderError,
    WorkOrderNotFound,
)


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

    def headers(self) -> dict[str, str] | None:
        return None


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


class Unauthorized(ApiError):
    """No valid bearer token, or a bad login."""

    status_code = 401
    code = "not_authenticated"

    def headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(ApiError):
    status_code = 403
    code = "forbidden"


class Conflict(ApiError):
    status_code = 409
    code = "conflict"


class IllegalTransitionConflict(Conflict):
    code = "illegal_transition"


class ConditionActiveConflict(Conflict):
    code = "condition_active"


class Unprocessable(ApiError):
    status_code = 422
    code = "invalid_reference"


def _from_auth_error(exc: AuthError) -> ApiError:
    message = str(exc)
    if isinstance(exc, NotAuthenticated):
        return Unauthorized(message)
    if isinstance(exc, OutsideScope):
        return NotFound(message)
    return Forbidden(message)


def _from_work_order_error(exc: WorkOrderError) -> ApiError:
    message = str(exc)
    if isinstance(exc, WorkOrderNotFound):
        return NotFound(message, extra={"work_order_id": exc.work_order_id})
    if isinstance(exc, IllegalTransition):
        return IllegalTransitionConflict(message, extra={"status": exc.current,
                                                         "action": exc.action})
    if isinstance(exc, AlreadyOpen):
        return Conflict(message, extra={"work_order_id": exc.work_order_id})
    if isinstance(exc, InvalidReference):
        return Unprocessable(message, extra={"field": exc.field})
    if isinstance(exc, InvalidPolicy):
        return Unprocessable(message, extra={"estate_id": exc.estate_id, "key": exc.key})
    return ApiError(message)


def _condition_active(exc: ConditionActive) -> ApiError:
    since = None if exc.since is None else exc.since.isoformat()
    return ConditionActiveConflict(str(exc), extra={"work_order_id": exc.work_order_id,
                                                    "since": since})


def as_api_error(exc: Exception) -> ApiError | None:
    """The HTTP form of a domain error, or None for an exception that is not one."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, AuthError):
        return _from_auth_error(exc)
    if isinstance(exc, ConditionActive):
        return _condition_active(exc)
    if isinstance(exc, WorkOrderError):
        return _from_work_order_error(exc)
    return None


# Every exception type the one handler in main.py translates.
DOMAIN_ERRORS: tuple[type[Exception], ...] = (ApiError, AuthError, WorkOrderError)
