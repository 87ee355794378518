"""Failed logins counted per account and per client address (the `limits` library, moving
window, in memory): past either limit a login is refused before its password is checked."""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from services.auth.errors import TooManyAttempts

MAX_KEY_LENGTH = 200  # a hostile username must not become a huge key


class LoginThrottle:
    """One per API process; limits count failures, a success clears its account's count."""

    def __init__(self, *, per_account: int = 10, per_address: int = 30,
                 window_s: int = 60) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._account = RateLimitItemPerSecond(per_account, window_s, namespace="account")
        self._address = RateLimitItemPerSecond(per_address, window_s, namespace="address")

    def _keys(self, username: str, address: str) -> list[tuple[RateLimitItemPerSecond, str]]:
        return [(self._account, username[:MAX_KEY_LENGTH]), (self._address, address)]

    def check(self, username: str, address: str) -> None:
        """TooManyAttempts (with seconds until a retry may pass) when a limit is used up."""
        for item, key in self._keys(username, address):
            if not self._limiter.test(item, key):
                reset_at = self._limiter.get_window_stats(item, key).reset_time
                retry_after = max(1, math.ceil(reset_at - time.time()))
                raise TooManyAttempts(
                    f"too many failed logins for this {item.namespace}: "
                    f"try again in {retry_after} s", retry_after_s=retry_after)

    def failed(self, username: str, address: str) -> None:
        for item, key in self._keys(username, address):
            self._limiter.hit(item, key)

    def succeeded(self, username: str) -> None:
        self._limiter.clear(self._account, username[:MAX_KEY_LENGTH])
