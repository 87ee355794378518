"""The gateway's cached view of the device registry: which devices exist, of which type."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from registry.queries import DeviceRef, find_device, load_device_index

log = logging.getLogger(__name__)

DeviceKey = tuple[str, str]
MISS_RECHECK_S = 5.0
# Misses are keyed by whatever ids a (hostile) client puts in topics: a bound, oldest out.
MAX_REMEMBERED_MISSES = 10_000


class DeviceDirectory:
    """Answers lookups from memory; a miss asks the database at most once per MISS_RECHECK_S
    per device, so a newly registered device is known within seconds without a restart.
    Of the misses, the last `max_misses` are remembered."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], refresh_s: float, *,
                 on_load: Callable[[Iterable[DeviceRef]], None] | None = None,
                 max_misses: int = MAX_REMEMBERED_MISSES) -> None:
        self._sessions = sessions
        self._on_load = on_load
        self._refresh_s = refresh_s
        self._max_misses = max_misses
        self._devices: dict[DeviceKey, DeviceRef] = {}
        self._misses: dict[DeviceKey, float] = {}

    async def load(self) -> None:
        async with self._sessions() as session:
            self._devices = await load_device_index(session)
        self._misses.clear()
        if self._on_load is not None:
            self._on_load(self._devices.values())

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_s)
            try:
                await self.load()
            except Exception as exc:  # noqa: BLE001 - keep the last good index
                log.warning("registry refresh failed, keeping %d known devices: %s",
                            len(self._devices), exc)

    async def lookup(self, estate_id: str, device_id: str) -> DeviceRef | None:
        key = (estate_id, device_id)
        found = self._devices.get(key)
        if found is not None:
            return found
        now = time.monotonic()
        if now - self._misses.get(key, -MISS_RECHECK_S) < MISS_RECHECK_S:
            return None
        self._remember_miss(key, now)
        async with self._sessions() as session:
            found = await find_device(session, estate_id, device_id)
        if found is not None:
            self._devices[key] = found
        return found

    def _remember_miss(self, key: DeviceKey, now: float) -> None:
        self._misses.pop(key, None)
        if len(self._misses) >= self._max_misses:
            del self._misses[next(iter(self._misses))]
        self._misses[key] = now

    @property
    def remembered_misses(self) -> int:
        return len(self._misses)

    def __len__(self) -> int:
        return len(self._devices)
