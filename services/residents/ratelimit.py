"""How often residents may report: per QR link and per client, over a moving minute.

In the API process's memory (`limits`' memory storage): with several API processes each counts
apart; a `redis://` storage URI shares the count.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse, storage
from limits.strategies import MovingWindowRateLimiter

from services.residents.errors import TooManyReports

PER_LINK = "20/minute"
PER_CLIENT = "30/minute"
LINK_MESSAGE = "这个二维码一分钟内收到的报修太多了，请稍等一分钟再提交。"
CLIENT_MESSAGE = "您提交得太频繁了，请稍等一分钟再提交。"


class ReportLimits:
    """Refuses a report over either limit; a refused report counts against neither."""

    def __init__(self, *, per_link: str = PER_LINK, per_client: str = PER_CLIENT,
                 storage_uri: str = "memory://") -> None:
        self._limiter = MovingWindowRateLimiter(storage.storage_from_string(storage_uri))
        self._per_link: RateLimitItem = parse(per_link)
        self._per_client: RateLimitItem = parse(per_client)

    def _refuse_if_full(self, item: RateLimitItem, key: str, message: str) -> None:
        if not self._limiter.test(item, "report", key):
            reset = self._limiter.get_window_stats(item, "report", key).reset_time
            raise TooManyReports(message, retry_after_s=max(1, math.ceil(reset - time.time())))

    def take(self, link_id: int, client: str) -> None:
        """Count one report from `client` through link `link_id`, or raise TooManyReports."""
        self._refuse_if_full(self._per_link, f"link:{link_id}", LINK_MESSAGE)
        self._refuse_if_full(self._per_client, f"client:{client}", CLIENT_MESSAGE)
        self._limiter.hit(self._per_link, "report", f"link:{link_id}")
        self._limiter.hit(self._per_client, "report", f"client:{client}")
