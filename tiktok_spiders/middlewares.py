"""``TikTokApiMiddleware``: answers API requests through the process's shared ``TikTokClient``.

A spider marks a request with ``meta["tiktok_api"] = {"path": ..., "params": {...}}`` (and, for a
feed that a page also shows, ``"page": {"page_path": ..., "api_path": ..., "skip": ..., "want": ...}``
for the rendered-page strategy); this
downloader middleware signs and fetches it inside the session's page and returns the JSON answer as
a ``TextResponse`` (the parsed payload rides along in ``meta["tiktok_payload"]``), or raises the typed
``UpstreamError`` after recovery, which reaches the request's errback. Other requests pass through.

Settings (defaults in ``settings.crawl``): ``TIKTOK_BASE_URL``, ``TIKTOK_CHROMIUM_PATH``,
``TIKTOK_PROXIES``, ``TIKTOK_MS_TOKEN``, ``TIKTOK_UPSTREAM_TIMEOUT``, ``TIKTOK_MAX_ATTEMPTS``,
``TIKTOK_RETRY_BACKOFF``, ``TIKTOK_RETRY_BACKOFF_MAX``, ``TIKTOK_MAX_IN_FLIGHT``, ``TIKTOK_RATE``,
``TIKTOK_SESSION_MAX_AGE``. Stats: ``tiktok/api_calls``, ``tiktok/errors/<reason>``,
``tiktok/retries/<reason>``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

from scrapy.http import TextResponse
from twisted.internet import reactor
from twisted.internet.defer import Deferred

from tiktok_spiders.client import ClientOptions, TikTokClient
from tiktok_spiders.client.pages import PageFeed

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


class TikTokApiMiddleware:
    _shutdown_hooked: ClassVar[bool] = False

    def __init__(self, crawler: Crawler, client: TikTokClient) -> None:
        self.crawler = crawler
        self.client = client

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        client = TikTokClient.shared(ClientOptions.from_settings(crawler.settings))
        cls._close_clients_at_shutdown()
        return cls(crawler, client)

    @classmethod
    def _close_clients_at_shutdown(cls) -> None:
        # The browser outlives each crawl (ScrapyRT runs many in one process); close it with the process.
        if not cls._shutdown_hooked:
            cls._shutdown_hooked = True
            # IReactorCore's zope declaration confuses mypy about the arguments.
            cast("Any", reactor).addSystemEventTrigger("before", "shutdown", _close_clients)

    async def process_request(self, request: Request) -> TextResponse | None:
        call: dict[str, Any] | None = request.meta.get("tiktok_api")
        if call is None:
            return None
        spider = self.crawler.spider
        observe = getattr(spider, "count_stat", None)
        page = call.get("page")
        result = await self.client.feed(call["path"], call["params"], _page_feed(page), observe)
        request.meta["tiktok_payload"] = result.payload
        return TextResponse(
            url=request.url, status=200, body=result.body.encode("utf-8"), encoding="utf-8", request=request
        )


def _close_clients() -> Deferred[None]:
    return Deferred.fromFuture(asyncio.ensure_future(TikTokClient.close_all()))


def _page_feed(page: dict[str, Any] | None) -> PageFeed | None:
    if page is None:
        return None
    return PageFeed(**{**page, "also_watch": tuple(page.get("also_watch", ()))})
