"""``video``: one video by its id (``/api/item/detail/``), for lookups and fresh play addresses.

``scrapy crawl video -a id=7300001000000000000 -O video.json``

An unknown video ends the crawl with ``tiktok/error`` = ``not_found``, a private one with ``private``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiktok_spiders.params import VIDEO_ID
from tiktok_spiders.parsing import parse_item_detail
from tiktok_spiders.spiders.base import TikTokSpider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.http import TextResponse

    from tiktok_spiders.items import Rejected, Video

ITEM_DETAIL = "/api/item/detail/"


class VideoSpider(TikTokSpider):
    name = "video"
    params = (VIDEO_ID,)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.video_id = str(self.arguments["id"])

    async def start(self) -> AsyncIterator[Any]:
        yield self.api_request(ITEM_DETAIL, {"itemId": self.video_id}, callback=self.parse_detail)

    def parse_detail(self, response: TextResponse) -> Iterator[Video | Rejected]:
        self.pages += 1
        yield parse_item_detail(response.meta["tiktok_payload"])
