"""What the routes share in one service process: the configuration, the caches, the answer policy,
the rate limit, and the ``/health`` report. Nothing here speaks HTTP."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, get_args

from bridge.cache import MemoryCache, SingleFlight
from bridge.crawls import BridgeCrawlManager, crawl, winding_down
from bridge.degrade import RedisHealth
from bridge.health import HealthStatus, UpstreamRecord, judge
from bridge.openapi import openapi_document
from bridge.policy import AnswerPolicy
from bridge.problems import Problem
from bridge.ratelimit import ClientAddress, ClientRateLimit
from bridge.video_index import UnknownVideos, VideoIndex
from tiktok_spiders.feeds import TtlSetting

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bridge.cache import AnswerCache
    from bridge.cache_redis import RedisCache
    from bridge.metrics import ServiceMetrics
    from bridge.outcomes import CrawlOutcome
    from settings.env import Config
    from tiktok_spiders.client import TikTokClient
    from tiktok_spiders.params import Value


class ServiceState:
    def __init__(self, config: Config, client: TikTokClient) -> None:
        self.config = config
        self.client = client
        BridgeCrawlManager.configure(config)  # the crawls' settings, from the same configuration
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
        self.record = UpstreamRecord()
        self.policy = AnswerPolicy(
            cache=self.cache,
            shared_cache=self.shared_cache,
            flights=self.flights,
            max_concurrent_crawls=config.max_concurrent_crawls,
            max_queued_crawls=config.max_queued_crawls,
            deadline=config.upstream_timeout,
            crawl=self.crawl,
            record=self.record,
            videos=self.videos,
            # ids TikTok had no video for, remembered for CACHE_TTL_HASHTAG seconds (a 404 from memory)
            unknown_videos=UnknownVideos(config.cache_ttl_hashtag),
            ttls={setting: float(getattr(config, setting.lower())) for setting in get_args(TtlSetting)},
            video_ttl=config.cache_ttl_hashtag,
        )
        self.rate_limit = ClientRateLimit(config.rate_limit, redis_url, self.redis_health)
        self.addresses = ClientAddress(config.trusted_proxies)
        self.started_at = time.monotonic()
        #: what /metrics exposes (None with METRICS=off: the route is 404, nothing is counted)
        self.metrics: ServiceMetrics | None = None
        if config.metrics:
            from bridge.metrics import ServiceMetrics  # noqa: PLC0415 - only with METRICS on

            self.metrics = ServiceMetrics(
                client=client,
                cache=self.cache,
                flights=self.flights,
                slots=self.policy.slots,
                record=self.record,
                rate_limit=self.rate_limit,
            )
        #: told of each finished request (``bridge.writer.log_when_finished``), or None
        self.observe = None if self.metrics is None else self.metrics.observe
        self.openapi_body = json.dumps(openapi_document(), ensure_ascii=False, indent=1).encode("utf-8")

    async def crawl(self, spider: str, arguments: Mapping[str, Value]) -> CrawlOutcome:
        """One crawl within ``UPSTREAM_TIMEOUT``; its 504 counts as an upstream failure for /health.
        The policy records the outcome's own problem once it has decided what it means."""
        try:
            return await crawl(spider, arguments, self.config.upstream_timeout)
        except Problem as timeout:
            self.record.record_outcome(timeout)
            raise

    async def health(self) -> tuple[int, dict[str, Any]]:
        """``/health``: its HTTP status and body. The sessions' pages are probed first, so a browser,
        renderer or driver that died since the last call is seen (and healing starts) now."""
        answering = await self.client.check()
        now = time.monotonic()
        client = self.client.describe()
        status, reasons = judge(now, answering, client, self.record)
        last_failure = self.record.last_failure
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
                "queued": self.policy.slots.waiting,  # misses waiting for a crawl slot
                "winding_down": winding_down(),  # stopped at their deadline, not yet finished
                "total": self.record.crawls,
            },
            "upstream": {
                "api_calls": client["api_calls"],
                "page_loads": client["page_loads"],
                "latency_ms": client["latency_ms"],
                "last_error": client["last_error"],
                "last_failed_answer": last_failure[1] if last_failure else None,
                "last_failed_answer_age_s": round(now - last_failure[0], 1) if last_failure else None,
            },
        }
        return (503 if status is HealthStatus.DOWN else 200), body
