"""What ``/health`` judges by: the record of upstream outcomes (``UpstreamRecord``) and the rule that
turns it, with the client's state, into ``ok``, ``degraded`` or ``down`` and the reasons in words."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from settings.env import Strategy
from tiktok_spiders.client.breaker import BreakerState

if TYPE_CHECKING:
    from bridge.problems import Problem

#: how long after an upstream failure (or a stale answer) /health says "degraded"
DEGRADED_FOR = 300.0


class HealthStatus(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"  # answers may be stale, rendered or failing; the instance still serves
    DOWN = "down"  # nothing can be fetched (HTTP 503): a load balancer takes the instance out


class UpstreamRecord:
    """The crawls' outcomes as /health needs them: how many, the last failure, the last stale answer."""

    def __init__(self) -> None:
        self.crawls = 0
        self.last_failure: tuple[float, str] | None = None
        self.last_stale: float | None = None

    def record_outcome(self, problem: Problem | None) -> None:
        """One upstream crawl's outcome: a 5xx problem (timeouts and browser failures included)
        makes /health say ``degraded`` for ``DEGRADED_FOR`` seconds."""
        self.crawls += 1
        if problem is not None and problem.status >= 500:
            self.last_failure = (time.monotonic(), f"{problem.code}: {problem.detail}"[:200])

    def served_stale(self) -> None:
        self.last_stale = time.monotonic()


def judge(
    now: float, answering: bool, client: dict[str, Any], record: UpstreamRecord
) -> tuple[HealthStatus, list[str]]:
    """``down`` while nothing can be fetched (no browser, no session open yet, or none could be opened);
    ``degraded`` while answers may be stale, rendered or failing; else ``ok``."""
    browser, sessions = client["browser"], client["sessions"]
    down: list[str] = []
    if not answering and not browser["running"]:
        down.append(
            "the browser is not running yet"
            if browser["launches"] == 0 and not browser["failed_launches"]
            else "the service's browser is down; it is being relaunched"
        )
    elif not answering and sessions["last_open_error"]:
        down.append(f"no TikTok session could be opened ({sessions['last_open_error']})")
    elif not answering and not sessions["retired"] and not sessions["lost"]:
        # None has ever been open: the first is still opening (at start, its page loading).
        down.append("the first TikTok session is not open yet")
    if down:
        return HealthStatus.DOWN, down
    degraded: list[str] = []
    if not answering:
        degraded.append("no session is open (the last one was retired or lost); the next call opens one")
    if client["breaker"]["state"] != BreakerState.CLOSED:
        degraded.append(f"calls to TikTok are paused (breaker {client['breaker']['state']})")
    if client["strategy"] is not Strategy.API:
        degraded.append("feeds come from rendered pages, not the API")
    if record.last_failure is not None and now - record.last_failure[0] < DEGRADED_FOR:
        degraded.append(f"an upstream failure {now - record.last_failure[0]:.0f} s ago")
    if record.last_stale is not None and now - record.last_stale < DEGRADED_FOR:
        degraded.append(f"a stale answer served {now - record.last_stale:.0f} s ago")
    return (HealthStatus.DEGRADED, degraded) if degraded else (HealthStatus.OK, [])
