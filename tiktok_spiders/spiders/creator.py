"""``creator``: one creator's profile and exact counts, by username (``/api/user/detail/``).

``scrapy crawl creator -a uniqueId=chef_tony -O creator.json``

The username may carry its ``@``; TikTok matches it case-insensitively. The answer must hold
``userInfo.user.id``: TikTok's soft failure (a 200 whose ``user`` is empty) is retried by the client
with a fresh session, and ends the crawl with ``tiktok/error`` = ``soft_failure`` when every attempt
got one. An unknown user ends it with ``tiktok/error`` = ``not_found`` and no item.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiktok_spiders.feeds import CREATOR
from tiktok_spiders.parsing import parse_user_detail
from tiktok_spiders.spiders.base import TikTokSpider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.http import TextResponse

    from tiktok_spiders.items import Creator

USER_DETAIL = "/api/user/detail/"
#: what every true profile answer holds (``TikTokSpider.api_request``)
PROFILE_REQUIRES = "userInfo.user.id"


def profile_params(unique_id: str) -> dict[str, str | int]:
    """The profile call's parameters, as TikTok's web app sends them (``secUid`` empty)."""
    return {"uniqueId": unique_id, "secUid": ""}


class CreatorSpider(TikTokSpider):
    name = "creator"
    params = CREATOR.params

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.unique_id = str(self.arguments["uniqueId"])

    async def start(self) -> AsyncIterator[Any]:
        yield self.api_request(
            USER_DETAIL, profile_params(self.unique_id), require=PROFILE_REQUIRES, callback=self.parse_profile
        )

    def parse_profile(self, response: TextResponse) -> Iterator[Creator]:
        self.pages += 1
        creator = self.read(parse_user_detail, response)
        if creator is not None:
            yield creator
