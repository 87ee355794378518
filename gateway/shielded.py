"""Work that a shutdown must let finish: a store write or a flush cut in half loses data."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Shielded:
    """Runs one piece of work at a time, shielded from its caller's cancellation.

    When the caller is cancelled mid-way, the work still completes; the caller's shutdown
    path awaits `settle()` before doing its final flush, so the two never overlap.
    """

    def __init__(self) -> None:
        self._task: asyncio.Future[None] | None = None

    async def run(self, work: Coroutine[Any, Any, None]) -> None:
        self._task = asyncio.ensure_future(work)
        await asyncio.shield(self._task)

    async def settle(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            # Its failure was already handled where it ran (state kept for the next try).
            with contextlib.suppress(Exception):
                await task


async def flush_every(interval_s: float, flush: Callable[[], Coroutine[Any, Any, None]], *,
                      final: Callable[[], Coroutine[Any, Any, None]] | None = None,
                      what: str, retry_delay_s: float = 2.0) -> None:
    """Call `flush` every `interval_s` until cancelled, keeping its changes on failure; on
    cancel, let a flush in flight finish, then run `final` (default: `flush`) once more."""
    in_flight = Shielded()
    try:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await in_flight.run(flush())
            except Exception as exc:  # noqa: BLE001 - the changes are kept: try again
                log.warning("could not save %s (%s); retrying", what, exc)
                await asyncio.sleep(retry_delay_s)
    except asyncio.CancelledError:
        await in_flight.settle()
        await (final or flush)()
        raise
