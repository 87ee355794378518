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
    """One per API process. An account's attempts are counted as they arrive (so a burst of
    parallel guesses cannot all slip past the check) and cleared by a success; an
    address's count only grows with failures (an office behind one address logs in often).
    """

    def __init__(self, *, per_account: int = 10, per_address: int = 30,
                 window_s: int = 60) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._account = RateLimitItemPerSecond(per_account, window_s, namespace="account")
        self._address = RateLimitItemPerSecond(per_address, window_s, namespace="address")

    def admit(self, username: str, address: str) -> None:
        """Count an attempt; TooManyAttempts (with the seconds until one may pass) when the
        address's failures or the account's attempts are used up."""
        if not self._limiter.test(self._address, address):
            raise self._refusal(self._address, address)
        account = username[:MAX_KEY_LENGTH]
        if not self._limiter.hit(self._account, account):
            raise self._refusal(self._account, account)

    def _refusal(self, item: RateLimitItemPerSecond, key: str) -> TooManyAttempts:
        reset_at = self._limiter.get_window_stats(item, key).reset_time
        retry_after = max(1, math.ceil(reset_at - time.time()))
        return TooManyAttempts(f"too many failed logins for this {item.namespace}: "
                               f"try again in {retry_after} s", retry_after_s=retry_after)

    def failed(self, address: str) -> None:
        self._limiter.hit(self._address, address)

    def succeeded(self, username: str) -> None:
        self._limiter.clear(self._account, username[:MAX_KEY_LENGTH])
