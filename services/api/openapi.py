"""The OpenAPI document tells every answer a route can give, in the one error shape.

FastAPI documents its validation errors with a model of its own (HTTPValidationError) and
knows nothing of what the request guard and the token check answer; this completes each
operation: 422 with ErrorPublic, 400 (NUL byte) everywhere, 413 where there is a body,
401 behind the token, 429 on the login."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from services.api.models import ErrorPublic

ERROR_REF = {"$ref": "#/components/schemas/ErrorPublic"}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def _errors_of(operation: dict[str, Any], path: str) -> dict[str, dict[str, Any]]:
    found = {"400": _error("a NUL byte in the path, query or body")}
    if operation.get("parameters") or "requestBody" in operation:
        found["422"] = _error("the request does not match this description "
                              "(`errors` lists each problem)")
    if "requestBody" in operation:
        found["413"] = _error("the request body is larger than the API accepts")
    if operation.get("security"):
        found["401"] = _error("no valid bearer token")
    if path.endswith("/auth/token"):
        found["429"] = _error("too many failed logins for this account or address; "
                              "see Retry-After")
    return found


def complete_errors(document: dict[str, Any]) -> dict[str, Any]:
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status, response in _errors_of(operation, path).items():
                if status == "422" or status not in responses:
                    description = responses.get(status, {}).get("description")
                    responses[status] = {**response,
                                         "description": description or response["description"]}
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_VALIDATION:
        schemas.pop(name, None)
    schemas["ErrorPublic"] = ErrorPublic.model_json_schema(ref_template=
                                                           "#/components/schemas/{model}")
    return document


def openapi_with_errors(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, summary=app.summary,
                                   description=app.description, routes=app.routes)
            app.openapi_schema = complete_errors(document)
        return app.openapi_schema

    return openapi
