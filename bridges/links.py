"""Which registered device a bridge's name stands for, re-read from the registry."""

from __future__ import annotations

import logging
import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from registry.queries import DeviceRef, load_bridge_links

log = logging.getLogger(__name__)


class LinkDirectory:
    """The registry's `bridge_links` of one bridge, cached; re-read every `refresh_s`, and at
    most every `miss_retry_s` when a name is not found (a device registered meanwhile)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], bridge: str, *,
                 refresh_s: float = 30.0, miss_retry_s: float = 5.0) -> None:
        self._sessions = sessions
        self._bridge = bridge
        self._refresh_s = refresh_s
        self._miss_retry_s = miss_retry_s
        self._links: dict[str, DeviceRef] = {}
        self._loaded_at = float("-inf")

    async def refresh(self) -> dict[str, DeviceRef]:
        async with self._sessions() as session:
            self._links = await load_bridge_links(session, self._bridge)
        self._loaded_at = time.monotonic()
        return self._links

    async def find(self, address: str) -> DeviceRef | None:
        """The enabled device named `address`, or None."""
        age = time.monotonic() - self._loaded_at
        if age > self._refresh_s or (address not in self._links and age > self._miss_retry_s):
            await self.refresh()
        device = self._links.get(address)
        return device if device is not None and device.enabled else None

    @property
    def links(self) -> dict[str, DeviceRef]:
        return dict(self._links)
