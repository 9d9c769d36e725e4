"""A circuit breaker on upstream: after ``threshold`` refused calls in a row it stops calling TikTok
for ``cooldown`` seconds (calls fail at once with ``CircuitOpen``), then lets one probe through
(half-open): its success closes the circuit, its failure opens it for another cool-down."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from tiktok_spiders.errors import CircuitOpen

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    def __init__(self, threshold: int, cooldown: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.threshold = threshold
        self.cooldown = cooldown
        self.state = CLOSED
        self.failures = 0
        self.opened_at = 0.0
        self.trips = 0
        self._probing = False

    def before_call(self) -> None:
        """Raise ``CircuitOpen`` unless a call may go upstream now."""
        if self.threshold <= 0 or self.state == CLOSED:
            return
        if self.state == OPEN:
            remaining = self.opened_at + self.cooldown - self.clock()
            if remaining > 0:
                raise CircuitOpen(retry_after=remaining)
            self.state = HALF_OPEN
        if self._probing:  # one probe at a time while half-open
            raise CircuitOpen(retry_after=1.0)
        self._probing = True

    def succeeded(self) -> None:
        self.state, self.failures, self._probing = CLOSED, 0, False

    def failed(self) -> None:
        self.failures += 1
        self._probing = False
        if self.threshold > 0 and (self.state == HALF_OPEN or self.failures >= self.threshold):
            self.state = OPEN
            self.opened_at = self.clock()
            self.trips += 1

    def released(self) -> None:
        """A probe that ended neither way (not found, a bug): let the next call probe again."""
        self._probing = False

    def describe(self) -> dict[str, object]:
        reopens_in = max(0.0, self.opened_at + self.cooldown - self.clock()) if self.state == OPEN else 0.0
        return {
            "state": self.state,
            "failures_in_a_row": self.failures,
            "trips": self.trips,
            "retry_in_s": math.ceil(reopens_in * 10) / 10,  # rounded up: 0 only once calls may go again
        }
