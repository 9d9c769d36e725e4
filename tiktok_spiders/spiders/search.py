"""``search``: videos matching a free-text query, from ``cursor``, paged until ``count`` or the end.

``scrapy crawl search -a q="pasta carbonara" -a count=50 -a cursor=0 -O pasta.jsonl``

It asks TikTok's videos-only search (``/api/search/item/full/``: ``item_list``, ``has_more``,
``cursor``), whose ``offset``/``cursor`` is an offset into the results, so a page can be resumed
right after the last video used, and the pages a count needs are asked for together
(``tiktok_spiders.spiders.offset``). A query that matches nothing is an empty answer, not an error.
``parse_search`` also reads the general search's mixed ``data[{type, item}]``: entries that are not
videos (users, lives, ...) become ``Rejected("not_a_video")``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiktok_spiders.feeds import SEARCH
from tiktok_spiders.parsing import parse_search
from tiktok_spiders.spiders.offset import OffsetFeedSpider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import scrapy

    from tiktok_spiders.parsing import FeedPage

SEARCH_ITEMS = "/api/search/item/full/"


class SearchSpider(OffsetFeedSpider):
    name = "search"
    params = SEARCH.params
    #: the search API, and the parameter its offset goes by (videos: ``offset``; users: ``cursor``)
    api_path = SEARCH_ITEMS
    offset_name = "offset"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.query = str(self.arguments["q"])
        self.cursor = int(self.arguments["cursor"])

    async def start(self) -> AsyncIterator[Any]:
        for request in self.pages_from(self.cursor):
            yield request

    def page_request(self, cursor: int, size: int) -> scrapy.Request:
        params: dict[str, str | int] = {"keyword": self.query, self.offset_name: cursor, "count": size}
        return self.api_request(
            self.api_path,
            params,
            callback=self.parse_page,
            errback=self.page_failed,
            cb_kwargs={"cursor": cursor},
        )

    def read_page(self, payload: Any) -> FeedPage:
        return parse_search(payload)
