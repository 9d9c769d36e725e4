"""Cache warming: a crawl's answer written into the shared cache under the key the HTTP bridge reads, so
a scheduled ``trending`` crawl makes ``/trending`` a cache hit on every bridge instance.

Settings (the environment variables of the same names, ``settings.env``):

- ``CACHE_WARM`` (``CACHE_WARM=1``): on; the pipeline is listed in ``ITEM_PIPELINES`` only then,
  and the bridge's own crawls switch it off (they store their answers themselves).
- ``CACHE_URL``: the shared cache, ``redis://host:port/db``.
- ``CACHE_TTL_TRENDING``, ``CACHE_TTL_HASHTAG``, ``CACHE_TTL_PROFILE``, ``CACHE_TTL_COMMENTS``,
  ``CACHE_STALE_MAX``: as the bridge's.

It collects the items (videos, creators, comments, sounds) that passed every validation pipeline (it runs last), and when the crawl
finishes without an upstream error it stores them as the answer to the spider's request, in the form
``tiktok_spiders.answer_keys`` defines (the same bytes the bridge would have stored). A crawl asking for
more than the HTTP API allows (``count`` > 100) warms nothing: no request could read it. The key and
the TTL are the feed's (``tiktok_spiders.feeds``), so they are the bridge's by construction. Stats:
``cache_warm/stored`` (1 when written), ``cache_warm/skipped/<reason>``, ``cache_warm/error``.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, Self, get_args

from scrapy import signals
from scrapy.exceptions import NotConfigured

from tiktok_spiders.answer_keys import (
    SHARED_PREFIX,
    StoredAnswer,
    answer_body,
    encode_stored,
    etag_of,
    item_body,
)
from tiktok_spiders.feeds import FEED_OF_SPIDER, TtlSetting
from tiktok_spiders.items import Comment, Creator, Sound, Video
from tiktok_spiders.params import InvalidParameter
from tiktok_spiders.spiders.base import TikTokSpider

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

#: seconds the write to Redis may take
REDIS_TIMEOUT = 5.0


class CacheWarmingPipeline:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("CACHE_WARM"):
            raise NotConfigured("CACHE_WARM is off")
        url = str(settings.get("CACHE_URL") or "")
        if not url.startswith(("redis://", "rediss://")):
            raise NotConfigured("cache warming needs CACHE_URL=redis://...")
        self.url = url
        # Defaults in settings.env.Config, applied by settings.crawl.
        self.ttls = {setting: settings.getfloat(setting) for setting in get_args(TtlSetting)}
        self.stale_max = settings.getfloat("CACHE_STALE_MAX")
        assert crawler.stats is not None
        self.stats: StatsCollector = crawler.stats
        self.bodies: list[bytes] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls(crawler)
        # spider_closed, not close_spider: only the signal says why the crawl ended.
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def process_item(self, item: Any) -> Any:
        if isinstance(item, (Video, Creator, Comment, Sound)):
            self.bodies.append(item_body(item))
        return item

    def spider_closed(self, spider: Spider, reason: str) -> None:
        skipped = self.skip_reason(spider, reason)
        if skipped is not None:
            self.stats.set_value(f"cache_warm/skipped/{skipped}", 1)
            return
        assert isinstance(spider, TikTokSpider)  # skip_reason said so
        feed = FEED_OF_SPIDER[spider.name]
        key = feed.key(feed.parse(spider.arguments))
        ttl = self.ttls[feed.ttl_setting]
        if feed.shape == "object" and not self.bodies:
            self.stats.set_value("cache_warm/skipped/no_item", 1)
            return
        body = answer_body(feed.shape, self.bodies)
        cursor = self.stats.get_value("tiktok/next_cursor")
        stored = StoredAnswer(
            body, etag_of(body), time.time(), ttl, cursor if isinstance(cursor, (int, str)) else None
        )
        import redis  # noqa: PLC0415 - only where cache warming is on

        client = redis.Redis.from_url(
            self.url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        try:
            expires = max(1, math.ceil(ttl + self.stale_max))
            client.set(SHARED_PREFIX + key, encode_stored(stored), ex=expires)
        except (redis.RedisError, OSError) as error:
            self.stats.set_value("cache_warm/error", type(error).__name__)
            spider.logger.warning("cache warming failed: could not write to redis (%s)", type(error).__name__)
        else:
            self.stats.set_value("cache_warm/stored", 1)
            self.stats.set_value("cache_warm/key", key)
        finally:
            client.close()

    def skip_reason(self, spider: Spider, reason: str) -> str | None:
        if self.stats.get_value("tiktok/error") is not None:
            return "upstream_error"  # a partial answer is never cached (as in the bridge)
        if reason != "finished":
            return "not_finished"
        feed = FEED_OF_SPIDER.get(spider.name)
        if feed is None or not isinstance(spider, TikTokSpider):
            return "no_route"
        try:  # the spider's arguments as a request to the route would give them
            feed.parse(spider.arguments)
        except InvalidParameter as error:
            return f"{error.name}_beyond_api"  # no request could read such an answer
        return None
