"""``trending``: the For You feed, paged until ``count`` distinct playable videos.

``scrapy crawl trending -a count=30 -O out.json``
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiktok_spiders.feeds import TRENDING
from tiktok_spiders.parsing import parse_feed
from tiktok_spiders.spiders.base import TikTokSpider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    import scrapy
    from scrapy.http import TextResponse

    from tiktok_spiders.items import Rejected, Video

RECOMMEND = "/api/recommend/item_list/"


class TrendingSpider(TikTokSpider):
    name = "trending"
    params = TRENDING.params

    async def start(self) -> AsyncIterator[Any]:
        yield self.next_page()

    def next_page(self) -> scrapy.Request:
        # No cursor: every call is a fresh page, duplicates across pages are normal.
        return self.api_request(
            RECOMMEND,
            {"from_page": "fyp", "count": self.page_size},
            page={"page_path": "/foryou", "want": self.page_size},
            callback=self.parse_page,
        )

    def parse_page(self, response: TextResponse) -> Iterator[Video | Rejected | scrapy.Request]:
        page = parse_feed(response.meta["tiktok_payload"])
        new_before = len(self.seen_ids)
        yield from self.take(page)
        # A page with nothing new means the feed is exhausted for this session.
        if page.has_more and self.wants_more and len(self.seen_ids) > new_before:
            yield self.next_page()
