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
from tiktok_spiders.spiders.search import SearchSpider

if TYPE_CHECKING:
    from tiktok_spiders.parsing import FeedPage

SEARCH_USERS = "/api/search/user/full/"


class UserSearchSpider(SearchSpider):
    """The video search's paging, over TikTok's user search."""

    name = "user_search"
    params = USER_SEARCH.params
    headroom = False  # every entry is a creator
    api_path = SEARCH_USERS
    offset_name = "cursor"

    def read_page(self, payload: Any) -> FeedPage:
        return parse_user_search(payload)
