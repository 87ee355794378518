"""The API served by uvicorn inside a process that runs other things too (`estateops api`,
the demo): the process, not uvicorn, owns the signals and decides when the API stops.

Imported only where the API runs: the gateway never loads uvicorn or FastAPI."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn

from estateops.resources import Resources
from services.workorders.notifier import Notifier

GRACEFUL_SHUTDOWN_S = 5


def api_server(resources: Resources, notifier: Notifier | None = None) -> uvicorn.Server:
    from services.api.main import create_app

    settings = resources.settings
    app = create_app(settings, store=resources.store, sessions=resources.sessions,
                     notifier=notifier)
    api = settings.api
    # HTTPS when a certificate is configured (docs/security.md, "TLS").
    config = uvicorn.Config(app, host=api.host, port=api.port,
                            log_level=settings.log_level.lower(), lifespan="on",
                            ssl_certfile=api.ssl_certfile, ssl_keyfile=api.ssl_keyfile,
                            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
    return EmbeddedServer(config)


class EmbeddedServer(uvicorn.Server):
    """uvicorn as one part of a process: it leaves SIGINT and SIGTERM to the process.

    uvicorn's own handlers would take both signals for as long as it serves, stop only the
    API, and raise the signal again once the API is down: the gateway, the simulated estate
    and the broker kept running through the API's shutdown (a Ctrl-C of the demo took
    35–75 s). The process's handlers cancel its main task; `serve_until_stopped` then shuts
    uvicorn down."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_until_stopped(server: uvicorn.Server) -> None:
    """Run uvicorn until cancelled; then let it shut down as it does on a signal (open
    connections get GRACEFUL_SHUTDOWN_S, then the app's lifespan closes what it opened)."""
    serving = asyncio.ensure_future(server.serve())
    try:
        await asyncio.shield(serving)
    except asyncio.CancelledError:
        server.should_exit = True
        await serving
        raise
