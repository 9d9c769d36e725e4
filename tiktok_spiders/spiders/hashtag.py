"""``hashtag``: videos tagged with a hashtag, from ``cursor``, paged until ``count`` or the end.

``scrapy crawl hashtag -a hashtag=food -a count=200 -a cursor=0 -O food.jsonl``

The hashtag's challenge id is looked up once per process (``/api/challenge/detail/``); an unknown
hashtag ends the crawl with ``tiktok/error`` = ``not_found`` and no items.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiktok_spiders.client import ClientOptions, TikTokClient
from tiktok_spiders.errors import UpstreamError
from tiktok_spiders.params import parse_cursor, parse_hashtag
from tiktok_spiders.parsing import parse_feed
from tiktok_spiders.spiders.base import TikTokSpider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    import scrapy
    from scrapy.http import TextResponse

    from tiktok_spiders.items import Rejected, Video

CHALLENGE_ITEMS = "/api/challenge/item_list/"


class HashtagSpider(TikTokSpider):
    name = "hashtag"
    arguments = ("hashtag", "count", "cursor")

    def __init__(self, hashtag: object = None, cursor: object = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hashtag = parse_hashtag(hashtag)
        self.cursor = parse_cursor(cursor)

    async def start(self) -> AsyncIterator[Any]:
        client = TikTokClient.shared(ClientOptions.from_settings(self.settings))
        try:
            challenge = await client.challenge(self.hashtag, observe=self.count_stat)
        except UpstreamError as error:
            self.record_error(error)
            return
        self.challenge_id = challenge.id
        self.record("challenge_id", challenge.id)
        yield self.page_at(self.cursor)

    def page_at(self, cursor: int) -> scrapy.Request:
        params: dict[str, str | int] = {
            "challengeID": self.challenge_id,
            "count": self.page_size,
            "cursor": cursor,
        }
        return self.api_request(
            CHALLENGE_ITEMS, params, callback=self.parse_page, cb_kwargs={"cursor": cursor}
        )

    def parse_page(self, response: TextResponse, cursor: int) -> Iterator[Video | Rejected | scrapy.Request]:
        page = parse_feed(response.meta["tiktok_payload"])
        yield from self.take(page)
        if self.consumed < len(page.entries):
            # Stopped inside the page: the next answer starts right after the last entry used
            # (the challenge feed's cursor is an offset).
            next_cursor: int | None = cursor + self.consumed
        else:
            next_cursor = page.next_cursor if page.has_more else None
        self.record("next_cursor", next_cursor)
        self.record("has_more", next_cursor is not None)
        if next_cursor is not None and next_cursor > cursor and self.wants_more:
            yield self.page_at(next_cursor)
