"""Whether the shared Redis answers, for the parts that fall back to this process's memory without it.

After a failure Redis is left alone for ``RETRY_AFTER`` seconds (requests do not each wait for a
timeout), then tried again. One warning per ``WARN_EVERY`` seconds at most, however many requests
fail over, and one line when Redis answers again.
"""

from __future__ import annotations

import logging
import math
import time

logger = logging.getLogger("bridge.redis")

#: seconds Redis is left alone after it failed
RETRY_AFTER = 5.0
#: seconds between two warnings about it
WARN_EVERY = 60.0


class RedisHealth:
    def __init__(self) -> None:
        self.reachable = True
        self.failures = 0
        self._skip_until = 0.0
        self._warned_at = -math.inf

    @property
    def worth_trying(self) -> bool:
        return self.reachable or time.monotonic() >= self._skip_until

    def failed(self, error: BaseException) -> None:
        now = time.monotonic()
        self.reachable = False
        self.failures += 1
        self._skip_until = now + RETRY_AFTER
        if now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            logger.warning(
                "redis unreachable (%s); cache and rate limit use this process's memory until it answers",
                type(error).__name__,
            )

    def succeeded(self) -> None:
        if not self.reachable:
            self.reachable = True
            logger.warning("redis answers again; cache and rate limit are shared again")

    def describe(self) -> str:
        return "redis" if self.reachable else "memory (redis unreachable)"
