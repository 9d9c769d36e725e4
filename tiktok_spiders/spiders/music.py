"""``music``: the videos that use a sound, from ``cursor``, paged until ``count`` or the end.

``scrapy crawl music -a id=7050000000000000000 -a count=100 -a cursor=0 -O sound_videos.jsonl``

TikTok's sound feed (``/api/music/item_list/?musicID=ID``) pages by an offset it sends back as a
string (``"30"``), so the pages a count needs are asked for together
(``tiktok_spiders.spiders.offset``); ``tiktok/next_cursor`` is an integer. An unknown sound ends the
crawl with ``tiktok/error`` = ``not_found`` and no items.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiktok_spiders.feeds import SOUND_VIDEOS
from tiktok_spiders.parsing import parse_feed
from tiktok_spiders.spiders.offset import OffsetFeedSpider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import scrapy

    from tiktok_spiders.parsing import FeedPage

MUSIC_ITEMS = "/api/music/item_list/"


class MusicSpider(OffsetFeedSpider):
    name = "music"
    params = SOUND_VIDEOS.params

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sound_id = str(self.arguments["id"])
        self.cursor = int(self.arguments["cursor"])

    async def start(self) -> AsyncIterator[Any]:
        for request in self.pages_from(self.cursor):
            yield request

    def page_request(self, cursor: int, size: int) -> scrapy.Request:
        params: dict[str, str | int] = {"musicID": self.sound_id, "count": size, "cursor": cursor}
        return self.api_request(
            MUSIC_ITEMS,
            params,
            callback=self.parse_page,
            errback=self.page_failed,
            cb_kwargs={"cursor": cursor},
        )

    def read_page(self, payload: Any) -> FeedPage:
        return parse_feed(payload)
