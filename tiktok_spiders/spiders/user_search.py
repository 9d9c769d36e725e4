"""``user_search``: creators matching a free-text query, from ``cursor``, paged until ``count`` or
the end.

``scrapy crawl user_search -a q="chef" -a count=10 -a cursor=0 -O creators.jsonl``

TikTok's user search (``/api/search/user/full/``, snake_case ``user_list``) pages by an offset into
its results, so the pages a count needs are asked for together (``tiktok_spiders.spiders.offset``).
Its Creators hold what search gives (no ``createTime``, no friend count: ``None``). A query that
matches no one is an empty answer, not an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiktok_spiders.feeds import USER_SEARCH
from tiktok_spiders.parsing import parse_user_search
from tiktok_spiders.spiders.offset import OffsetFeedSpider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import scrapy

    from tiktok_spiders.parsing import FeedPage

SEARCH_USERS = "/api/search/user/full/"


class UserSearchSpider(OffsetFeedSpider):
    name = "user_search"
    params = USER_SEARCH.params
    headroom = False  # every entry is a creator

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.query = str(self.arguments["q"])
        self.cursor = int(self.arguments["cursor"])

    async def start(self) -> AsyncIterator[Any]:
        for request in self.pages_from(self.cursor):
            yield request

    def page_request(self, cursor: int, size: int) -> scrapy.Request:
        params: dict[str, str | int] = {"keyword": self.query, "cursor": cursor, "count": size}
        return self.api_request(
            SEARCH_USERS,
            params,
            callback=self.parse_page,
            errback=self.page_failed,
            cb_kwargs={"cursor": cursor},
        )

    def read_page(self, payload: Any) -> FeedPage:
        return parse_user_search(payload)
