"""What every HTTP request passes before any route sees it (pure ASGI, so streaming
responses stay untouched): a cap on the body size, and no NUL byte in the path, the query
or the body. Both answer in the API's one error shape (services/api/errors.py)."""

from __future__ import annotations

import re

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.errors import ApiError, BadCharacters, BodyTooLarge
from services.api.settings import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_UPLOAD_BYTES

# The routes that take a photo: an 8 MiB image as the body, or base64 in a resident's report.
UPLOAD_PATHS = (re.compile(r"^/api/v1/work-orders/[0-9]+/photos$"),
                re.compile(r"^/api/v1/resident/links/[^/]+/[^/]+/reports$"))
FORM = b"application/x-www-form-urlencoded"
# Bodies read as text, where a NUL can only be an attack; an image may hold NUL bytes.
TEXT_TYPES = (b"application/json", FORM, b"text/")
NUL_MARKS = (b"\x00", b"%00")
JSON_NUL = b"\\u0000"


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return None


def _has_nul(data: bytes) -> bool:
    lowered = data.lower()
    return any(mark in lowered for mark in NUL_MARKS)


def nul_in_target(scope: Scope) -> bool:
    """A NUL in the path (decoded or percent-encoded) or in the query string."""
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    return "\x00" in scope["path"] or _has_nul(raw_path) or _has_nul(scope["query_string"])


def nul_in_body(scope: Scope, body: bytes) -> bool:
    content_type = (_header(scope, b"content-type") or b"").lower()
    if content_type and not content_type.startswith(TEXT_TYPES):
        return False
    if b"\x00" in body or JSON_NUL in body.lower():
        return True
    return content_type.startswith(FORM) and _has_nul(body)


def is_upload(scope: Scope) -> bool:
    return any(pattern.match(scope["path"]) for pattern in UPLOAD_PATHS)


def declared_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    return int(value) if value is not None and value.isdigit() else None


async def read_capped(receive: Receive, max_bytes: int) -> bytes | None:
    """The whole body, or None as soon as it grows past `max_bytes` (the rest unread)."""
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands out `body` once, then waits on the real one (disconnects)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


class RequestGuard:
    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        error, body = await self._check(scope, receive)
        if error is not None:
            response = JSONResponse(error.body(), status_code=error.status_code,
                                    headers=error.headers())
            await response(scope, receive, send)
            return
        await self.app(scope, replay(body, receive), send)

    async def _check(self, scope: Scope, receive: Receive) -> tuple[ApiError | None, bytes]:
        if nul_in_target(scope):
            return BadCharacters("the path or query contains a NUL byte"), b""
        limit = self.max_upload_bytes if is_upload(scope) else self.max_body_bytes
        length = declared_length(scope)
        body = None if length is not None and length > limit else await read_capped(
            receive, limit)
        if body is None:
            return BodyTooLarge(f"the request body is larger than {limit} bytes"), b""
        if nul_in_body(scope, body):
            return BadCharacters("the request body contains a NUL byte"), b""
        return None, body
