"""Work that a shutdown must let finish: a store write or a flush cut in half loses data."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


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
