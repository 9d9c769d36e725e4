"""A process-wide bound on upstream calls, in flight and per second, so a burst of users does not
earn the service a captcha. The per-second bound uses ``limits``' moving window."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

if TYPE_CHECKING:
    from types import TracebackType

#: how many times one call may find the window full before it gives up waiting and goes anyway
_MAX_WAITS = 1000


class UpstreamGate:
    def __init__(self, max_in_flight: int, rate: str | None) -> None:
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._rate = parse(rate) if rate else None
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self.waits = 0

    async def __aenter__(self) -> None:
        await self._in_flight.acquire()
        try:
            await self._wait_for_rate()
        except BaseException:
            self._in_flight.release()
            raise

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._in_flight.release()

    async def _wait_for_rate(self) -> None:
        if self._rate is None:
            return
        for _ in range(_MAX_WAITS):
            if await self._limiter.hit(self._rate, "upstream"):
                return
            self.waits += 1
            stats = await self._limiter.get_window_stats(self._rate, "upstream")
            await asyncio.sleep(max(0.001, min(1.0, stats.reset_time - time.time())))
