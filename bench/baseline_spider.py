"""The baseline of DESIGN.md section 5: the textbook scrapy-playwright set-up.

Every crawl gets its own ``ScrapyPlaywrightDownloadHandler``, which launches Chromium on the crawl's first
request, loads ``{BASE}/`` in a fresh context, and closes the browser when the crawl ends. The callback
then signs and fetches the same recommend call our client makes (``build_api_url`` and ``PAGE_FETCH``)
inside that page, parses it with ``parse_feed`` and yields the videos, up to ``count``.

It lives in ``bench/`` on purpose: it is what we measure ourselves against, not a spider of the service.
"""

from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING, Any

import scrapy

from settings.env import DEFAULT_CHROMIUM
from tiktok_spiders.client.browser import CHROMIUM_ARGS
from tiktok_spiders.client.session import PAGE_FETCH
from tiktok_spiders.client.web_params import SessionFields, build_api_url
from tiktok_spiders.errors import UpstreamBlocked, UpstreamError
from tiktok_spiders.items import Video
from tiktok_spiders.parsing import load_json, parse_app_context, parse_feed
from tiktok_spiders.spiders.base import MAX_PAGE_SIZE
from tiktok_spiders.spiders.trending import RECOMMEND

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from playwright.async_api import Page
    from scrapy.http import Response
    from twisted.python.failure import Failure

HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
#: like our trending spider: a bounded number of feed pages per crawl
MAX_PAGES = 5


class BaselineTrendingSpider(scrapy.Spider):
    name = "baseline_trending"
    custom_settings: dict[Any, Any] | None = {  # noqa: RUF012 (Scrapy reads it from the class)
        "DOWNLOAD_HANDLERS": {"http": HANDLER, "https": HANDLER},
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM,
            "headless": True,
            # the service's own flags, so that the browser differs only in how it is managed
            "args": list(CHROMIUM_ARGS),
        },
        # Not our client: the project's API middleware stays out of the way (it passes other requests
        # through anyway). The item pipelines stay, so both sides pay for the same validation.
        "DOWNLOADER_MIDDLEWARES": {"tiktok_spiders.middlewares.TikTokApiMiddleware": None},
    }

    def __init__(self, count: object = 30, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.count = int(str(count))
        self.api_calls = 0

    @property
    def base_url(self) -> str:
        return str(self.settings.get("TIKTOK_BASE_URL"))

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(
            f"{self.base_url}/",
            meta={"playwright": True, "playwright_include_page": True},
            callback=self.parse_home,
            errback=self.failed,
            dont_filter=True,
        )

    async def parse_home(self, response: Response) -> AsyncIterator[Video]:
        page: Page = response.meta["playwright_page"]
        try:
            fields = await self.session_fields(page, response.text)
            timeout_ms = int(self.settings.getfloat("UPSTREAM_TIMEOUT") * 1000)
            videos = 0
            for _ in range(MAX_PAGES):
                missing = self.count - videos
                # the same headroom as TikTokSpider.page_size, written out: the baseline is a textbook
                # spider, not one of ours, so it shares our request and parser but not our spider base
                page_size = min(MAX_PAGE_SIZE, missing + missing // 4 + 2)
                url = build_api_url(
                    self.base_url, RECOMMEND, {"from_page": "fyp", "count": page_size}, fields
                )
                self.api_calls += 1
                answer = await page.evaluate(PAGE_FETCH, [url, timeout_ms])
                if answer["status"] != 200:
                    raise UpstreamError(f"HTTP {answer['status']} {answer['error'] or ''}".strip())
                feed = parse_feed(load_json(str(answer["body"])))
                for entry in feed.entries:
                    if isinstance(entry, Video) and videos < self.count:
                        videos += 1
                        yield entry
                if videos >= self.count or not feed.has_more:
                    break
        finally:
            assert self.crawler.stats is not None
            self.crawler.stats.set_value("tiktok/api_calls", self.api_calls)
            await page.close()

    async def session_fields(self, page: Page, html: str) -> SessionFields:
        app = parse_app_context(html)
        cookies = {cookie["name"]: cookie["value"] for cookie in await page.context.cookies(self.base_url)}
        token = cookies.get("msToken")
        if not token:
            raise UpstreamBlocked("the page set no msToken")
        user_agent = str(await page.evaluate("navigator.userAgent"))
        return SessionFields(
            device_id=app.device_id or str(random.randrange(10**18, 10**19)),
            ms_token=token,
            user_agent=user_agent,
            region=app.region or "US",
        )

    async def failed(self, failure: Failure) -> None:
        page: Page | None = failure.request.meta.get("playwright_page")  # type: ignore[attr-defined]
        if page is not None:
            await page.close()
        self.logger.error("baseline crawl failed: %r", failure.value)
