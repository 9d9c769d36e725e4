"""Admission to the crawl slots: ``MAX_CONCURRENT_CRAWLS`` crawls at once, and behind them a bounded
queue (``MAX_QUEUED_CRAWLS``) of misses waiting for a slot, served round-robin between clients so one
caller's burst cannot starve the others.

A miss waits only while it can still be answered in time: it is admitted when the queue has room and
the wait its place predicts (the recent crawl time for each round of slots ahead of it) plus one crawl
fits in ``UPSTREAM_TIMEOUT``, and it gives up waiting once only a crawl's time is left. Refused or given
up, it is a 503 ``overloaded`` whose ``Retry-After`` is when the queue ahead of it should have drained.
A crawl, once started, keeps its own deadline (``bridge.crawls``).

No Twisted here: the answer policy (``bridge.policy``) owns one and is tested in process.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque

from bridge import problems

#: what a crawl is expected to take before any has finished, in seconds
INITIAL_CRAWL_SECONDS = 0.5
#: weight of the latest crawl in the running estimate
SMOOTHING = 0.2


class CrawlSlots:
    def __init__(self, slots: int, max_waiting: int, deadline: float) -> None:
        self.slots = slots
        self.max_waiting = max_waiting
        self.deadline = deadline
        self.running = 0
        #: a running estimate of one crawl's duration
        self.crawl_seconds = INITIAL_CRAWL_SECONDS
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}
        self._turns: deque[str] = deque()  # clients with waiters, in the order they are served

    @property
    def waiting(self) -> int:
        return sum(len(queue) for queue in self._waiting.values())

    @property
    def free(self) -> bool:
        return self.running < self.slots and not self.waiting

    def _wait_for(self, ahead: int) -> float:
        """The predicted wait of a miss with ``ahead`` misses queued before it."""
        return (ahead // self.slots + 1) * self.crawl_seconds

    def _refusal(self, ahead: int) -> problems.Problem:
        return problems.overloaded(retry_after=max(1, math.ceil(self._wait_for(ahead))))

    async def acquire(self, client: str) -> None:
        """Return holding a slot (``release`` gives it back), or raise 503 ``overloaded``."""
        if self.free:
            self.running += 1
            return
        ahead = self.waiting
        budget = self.deadline - self.crawl_seconds
        if ahead >= self.max_waiting or self._wait_for(ahead) > budget:
            raise self._refusal(ahead)
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if client not in self._waiting:
            self._waiting[client] = deque()
            self._turns.append(client)
        self._waiting[client].append(turn)
        try:
            await asyncio.wait_for(asyncio.shield(turn), budget)
        except TimeoutError:
            self._forget(client, turn)
            if turn.done():  # the slot came as the wait ran out: take it after all
                return
            raise self._refusal(self.waiting) from None
        except asyncio.CancelledError:
            self._forget(client, turn)
            if turn.done() and not turn.cancelled():
                self.release(None)  # granted to a caller that left: hand it on
            raise

    def release(self, crawl_seconds: float | None) -> None:
        """Give a slot back (after a crawl of ``crawl_seconds``, to learn from): to the next client's
        oldest waiter, round-robin, or to the pool."""
        if crawl_seconds is not None:
            self.crawl_seconds += SMOOTHING * (crawl_seconds - self.crawl_seconds)
        for _ in range(self.waiting):  # bounded: each pass removes one waiter
            client = self._turns.popleft()
            queue = self._waiting[client]
            turn = queue.popleft()
            if queue:
                self._turns.append(client)  # its next waiter goes after every other client's
            else:
                del self._waiting[client]
            if not turn.done():
                turn.set_result(None)  # the slot passes on: ``running`` stays as it is
                return
        self.running -= 1

    def _forget(self, client: str, turn: asyncio.Future[None]) -> None:
        queue = self._waiting.get(client)
        if queue is not None and turn in queue:
            queue.remove(turn)
            if not queue:
                del self._waiting[client]
                self._turns.remove(client)
