"""``trending``: the For You feed, paged until ``count`` distinct playable videos.

The feed has no cursor, so the pages a count needs are asked for at once (a round, up to
``TIKTOK_PAGES_AHEAD``) and used in the order they were asked for; a page that failed ends the
answer there, as it would have one page at a time.

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

    from tiktok_spiders.items import AnswerItem, Rejected
    from tiktok_spiders.parsing import FeedPage

RECOMMEND = "/api/recommend/item_list/"


class TrendingSpider(TikTokSpider):
    name = "trending"
    params = TRENDING.params

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: the pages of the round in flight, by their number in it; None: not answered yet
        self.round: list[FeedPage | None] = []
        self.used = 0  # pages of the round used, in order

    async def start(self) -> AsyncIterator[Any]:
        for request in self.next_round():
            yield request

    def next_round(self) -> Iterator[scrapy.Request]:
        """The pages the missing videos should take, asked for at once: the For You feed has no
        cursor, every call is a fresh page, so none waits for another (``TIKTOK_PAGES_AHEAD``)."""
        pages = self.pages_ahead()
        self.round, self.used = [None] * pages, 0
        for number in range(pages):
            yield self.next_page(number)

    def next_page(self, number: int = 0) -> scrapy.Request:
        # No cursor: every call is a fresh page, duplicates across pages are normal.
        return self.api_request(
            RECOMMEND,
            {"from_page": "fyp", "count": self.page_size},
            page={"page_path": "/foryou", "want": self.page_size},
            callback=self.parse_page,
            cb_kwargs={"number": number},
        )

    def parse_page(
        self, response: TextResponse, number: int = 0
    ) -> Iterator[AnswerItem | Rejected | scrapy.Request]:
        if number >= len(self.round):
            return  # the feed ended on an earlier page of the round: not needed
        self.round[number] = parse_feed(response.meta["tiktok_payload"])
        # The round's pages are used in the order they were asked for, so the answer does not depend
        # on which came back first.
        while self.used < len(self.round):
            page = self.round[self.used]
            if page is None:
                return
            self.used += 1
            new_before = len(self.seen_ids)
            yield from self.take(page)
            # A page with nothing new means the feed is exhausted for this session.
            if not (page.has_more and self.wants_more and len(self.seen_ids) > new_before):
                self.round = []  # the rest of the round is not needed
                return
        yield from self.next_round()
