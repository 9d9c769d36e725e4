"""``hashtag``: videos tagged with a hashtag, from ``cursor``, paged until ``count`` or the end.

``scrapy crawl hashtag -a hashtag=food -a count=200 -a cursor=0 -O food.jsonl``

The hashtag's challenge id is looked up first, by a request the TikTok middleware answers: once per
process and name (``/api/challenge/detail/``), recorded as ``tiktok/challenge_id``; under the page
strategy, or when TikTok refuses the API, the tag's rendered page looks the hashtag up itself. The
pages a count needs are asked for together (``tiktok_spiders.spiders.offset``). An
unknown hashtag ends the crawl with ``tiktok/error`` = ``not_found`` and no items.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import scrapy

from tiktok_spiders.client.client import CHALLENGE_DETAIL
from tiktok_spiders.feeds import CATEGORY
from tiktok_spiders.parsing import parse_feed
from tiktok_spiders.spiders.offset import OffsetFeedSpider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.http import Response

    from tiktok_spiders.parsing import FeedPage

CHALLENGE_ITEMS = "/api/challenge/item_list/"


class HashtagSpider(OffsetFeedSpider):
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
        yield from self.pages_from(self.cursor)

    def speculates(self) -> bool:
        # A rendered tag page scrolls to its offset: one page at a time there.
        return bool(self.challenge_id)

    def page_request(self, cursor: int, size: int) -> scrapy.Request:
        params: dict[str, str | int] = {"challengeID": self.challenge_id, "count": size, "cursor": cursor}
        page = {
            "page_path": f"/tag/{quote(self.hashtag)}",
            "skip": cursor,
            "want": size,
            "also_watch": [CHALLENGE_DETAIL],
        }
        return self.api_request(
            CHALLENGE_ITEMS,
            params,
            page=page,
            callback=self.parse_page,
            errback=self.page_failed,
            cb_kwargs={"cursor": cursor},
        )

    def read_page(self, payload: Any) -> FeedPage:
        return parse_feed(payload)
