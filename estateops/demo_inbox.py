"""The demo's inbox: a tiny local HTTP receiver that apprise's json:// targets post to, so
the demo's alerts visibly reach the people on duty and the team groups (printed here).

A stand-in for WeCom/DingTalk/Feishu on a machine with no internet; `--alert-url` adds real
targets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
READ_TIMEOUT_S = 10.0
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
Show = Callable[[str], None]


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1] if " " in lines[0] else "/"
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = min(int(value.strip() or 0), MAX_BODY)
    return path, await reader.readexactly(length)


def describe(path: str, body: bytes) -> str:
    """One line per message: to whom (the URL's path), and its title."""
    try:
        message = json.loads(body)
        title = str(message.get("title") or message.get("message", "")[:80])
    except (ValueError, AttributeError):
        title = body[:80].decode("utf-8", "replace")
    return f"📨 {path.removeprefix('/demo-inbox/')}: {title}"


def _handler(show: Show) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                     Awaitable[None]]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            path, body = await asyncio.wait_for(_read_request(reader), READ_TIMEOUT_S)
            show(describe(path, body))
            writer.write(OK)
            await writer.drain()
        except (TimeoutError, ValueError, IndexError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError, ConnectionError) as exc:
            log.debug("demo inbox: bad request: %s", exc)
        finally:
            writer.close()

    return handle


def _print(line: str) -> None:
    print(line, flush=True)


@contextlib.asynccontextmanager
async def demo_inbox(host: str = "127.0.0.1", show: Show = _print) -> AsyncIterator[str]:
    """Serve meanwhile; yields the apprise URL prefix, e.g. json://127.0.0.1:40123/demo-inbox."""
    server = await asyncio.start_server(_handler(show), host, 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"json://{host}:{port}/demo-inbox"
    finally:
        server.close()
        await server.wait_closed()
