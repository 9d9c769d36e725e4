"""Per-client rate limit (``RATE_LIMIT``, e.g. ``120/minute``) with ``limits``' moving window.

The client is the socket's peer address, or the left-most address of ``X-Forwarded-For`` not in
``TRUSTED_PROXIES`` when the peer is a trusted proxy (nginx in front of several instances).
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


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


class ClientRateLimit:
    def __init__(self, rate: str) -> None:
        self.item = None if rate.lower() == "off" else parse(rate)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def check(self, client: str) -> Verdict | None:
        if self.item is None:
            return None
        allowed = self.limiter.hit(self.item, client)
        stats = self.limiter.get_window_stats(self.item, client)
        reset_in = max(1, math.ceil(stats.reset_time - time.time()))
        return Verdict(allowed, self.item.amount, stats.remaining, reset_in)


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
