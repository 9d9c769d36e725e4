"""``comments``: the comments on a video, from ``cursor``, paged until ``count`` or the end.

``scrapy crawl comments -a video=7300001000000000000 -a count=20 -a cursor=0 -O comments.jsonl``

TikTok's comment list (``/api/comment/list/``, snake_case) pages by an offset that grows by the
count asked, even when fewer came back (TikTok filters some comments out), so the pages a count
needs are asked for together (``tiktok_spiders.spiders.offset``), each for exactly what is missing
(at most ``MAX_COMMENT_PAGE``): no crawl stops inside a page, and ``tiktok/next_cursor`` is always
TikTok's own. ``tiktok/total``: how many comments TikTok says the video has. A video without
comments is an empty answer; an unknown video ends the crawl with ``tiktok/error`` = ``not_found``,
a private one with ``private``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiktok_spiders.feeds import COMMENTS
from tiktok_spiders.parsing import parse_comment_list
from tiktok_spiders.spiders.offset import OffsetFeedSpider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import scrapy

    from tiktok_spiders.parsing import FeedPage

COMMENT_LIST = "/api/comment/list/"
#: the most comments one call answers (TikTok's web app asks for 20)
MAX_COMMENT_PAGE = 50


class CommentsSpider(OffsetFeedSpider):
    """Comments, and (``replies``) the replies to one, which come in the same envelope."""

    name = "comments"
    params = COMMENTS.params
    max_page_size = MAX_COMMENT_PAGE
    headroom = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.video_id = str(self.arguments["video"])
        self.cursor = int(self.arguments["cursor"])

    async def start(self) -> AsyncIterator[Any]:
        for request in self.pages_from(self.cursor):
            yield request

    def list_call(self, cursor: int, size: int) -> tuple[str, dict[str, str | int]]:
        """The API path and parameters of the page at ``cursor``."""
        return COMMENT_LIST, {"aweme_id": self.video_id, "count": size, "cursor": cursor}

    def page_request(self, cursor: int, size: int) -> scrapy.Request:
        path, params = self.list_call(cursor, size)
        return self.api_request(
            path, params, callback=self.parse_page, errback=self.page_failed, cb_kwargs={"cursor": cursor}
        )

    def read_page(self, payload: Any) -> FeedPage:
        page = parse_comment_list(payload)
        if page.total is not None:
            self.record("total", page.total)
        return page
