"""``hashtag``: videos tagged with a hashtag, from ``cursor``, paged until ``count`` or the end.

``scrapy crawl hashtag -a hashtag=food -a count=200 -a cursor=0 -O food.jsonl``

The hashtag's challenge id is looked up once per process (``/api/challenge/detail/``); an unknown
hashtag ends the crawl with ``tiktok/error`` = ``not_found`` and no items.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tiktok_spiders.client import ClientOptions, TikTokClient
from tiktok_spiders.client.client import CHALLENGE_DETAIL
from tiktok_spiders.errors import UpstreamBlocked, UpstreamError
from tiktok_spiders.feeds import CATEGORY
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
    params = CATEGORY.params

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hashtag = str(self.arguments["hashtag"])
        self.cursor = int(self.arguments["cursor"])

    async def start(self) -> AsyncIterator[Any]:
        client = TikTokClient.shared(ClientOptions.from_settings(self.settings))
        self.challenge_id = ""  # the tag page looks the hashtag up by itself
        if client.strategy == "api":
            try:
                challenge = await client.challenge(self.hashtag, observe=self.count_stat)
            except UpstreamBlocked as error:
                if not client.fall_back_to_pages():
                    self.record_error(error)
                    return
            except UpstreamError as error:
                self.record_error(error)
                return
            else:
                self.challenge_id = challenge.id
                self.record("challenge_id", challenge.id)
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
        yield from self.take(page)
        next_cursor = self.cursor_after(page, cursor)  # the challenge feed's cursor is an offset
        if next_cursor is not None and self.follows(next_cursor, cursor):
            yield self.page_at(next_cursor)
