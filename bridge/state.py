"""What the routes share in one service process: configuration, cache, flights, rate limit, health."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from bridge import answers
from bridge.cache import MemoryCache, SingleFlight
from bridge.crawls import CrawlOutcome, crawl, winding_down
from bridge.degrade import RedisHealth
from bridge.openapi import openapi_document
from bridge.problems import Problem
from bridge.ratelimit import ClientAddress, ClientRateLimit
from bridge.videos import UnknownVideos, VideoIndex

if TYPE_CHECKING:
    from twisted.web.server import Request

    from bridge.cache import AnswerCache
    from bridge.cache_redis import RedisCache
    from settings.env import Config
    from tiktok_spiders.client import TikTokClient

#: how long after an upstream failure (or a stale answer) /health says "degraded"
DEGRADED_FOR = 300.0


class ServiceState:
    def __init__(self, config: Config, client: TikTokClient) -> None:
        self.config = config
        self.client = client
        self.cache: AnswerCache = MemoryCache(stale_max=config.cache_stale_max)
        #: the cache shared with other instances (CACHE_URL=redis://...), in front of ``cache``
        self.shared_cache: RedisCache | None = None
        self.redis_health: RedisHealth | None = None
        redis_url = config.cache_url if config.cache_url.startswith(("redis://", "rediss://")) else None
        if redis_url is not None:
            from bridge.cache_redis import RedisCache  # noqa: PLC0415 - only with a Redis URL

            self.redis_health = RedisHealth()
            self.shared_cache = RedisCache(
                redis_url,
                local=self.cache,
                stale_max=config.cache_stale_max,
                # a crawl ends by its deadline, plus a bounded wind-down (bridge.crawls._stop)
                lock_ttl=config.upstream_timeout + 10,
                health=self.redis_health,
            )
        self.flights = SingleFlight()
        self.videos = VideoIndex()
        #: ids TikTok had no video for, remembered for CACHE_TTL_HASHTAG seconds (a 404 from memory)
        self.unknown_videos = UnknownVideos(config.cache_ttl_hashtag)
        self.rate_limit = ClientRateLimit(config.rate_limit, redis_url, self.redis_health)
        self.addresses = ClientAddress(config.trusted_proxies)
        self.started_at = time.monotonic()
        self.last_failure: tuple[float, str] | None = None
        self.last_stale: float | None = None
        self.crawls = 0
        self.openapi_body = json.dumps(openapi_document(), ensure_ascii=False, indent=1).encode("utf-8")

    def client_of(self, request: Request) -> str:
        peer = request.getClientAddress()
        host = getattr(peer, "host", None) or "unknown"
        return self.addresses.of(host, answers.header(request, "X-Forwarded-For"))

    def record_outcome(self, problem: Problem | None) -> None:
        """One upstream crawl's outcome: a 5xx problem (timeouts and browser failures included)
        makes /health say ``degraded`` for ``DEGRADED_FOR`` seconds."""
        self.crawls += 1
        if problem is not None and problem.status >= 500:
            self.last_failure = (time.monotonic(), f"{problem.code}: {problem.detail}"[:200])

    async def crawl(self, spider: str, arguments: dict[str, Any]) -> CrawlOutcome:
        """One crawl within ``UPSTREAM_TIMEOUT``; its 504 counts as an upstream failure for /health.
        The caller records the outcome's own problem once it has decided what it means."""
        try:
            return await crawl(spider, arguments, self.config.upstream_timeout)
        except Problem as timeout:
            self.record_outcome(timeout)
            raise

    def served_stale(self) -> None:
        self.last_stale = time.monotonic()

    async def health(self) -> tuple[int, dict[str, Any]]:
        """``/health``: its HTTP status and body. The sessions' pages are probed first, so a browser,
        renderer or driver that died since the last call is seen (and healing starts) now."""
        answering = await self.client.check()
        now = time.monotonic()
        client = self.client.describe()
        status, reasons = self._status(now, answering, client)
        body = {
            "status": status,
            "reasons": reasons,
            "uptime_s": round(now - self.started_at, 1),
            "strategy": client["strategy"],
            "browser": client["browser"],
            "sessions": {"answering": answering, **client["sessions"]},
            "breaker": client["breaker"],
            "cache": {
                "backend": self.redis_health.describe() if self.redis_health else self.cache.backend,
                "entries": len(self.cache),
                "videos": len(self.videos),
            },
            "crawls": {
                "in_flight": len(self.flights),
                "winding_down": winding_down(),  # stopped at their deadline, not yet finished
                "total": self.crawls,
            },
            "upstream": {
                "api_calls": client["api_calls"],
                "page_loads": client["page_loads"],
                "latency_ms": client["latency_ms"],
                "last_error": client["last_error"],
                "last_failed_answer": self.last_failure[1] if self.last_failure else None,
                "last_failed_answer_age_s": round(now - self.last_failure[0], 1)
                if self.last_failure
                else None,
            },
        }
        return (503 if status == "down" else 200), body

    def _status(self, now: float, answering: bool, client: dict[str, Any]) -> tuple[str, list[str]]:
        """``down`` while nothing can be fetched (no browser, or no session could be opened);
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
        if down:
            return "down", down
        degraded: list[str] = []
        if not answering:
            degraded.append("no session is open (the last one was retired or lost); the next call opens one")
        if client["breaker"]["state"] != "closed":
            degraded.append(f"calls to TikTok are paused (breaker {client['breaker']['state']})")
        if client["strategy"] != "api":
            degraded.append("feeds come from rendered pages, not the API")
        if self.last_failure is not None and now - self.last_failure[0] < DEGRADED_FOR:
            degraded.append(f"an upstream failure {now - self.last_failure[0]:.0f} s ago")
        if self.last_stale is not None and now - self.last_stale < DEGRADED_FOR:
            degraded.append(f"a stale answer served {now - self.last_stale:.0f} s ago")
        return ("degraded", degraded) if degraded else ("ok", [])
