"""The rendered-page strategy: when TikTok refuses our API calls, open the page a person would
(``/foryou``, ``/tag/<name>``) in the session's context, capture the feed's JSON answers as the page
itself requests them, and scroll for more until enough items or the feed ends.

The captured pages are merged into one answer of the API's own shape (``itemList``, ``hasMore``,
``cursor`` as an offset), so the spiders parse it exactly as an API answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError

from tiktok_spiders.client.browser import target_gone
from tiktok_spiders.client.session import load_failure
from tiktok_spiders.errors import UpstreamUnavailable
from tiktok_spiders.parsing import load_json

if TYPE_CHECKING:
    from playwright.async_api import Page, Response

    from tiktok_spiders.client.session import TikTokSession

SCROLL_TO_END = "() => window.scrollTo(0, document.body.scrollHeight)"


@dataclass(frozen=True, slots=True)
class PageFeed:
    """A feed as a page shows it: the page's path, the API path its script calls, where to start."""

    page_path: str
    api_path: str
    skip: int = 0
    want: int = 30
    #: other API paths the page calls whose refusals matter (a tag page looks its hashtag up first)
    also_watch: tuple[str, ...] = ()


async def capture_feed(
    session: TikTokSession, base_url: str, feed: PageFeed, timeout: float
) -> dict[str, Any]:
    try:
        page = await session.context.new_page()
    except PlaywrightError as exc:
        raise session.failure(exc) from None
    try:
        return await _capture(page, base_url, feed, timeout)
    except PlaywrightError as exc:
        if session.retired_because is not None or target_gone(exc) or not session.usable:
            raise session.failure(exc) from None
        raise UpstreamUnavailable(f"the rendered page failed: {load_failure(exc)}") from None
    finally:
        with contextlib.suppress(PlaywrightError):
            await page.close()


async def _capture(page: Page, base_url: str, feed: PageFeed, timeout: float) -> dict[str, Any]:
    # Every answer the page's script gets on the watched API paths, in order. A refusal or an
    # unknown-hashtag answer on any of them raises its typed error (``load_json``).
    answers: asyncio.Queue[Response] = asyncio.Queue()
    watched = {feed.api_path, *feed.also_watch}
    page.on("response", lambda response: answers.put_nowait(response) if _path(response) in watched else None)

    async def next_feed_page(wait: float) -> dict[str, Any]:
        deadline = time.monotonic() + wait
        for _ in range(20):  # bounded: a page makes a handful of API calls per load
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                response = await asyncio.wait_for(answers.get(), remaining)
            except TimeoutError:
                break
            payload = load_json(await response.text())
            if _path(response) == feed.api_path:
                return payload
        raise UpstreamUnavailable(f"the page {feed.page_path} loaded no feed within {wait:g} s")

    await page.goto(f"{base_url}{feed.page_path}", wait_until="domcontentloaded", timeout=timeout * 1000)
    payload = await next_feed_page(timeout)
    items: list[Any] = list(payload.get("itemList") or [])
    # Each scroll loads one more page of the feed; bounded even if the page keeps saying "more".
    max_scrolls = (feed.skip + feed.want) // 10 + 3
    for _ in range(max_scrolls):
        if len(items) >= feed.skip + feed.want or not payload.get("hasMore"):
            break
        await page.evaluate(SCROLL_TO_END)
        try:
            payload = await next_feed_page(min(timeout, 5.0))
        except UpstreamUnavailable:
            break  # the page loaded nothing more: the feed ended as far as it shows
        items.extend(payload.get("itemList") or [])
    kept = items[feed.skip :]
    return {
        "statusCode": 0,
        "itemList": kept,
        "hasMore": bool(payload.get("hasMore")),
        "cursor": feed.skip + len(kept),
    }


def _path(response: Response) -> str:
    return urlsplit(response.url).path
