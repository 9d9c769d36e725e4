"""``TikTokApiMiddleware``: answers the spiders' TikTok requests through the process's shared
``TikTokClient``; the only way a spider reaches the client.

A spider marks a request with ``meta["tiktok_api"]``:

- ``{"path": ..., "params": {...}}`` for one API answer, with, for a feed that a page also shows,
  ``"page": {"page_path": ..., "api_path": ..., "skip": ..., "want": ...}`` for the rendered-page
  strategy: the JSON answer comes back as a ``TextResponse`` (the parsed payload in
  ``meta["tiktok_payload"]``); ``"require": "userInfo.user.id"`` names what a true answer always
  holds (an answer without it is TikTok's soft failure, retried with a fresh session);
- ``{"challenge": NAME}`` for a hashtag's challenge id (cached per process and name):
  ``meta["tiktok_challenge_id"]`` holds it, or ``""`` when the tag's page is to look it up itself.

After the client's recovery a failure raises the typed ``UpstreamError``, which reaches the request's
errback. Other requests pass through.

Settings: the client's (``ClientOptions``, read with ``settings.crawl.config_from_settings``:
``TIKTOK_BASE_URL``, ``CHROMIUM_PATH``, ``TIKTOK_PROXY``, ``UPSTREAM_TIMEOUT``, ``TIKTOK_MAX_ATTEMPTS``,
``BREAKER_THRESHOLD``, ...). Stats, added to the crawl's from what each call counted:
``tiktok/api_calls``, ``tiktok/page_loads``, ``tiktok/errors/<reason>``, ``tiktok/retries/<reason>``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

from scrapy.http import TextResponse
from twisted.internet import reactor
from twisted.internet.defer import Deferred

from tiktok_spiders.client import ClientOptions, TikTokClient
from tiktok_spiders.client.pages import PageFeed
from tiktok_spiders.errors import UpstreamError

if TYPE_CHECKING:
    from collections.abc import Mapping

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
        try:
            if "challenge" in call:
                challenge = await self.client.challenge(call["challenge"])
                self._add_stats(challenge.counts)
                request.meta["tiktok_challenge_id"] = challenge.value.id if challenge.value else ""
                return TextResponse(url=request.url, status=200, body=b"", request=request)
            result = await self.client.fetch(
                call["path"], call["params"], _page_feed(call.get("page")), call.get("require")
            )
        except UpstreamError as error:
            self._add_stats(error.counts)
            raise
        self._add_stats(result.counts)
        request.meta["tiktok_payload"] = result.value.payload
        return TextResponse(
            url=request.url,
            status=200,
            body=result.value.body.encode("utf-8"),
            encoding="utf-8",
            request=request,
        )

    def _add_stats(self, counts: Mapping[str, int]) -> None:
        assert self.crawler.stats is not None
        for key, count in counts.items():
            self.crawler.stats.inc_value(f"tiktok/{key}", count)


def _close_clients() -> Deferred[None]:
    return Deferred.fromFuture(asyncio.ensure_future(TikTokClient.close_all()))


def _page_feed(page: dict[str, Any] | None) -> PageFeed | None:
    if page is None:
        return None
    return PageFeed(**{**page, "also_watch": tuple(page.get("also_watch", ()))})
