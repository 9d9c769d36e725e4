"""Per-client rate limit (``RATE_LIMIT``, e.g. ``120/minute``) with ``limits``' sliding window counter.

The sliding window counter weighs the previous fixed window's count by how much of it still overlaps
the last period: constant work and memory per client, where the moving window keeps one entry per
request (120,000 for ``120000/minute``), inserted at the front of a list and sliced on expiry. With a
full window that is 54 us per request against 20 (``limits`` 5.8, memory storage, 2-core Xeon); the
limit it enforces is the same to within the previous window's unevenness.

In this process's memory the same counter is ``LocalWindows``: ``limits``' arithmetic over two dicts
(this window's counts and the last one's), 2 us a request where ``limits``' ``MemoryStorage`` takes
about 18 (two storage calls, a lock, and an expiry thread started every 10 ms under load), which on a
cache hit was a fifth of the request; ``tests/test_ratelimit.py`` checks that it answers what
``limits`` answers.

The client is the socket's peer address, or, when the peer is a trusted proxy (nginx in front of
several instances), the right-most address of ``X-Forwarded-For`` not in ``TRUSTED_PROXIES``: the
hop just before our own proxies. The left-most one is whatever the caller chose to send.

With ``CACHE_URL=redis://...`` the counters live in that Redis, so the limit holds across instances;
while Redis is unreachable each instance counts in its own memory (``bridge.degrade``).
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

if TYPE_CHECKING:
    from limits import RateLimitItem

    from bridge.degrade import RedisHealth

#: seconds one Redis call may block the request before the limit falls back to memory
REDIS_TIMEOUT = 0.5


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_in: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_in),
        }


class LocalWindows:
    """``limits``' ``SlidingWindowCounterRateLimiter`` over its ``MemoryStorage``, the same arithmetic
    (a hit is refused when ``floor(weighted) + 1 > amount``; the reset is the sooner of the previous
    window's next expiring share and the current window's end), kept in two dicts: the counts of the
    current fixed window and of the one before, by client. Counts older than that are dropped when a
    window starts, as ``MemoryStorage`` expires them. For the reactor's thread only."""

    def __init__(self, item: RateLimitItem) -> None:
        self.amount = item.amount
        self.expiry = item.get_expiry()
        self.window = 0  # the index of the current fixed window: int(now / expiry)
        self.current: dict[str, int] = {}
        self.previous: dict[str, int] = {}

    def check(self, client: str, now: float) -> Verdict:
        expiry = self.expiry
        window = int(now / expiry)
        if window != self.window:
            self.previous = self.current if window == self.window + 1 else {}
            self.current = {}
            self.window = window
        previous = self.previous.get(client, 0)
        current = self.current.get(client, 0)
        # what of the previous window still overlaps the last period, in seconds
        previous_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry if previous else 0.0
        allowed = math.floor(previous * previous_ttl / expiry + current) + 1 <= self.amount
        if allowed:
            current += 1
            self.current[client] = current
        weighted = previous * previous_ttl / expiry + current
        remaining = max(0, self.amount - math.floor(weighted))
        reset_in = math.inf
        if previous:
            reset_in = previous_ttl % (expiry / previous)
        if current:
            reset_in = min(reset_in, ((1 - ((now / expiry) % 1)) * expiry + expiry) % expiry)
        if reset_in == math.inf:  # nothing counted: the window is open now
            reset_in = 0.0
        return Verdict(allowed, self.amount, remaining, max(1, math.ceil(reset_in)))


class ClientRateLimit:
    def __init__(self, rate: str, redis_url: str | None = None, health: RedisHealth | None = None) -> None:
        self.item = None if rate.lower() == "off" else parse(rate)
        self.local = None if self.item is None else LocalWindows(self.item)
        self.shared: SlidingWindowCounterRateLimiter | None = None
        self.health = health
        #: requests refused (429), for /metrics
        self.refused = 0
        if redis_url is not None and self.item is not None:
            from redis.backoff import NoBackoff  # noqa: PLC0415 - only with a Redis URL
            from redis.retry import Retry  # noqa: PLC0415

            options: dict[str, Any] = {
                "socket_timeout": REDIS_TIMEOUT,
                "socket_connect_timeout": REDIS_TIMEOUT,
                "retry": Retry(NoBackoff(), 0),
            }
            self.shared = SlidingWindowCounterRateLimiter(storage_from_string(redis_url, **options))

    def check(self, client: str) -> Verdict | None:
        if self.item is None or self.local is None:
            return None
        if self.shared is not None and self.health is not None and self.health.worth_trying:
            try:
                verdict = shared_check(self.shared, self.item, client)
            except Exception as error:  # limits passes the Redis client's errors through
                self.health.failed(error)
            else:
                self.health.succeeded()
                return verdict
        return self.local.check(client, time.time())


def shared_check(limiter: SlidingWindowCounterRateLimiter, item: RateLimitItem, client: str) -> Verdict:
    """One hit counted by ``limits`` in its storage (Redis), and the window it leaves."""
    allowed = limiter.hit(item, client)
    stats = limiter.get_window_stats(item, client)
    reset_in = max(1, math.ceil(stats.reset_time - time.time()))
    return Verdict(allowed, item.amount, stats.remaining, reset_in)


class ClientAddress:
    def __init__(self, trusted_proxies: tuple[str, ...]) -> None:
        self.trusted = [ipaddress.ip_network(proxy, strict=False) for proxy in trusted_proxies]

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def of(self, peer: str, forwarded_for: str | None) -> str:
        if not self.trusted or not forwarded_for or not self._is_trusted(peer):
            return peer
        # Walk from the right (the hop nearest to us) past our own proxies.
        for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
            if hop and not self._is_trusted(hop):
                return hop
        return peer
