"""The demo's inbox: a tiny local HTTP receiver that apprise's json:// targets post to, so
the demo's alerts visibly reach the people on duty and the team groups (printed here).

A stand-in for WeCom/DingTalk/Feishu on a machine with no internet; `--alert-url` adds real
targets. It answers from a thread of its own: alerts are sent while the work-order intake
waits, so a reply must not wait for the busy event loop of the demo's gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 64 * 1024
Show = Callable[[str], None]


def describe(path: str, body: bytes) -> str:
    """One line per message: to whom (the URL's path), and its title."""
    try:
        message = json.loads(body)
        title = str(message.get("title") or message.get("message", "")[:80])
    except (ValueError, AttributeError):
        title = body[:80].decode("utf-8", "replace")
    return f"📨 {path.removeprefix('/demo-inbox/')}: {title}"


def _print(line: str) -> None:
    print(line, flush=True)


def _handler(show: Show) -> type[BaseHTTPRequestHandler]:
    class Inbox(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            show(describe(self.path, self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    return Inbox


@contextlib.asynccontextmanager
async def demo_inbox(host: str = "127.0.0.1", show: Show = _print) -> AsyncIterator[str]:
    """Serve meanwhile; yields the apprise URL prefix, e.g. json://127.0.0.1:40123/demo-inbox."""
    server = ThreadingHTTPServer((host, 0), _handler(show))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="demo-inbox", daemon=True)
    thread.start()
    try:
        yield f"json://{host}:{server.server_address[1]}/demo-inbox"
    finally:
        await asyncio.to_thread(server.shutdown)
        server.server_close()
