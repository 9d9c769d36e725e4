"""``replies``: the replies to a comment, from ``cursor``, paged until ``count`` or the end.

``scrapy crawl replies -a video=7300001000000000000 -a comment=7600000000000000001 -a count=20 -O replies.jsonl``

The reply list (``/api/comment/list/reply/?item_id=VIDEO&comment_id=CID``) is the comment list's
envelope, offset and paging (``tiktok_spiders.spiders.comments``); its entries are the same Comment
object. A comment without replies is an empty answer; an unknown comment ends the crawl with
``tiktok/error`` = ``not_found``.
"""

from __future__ import annotations

from typing import Any

from tiktok_spiders.feeds import REPLIES
from tiktok_spiders.spiders.comments import CommentsSpider

REPLY_LIST = "/api/comment/list/reply/"


class RepliesSpider(CommentsSpider):
    name = "replies"
    params = REPLIES.params

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.comment_id = str(self.arguments["comment"])

    def list_call(self, cursor: int, size: int) -> tuple[str, dict[str, str | int]]:
        params: dict[str, str | int] = {
            "item_id": self.video_id,
            "comment_id": self.comment_id,
            "count": size,
            "cursor": cursor,
        }
        return REPLY_LIST, params
