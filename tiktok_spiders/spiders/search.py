"""``search``: videos matching a free-text query, from ``cursor``, paged until ``count`` or the end.

``scrapy crawl search -a q="pasta carbonara" -a count=50 -a cursor=0 -O pasta.jsonl``

It asks TikTok's videos-only search (``/api/search/item/full/``: ``item_list``, ``has_more``,
``cursor``), whose ``offset``/``cursor`` is an offset into the results, so a page can be resumed
right after the last video used. A query that matches nothing is an empty answer, not an error.
``parse_search`` also reads the general search's mixed ``data[{type, item}]``: entries that are not
videos (users, lives, ...) become ``Rejected("not_a_video")``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiktok_spiders.feeds import SEARCH
from tiktok_spiders.parsing import parse_search
from tiktok_spiders.spiders.base import TikTokSpider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    import scrapy
    from scrapy.http import TextResponse

    from tiktok_spiders.items import Rejected, Video

SEARCH_ITEMS = "/api/search/item/full/"


class SearchSpider(TikTokSpider):
    name = "search"
    params = SEARCH.params

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.query = str(self.arguments["q"])
        self.cursor = int(self.arguments["cursor"])

    async def start(self) -> AsyncIterator[Any]:
        yield self.page_at(self.cursor)

    def page_at(self, cursor: int) -> scrapy.Request:
        params: dict[str, str | int] = {"keyword": self.query, "offset": cursor, "count": self.page_size}
        return self.api_request(SEARCH_ITEMS, params, callback=self.parse_page, cb_kwargs={"cursor": cursor})

    def parse_page(self, response: TextResponse, cursor: int) -> Iterator[Video | Rejected | scrapy.Request]:
        page = parse_search(response.meta["tiktok_payload"])
        taken = self.take(page)
        yield from taken
        next_cursor = self.cursor_after(page, cursor, len(taken))
        if next_cursor is not None and self.follows(next_cursor, cursor):
            yield self.page_at(next_cursor)
