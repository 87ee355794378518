"""Errors of the API, all answered with one body (ErrorPublic, docs/security.md):

    {"error": "<stable code>", "detail": "<中文> / <English>", ...extra fields}

Domain errors become these in one handler in main.py; so do FastAPI's own validation
errors (422, with an `errors` list) and Starlette's HTTP errors (404 route, 405 method).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from services.auth.errors import AuthError, NotAuthenticated, OutsideScope, TooManyAttempts
from services.residents.errors import PhotoRefused, RatingRefused, ResidentError
from services.residents.errors import TooManyReports as ReportsThrottled
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
    chinese: ClassVar[str] = "服务器内部错误"

    def __init__(self, message: str, *, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra: dict[str, Any] = dict(extra or {})

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "detail": f"{self.chinese} / {self.message}", **self.extra}

    def headers(self) -> dict[str, str] | None:
        return None


class NotFound(ApiError):
    status_code = 404
    code = "not_found"
    chinese = "未找到"


class DeviceNotFound(NotFound):
    def __init__(self, estate_id: str, device_id: str) -> None:
        super().__init__(
            f"device {device_id!r} is not registered in estate {estate_id!r}",
            extra={"estate_id": estate_id, "device_id": device_id},
        )


class InvalidQuery(ApiError):
    status_code = 422
    code = "invalid_query"
    chinese = "查询参数无效"


class StoreUnavailable(ApiError):
    status_code = 503
    code = "store_unavailable"
    chinese = "遥测数据库暂不可用"


class Unauthorized(ApiError):
    """No valid bearer token, or a bad login."""

    status_code = 401
    code = "not_authenticated"
    chinese = "未通过身份验证"

    def headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(ApiError):
    status_code = 403
    code = "forbidden"
    chinese = "无权执行此操作"


class Conflict(ApiError):
    status_code = 409
    code = "conflict"
    chinese = "与当前状态冲突"


class IllegalTransitionConflict(Conflict):
    code = "illegal_transition"
    chinese = "工单当前状态不允许此操作"


class ConditionActiveConflict(Conflict):
    code = "condition_active"


class Unprocessable(ApiError):
    status_code = 422
    code = "invalid_reference"
    chinese = "引用的对象不存在"


class InvalidRequest(ApiError):
    """The request does not match the API's description (FastAPI's validation)."""

    status_code = 422
    code = "invalid_request"
    chinese = "请求参数无效"


class ValueOutOfRange(ApiError):
    """A value the database cannot store (a number above 2^63 - 1, a NUL in text) that got
    past validation: refused when the driver says so, never a 500."""

    status_code = 422
    code = "value_out_of_range"
    chinese = "数值超出范围"


class BadCharacters(ApiError):
    """A NUL byte in the path, the query or the body: no text column can hold one."""

    status_code = 400
    code = "invalid_characters"
    chinese = "请求含有不允许的字符 (NUL)"


class BodyTooLarge(ApiError):
    status_code = 413
    code = "body_too_large"
    chinese = "请求体过大"


class TooManyRequests(ApiError):
    """Too many failed logins for one account or from one address."""

    status_code = 429
    code = "too_many_attempts"
    chinese = "登录失败次数过多，请稍后再试"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, extra={"retry_after_s": retry_after_s})
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after_s)}


class ToResidents(ApiError):
    """A refusal worded for a resident: the Chinese half is the resident's own message
    (services/residents), the English half the class's; the API's one shape all the same."""

    english: ClassVar[str] = "the request was refused"

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "detail": f"{self.message} / {self.english}", **self.extra}


class TooManyReports(ToResidents, TooManyRequests):
    """TooManyRequests' Retry-After, worded for a resident."""

    code = "too_many_reports"
    english = "too many reports from this link or address; try again in a minute"


class PhotoNotAccepted(ToResidents):
    status_code = 415
    code = "photo_refused"
    english = "only JPEG, PNG, WebP or GIF photos are accepted"


class PhotoTooLarge(PhotoNotAccepted):
    status_code = 413
    english = "the photo is larger than the limit"


class RatingNotAccepted(ToResidents):
    status_code = 409
    code = "conflict"
    english = "this report cannot be rated now"


class LinkNotFound(ToResidents):
    status_code = 404
    code = "not_found"
    english = "no such link or report (forged, revoked, or of another estate)"


HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求格式错误"),
    401: (Unauthorized.code, Unauthorized.chinese),
    403: (Forbidden.code, Forbidden.chinese),
    404: (NotFound.code, NotFound.chinese),
    405: ("method_not_allowed", "不支持此请求方法"),
    413: (BodyTooLarge.code, BodyTooLarge.chinese),
}


def http_error_body(status_code: int, message: str) -> dict[str, Any]:
    """Starlette's own HTTP errors (no such route, method not allowed, ...) in our shape."""
    code, chinese = HTTP_CODES.get(status_code, ("http_error", "请求无法处理"))
    return {"error": code, "detail": f"{chinese} / {message}"}


def _from_auth_error(exc: AuthError) -> ApiError:
    message = str(exc)
    if isinstance(exc, TooManyAttempts):
        return TooManyRequests(message, retry_after_s=exc.retry_after_s)
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


def _from_resident_error(exc: ResidentError) -> ApiError:
    if isinstance(exc, ReportsThrottled):
        return TooManyReports(exc.message, retry_after_s=exc.retry_after_s)
    if isinstance(exc, PhotoRefused):
        return PhotoTooLarge(exc.message) if exc.too_large else PhotoNotAccepted(exc.message)
    if isinstance(exc, RatingRefused):
        return RatingNotAccepted(exc.message)
    return LinkNotFound(exc.message)


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
    if isinstance(exc, ResidentError):
        return _from_resident_error(exc)
    return None


# Every exception type the one handler in main.py translates.
DOMAIN_ERRORS: tuple[type[Exception], ...] = (ApiError, AuthError, WorkOrderError,
                                               ResidentError)
