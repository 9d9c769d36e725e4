"""A circuit breaker on upstream: after ``threshold`` failed calls in a row it stops calling TikTok
for ``cooldown`` seconds (calls fail at once with ``CircuitOpen``), then lets one probe through
(half-open): its success closes the circuit, its failure opens it for another cool-down.

Every call that ``before_call`` lets through gets a ``Ticket`` and must end with exactly one of
``succeeded``, ``failed`` or ``released`` (``TikTokClient`` does it in one ``try``), so a probe can
never be left open. A ticket remembers the circuit's generation (how many times it has opened):
calls started before the circuit last opened neither re-trip it nor restart its cool-down when
they fail late, and their late successes do not close it either.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from tiktok_spiders.errors import CircuitOpen


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN


@dataclass(frozen=True, slots=True)
class Ticket:
    """One call let through: the generation it started in, and whether it is the half-open probe."""

    generation: int
    probe: bool = False


class CircuitBreaker:
    def __init__(self, threshold: int, cooldown: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.threshold = threshold
        self.cooldown = cooldown
        self.state = CLOSED
        self.failures = 0
        self.opened_at = 0.0
        self.trips = 0
        #: how many times the circuit has opened; tickets of an earlier generation are stragglers
        self.generation = 0
        self._probing = False

    def before_call(self) -> Ticket:
        """A ticket for a call that may go upstream now; raises ``CircuitOpen`` otherwise."""
        if self.threshold <= 0 or self.state == CLOSED:
            return Ticket(self.generation)
        if self.state == OPEN:
            remaining = self.opened_at + self.cooldown - self.clock()
            if remaining > 0:
                raise CircuitOpen(retry_after=remaining)
            self.state = HALF_OPEN
        if self._probing:  # one probe at a time while half-open
            raise CircuitOpen(retry_after=1.0)
        self._probing = True
        return Ticket(self.generation, probe=True)

    def succeeded(self, ticket: Ticket) -> None:
        self._end_probe(ticket)
        if ticket.generation == self.generation:
            self.state, self.failures = CLOSED, 0

    def failed(self, ticket: Ticket) -> None:
        self._end_probe(ticket)
        if ticket.generation != self.generation or self.threshold <= 0:
            return  # started before the circuit last opened: that outage is already counted
        if ticket.probe or self.state == CLOSED:
            self.failures += 1
        if (ticket.probe and self.state == HALF_OPEN) or (
            self.state == CLOSED and self.failures >= self.threshold
        ):
            self.state = OPEN
            self.opened_at = self.clock()
            self.trips += 1
            self.generation += 1

    def released(self, ticket: Ticket) -> None:
        """A call that said nothing about TikTok's health (not found, our own browser failing, a
        cancelled crawl): if it was the probe, the next call probes again."""
        self._end_probe(ticket)

    def _end_probe(self, ticket: Ticket) -> None:
        if ticket.probe and ticket.generation == self.generation:
            self._probing = False

    def describe(self) -> dict[str, object]:
        reopens_in = max(0.0, self.opened_at + self.cooldown - self.clock()) if self.state == OPEN else 0.0
        return {
            "state": str(self.state),
            "failures_in_a_row": self.failures,
            "trips": self.trips,
            "retry_in_s": math.ceil(reopens_in * 10) / 10,  # rounded up: 0 only once calls may go again
        }
