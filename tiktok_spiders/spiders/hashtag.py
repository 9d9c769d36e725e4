"""``hashtag``: videos tagged with a hashtag, from ``cursor``, paged until ``count`` or the end.

``scrapy crawl hashtag -a hashtag=food -a count=200 -a cursor=0 -O food.jsonl``

The hashtag's challenge id is looked up first, by a request the TikTok middleware answers: once per
process and name (``/api/challenge/detail/``), recorded as ``tiktok/challenge_id``; under the page
strategy, or when TikTok refuses the API, the tag's rendered page looks the hashtag up itself. An
unknown hashtag ends the crawl with ``tiktok/error`` = ``not_found`` and no items.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import scrapy

from tiktok_spiders.client.client import CHALLENGE_DETAIL
from tiktok_spiders.feeds import CATEGORY
from tiktok_spiders.parsing import parse_feed
from tiktok_spiders.spiders.base import TikTokSpider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.http import Response, TextResponse

    from tiktok_spiders.items import Rejected, Video

CHALLENGE_ITEMS = "/api/challenge/item_list/"


class HashtagSpider(TikTokSpider):
    name = "hashtag"
    params = CATEGORY.params

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hashtag = str(self.arguments["hashtag"])
        self.cursor = int(self.arguments["cursor"])

    async def start(self) -> AsyncIterator[Any]:
        # The middleware answers from the process's cache, or asks TikTok; an unknown hashtag reaches
        # ``upstream_failed`` and the crawl ends with no items.
        yield scrapy.Request(
            f"{self.base_url}{CHALLENGE_DETAIL}?{urlencode({'challengeName': self.hashtag})}",
            meta={"tiktok_api": {"challenge": self.hashtag}},
            callback=self.parse_challenge,
            errback=self.upstream_failed,
            dont_filter=True,
        )

    def parse_challenge(self, response: Response) -> Iterator[scrapy.Request]:
        #: "" when the tag's page is to look the hashtag up by itself (the page strategy)
        self.challenge_id: str = response.meta["tiktok_challenge_id"]
        if self.challenge_id:
            self.record("challenge_id", self.challenge_id)
        yield self.page_at(self.cursor)

    def page_at(self, cursor: int) -> scrapy.Request:
        params: dict[str, str | int] = {
            "challengeID": self.challenge_id,
            "count": self.page_size,
            "cursor": cursor,
        }
        page = {
            "page_path": f"/tag/{quote(self.hashtag)}",
            "skip": cursor,
            "want": self.page_size,
            "also_watch": [CHALLENGE_DETAIL],
        }
        return self.api_request(
            CHALLENGE_ITEMS, params, page=page, callback=self.parse_page, cb_kwargs={"cursor": cursor}
        )

    def parse_page(self, response: TextResponse, cursor: int) -> Iterator[Video | Rejected | scrapy.Request]:
        page = parse_feed(response.meta["tiktok_payload"])
        taken = self.take(page)
        yield from taken
        next_cursor = self.cursor_after(page, cursor, len(taken))  # the challenge feed's cursor is an offset
        if next_cursor is not None and self.follows(next_cursor, cursor):
            yield self.page_at(next_cursor)
