"""``sound``: one sound (TikTok's music) by its id (``/api/music/detail/``).

``scrapy crawl sound -a id=7050000000000000000 -O sound.json``

An unknown sound ends the crawl with ``tiktok/error`` = ``not_found`` and no item.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiktok_spiders.feeds import SOUND
from tiktok_spiders.parsing import parse_music_detail
from tiktok_spiders.spiders.base import TikTokSpider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.http import TextResponse

    from tiktok_spiders.items import Sound

MUSIC_DETAIL = "/api/music/detail/"


class SoundSpider(TikTokSpider):
    name = "sound"
    params = SOUND.params

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sound_id = str(self.arguments["id"])

    async def start(self) -> AsyncIterator[Any]:
        yield self.api_request(MUSIC_DETAIL, {"musicId": self.sound_id}, callback=self.parse_sound)

    def parse_sound(self, response: TextResponse) -> Iterator[Sound]:
        self.pages += 1
        sound = self.read(parse_music_detail, response)
        if sound is not None:
            yield sound
