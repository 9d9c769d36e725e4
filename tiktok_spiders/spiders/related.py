"""``related``: the videos TikTok shows next to a video, one page (``/api/related/item_list/``).

``scrapy crawl related -a video=7300001000000000000 -a count=16 -O related.jsonl``

The feed has no cursor and no ``hasMore``: one call, asked for a few more than ``count`` (ads and
photo posts do not count), its first ``count`` distinct videos answered; ``tiktok/has_more`` is
false. An unknown video ends the crawl with ``tiktok/error`` = ``not_found``, a private one with
``private``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiktok_spiders.feeds import RELATED
from tiktok_spiders.parsing import parse_feed
from tiktok_spiders.spiders.base import TikTokSpider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.http import TextResponse

    from tiktok_spiders.items import AnswerItem, Rejected

RELATED_ITEMS = "/api/related/item_list/"


class RelatedSpider(TikTokSpider):
    name = "related"
    params = RELATED.params

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.video_id = str(self.arguments["video"])

    async def start(self) -> AsyncIterator[Any]:
        params: dict[str, str | int] = {"itemID": self.video_id, "count": self.page_size}
        yield self.api_request(RELATED_ITEMS, params, callback=self.parse_related)

    def parse_related(self, response: TextResponse) -> Iterator[AnswerItem | Rejected]:
        page = self.read(parse_feed, response)
        if page is None:
            return
        page.has_more = False  # one page: whatever TikTok says, there is no next one
        yield from self.take(page)
