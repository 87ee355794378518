"""The exception handlers: every error the API answers has the body of errors.py."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException
from starlette.status import HTTP_405_METHOD_NOT_ALLOWED

from services.api.errors import (
    DOMAIN_ERRORS,
    ApiError,
    InvalidRequest,
    ValueOutOfRange,
    as_api_error,
    http_error_body,
)

log = logging.getLogger(__name__)


def _response(error: ApiError, **more: Any) -> JSONResponse:
    return JSONResponse(jsonable_encoder({**error.body(), **more}),
                        status_code=error.status_code, headers=error.headers())


async def domain_error(_request: Request, exc: Exception) -> JSONResponse:
    """The one place where domain errors become HTTP responses."""
    error = as_api_error(exc)
    if error is None:
        raise exc
    return _response(error)


def _problem(error: Any) -> dict[str, Any]:
    return {"loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")), "type": str(error.get("type", ""))}


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_problem(error) for error in exc.errors()]
    first = problems[0] if problems else {"loc": [], "msg": "invalid"}
    where = ".".join(first["loc"])
    message = f"{where}: {first['msg']}" if where else str(first["msg"])
    return _response(InvalidRequest(message), errors=problems)


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")


def allowed_methods(request: Request) -> str:
    """Every method the API documents at this path (Starlette names only one route's)."""
    paths: dict[str, dict[str, object]] = request.app.openapi().get("paths", {})
    methods = {method.upper() for path, operations in paths.items()
               if _template(path).match(request.url.path) for method in operations}
    return ", ".join(sorted(methods))


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == HTTP_405_METHOD_NOT_ALLOWED:
        headers["Allow"] = allowed_methods(request)
    return JSONResponse(http_error_body(exc.status_code, str(exc.detail)),
                        status_code=exc.status_code, headers=headers)


async def unstorable_value(_request: Request, exc: Exception) -> JSONResponse:
    """A value the driver refused (out of range, NUL) that validation let through."""
    log.warning("the database refused a request's value: %s", exc)
    return _response(ValueOutOfRange("a value in the request cannot be stored"))


async def server_error(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc)
    return _response(ApiError("the server failed; the log has the details"))


def add_error_handlers(app: FastAPI) -> None:
    for error_type in DOMAIN_ERRORS:
        app.add_exception_handler(error_type, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(DataError, unstorable_value)
    app.add_exception_handler(OverflowError, unstorable_value)
    app.add_exception_handler(Exception, server_error)
