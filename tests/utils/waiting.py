"""Wait for the thing that proves a path ran, not for a guessed amount of time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

from prometheus_client import REGISTRY


async def wait_until(predicate: Callable[[], bool], *, within: float = 15.0,
                     interval: float = 0.02) -> bool:
    """Poll `predicate` until it holds or `within` seconds pass; return its last answer.

    Use as `assert await wait_until(lambda: ..., within=5)`; for an async probe whose
    result you want back, see `tests.utils.gateway.eventually`."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() >= deadline:
            return predicate()
        await asyncio.sleep(interval)
    return True


def metric_value(name: str, labels: Mapping[str, str] | None = None) -> float:
    """A sample of the default Prometheus registry (0 if it was never set)."""
    return REGISTRY.get_sample_value(name, dict(labels or {})) or 0.0
