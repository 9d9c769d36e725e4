"""The feed catalogue: every feed the service answers, declared once.

A ``Feed`` says what a route is (``GET /{name}``), which parameters it takes (``tiktok_spiders.params``),
which spider fetches it and with which arguments, the cache key and TTL of its answers, and how an
answer links to the next page. From it come the HTTP routes and their parameter checks (``bridge``),
the OpenAPI document, the batch spiders' argument checks and the cache-warming keys: adding a feed is
one declaration here, one spider, one parser and one emulator route.

Imports neither ``bridge`` nor Scrapy: the HTTP bridge and the scheduled crawls must agree on keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlencode

from tiktok_spiders.params import COUNT, CURSOR, HASHTAG, QUERY, Param, Value, parse_arguments

if TYPE_CHECKING:
    from collections.abc import Mapping

#: the settings (``settings.env``) that hold a feed's cache TTL, in seconds
TtlSetting = Literal["CACHE_TTL_TRENDING", "CACHE_TTL_HASHTAG"]


@dataclass(frozen=True, slots=True)
class Feed:
    #: the route (``GET /trending``) and the first part of the cache key
    name: str
    #: the spider that fetches it; its ``-a`` arguments are the parameters
    spider: str
    params: tuple[Param, ...]
    ttl_setting: TtlSetting
    #: what the OpenAPI document says of the route, and adds to its answer's description
    summary: str
    answer_note: str = ""
    #: what a 404 names ("TikTok knows no such hashtag")
    subject: str = "feed"
    #: whether TikTok answers "not found" for some arguments (the OpenAPI document lists a 404)
    may_be_missing: bool = False

    @property
    def route(self) -> str:
        return f"/{self.name}"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(param.name for param in self.params)

    @property
    def paged(self) -> bool:
        """Whether answers continue at a cursor (a ``Link: rel="next"``)."""
        return CURSOR in self.params

    def parse(self, raw: Mapping[str, object], *, batch: bool = False) -> dict[str, Value]:
        """The feed's arguments from query parameters (or, ``batch``, a spider's ``-a`` arguments)."""
        return parse_arguments(self.params, raw, batch=batch)

    def key(self, arguments: Mapping[str, Value]) -> str:
        """The cache key of an answer: its parameters in declared order, each in its key form."""
        return f"{self.name}?" + urlencode(
            [(param.name, param.key_form(arguments[param.name])) for param in self.params]
        )

    def link(self, arguments: Mapping[str, Value], next_cursor: int | None) -> str | None:
        """The answer's ``Link`` to the page at ``next_cursor``; None at the end of the feed."""
        if not self.paged or next_cursor is None:
            return None
        carried = [(param.name, str(arguments[param.name])) for param in self.params if param is not CURSOR]
        return f'<{self.route}?{urlencode([*carried, ("cursor", str(next_cursor))])}>; rel="next"'


TRENDING = Feed(
    name="trending",
    spider="trending",
    params=(COUNT,),
    ttl_setting="CACHE_TTL_TRENDING",
    summary="Trending (For You) videos",
)
CATEGORY = Feed(
    name="category",
    spider="hashtag",
    params=(HASHTAG, COUNT, CURSOR),
    ttl_setting="CACHE_TTL_HASHTAG",
    summary="Videos tagged with a hashtag",
    subject="hashtag",
    may_be_missing=True,
)
SEARCH = Feed(
    name="search",
    spider="search",
    params=(QUERY, COUNT, CURSOR),
    ttl_setting="CACHE_TTL_HASHTAG",
    summary="Videos matching a free-text query",
    answer_note="an empty array when nothing matches",
)

#: every feed, in the order the OpenAPI document lists them
FEEDS: tuple[Feed, ...] = (TRENDING, CATEGORY, SEARCH)
FEED_OF_SPIDER: dict[str, Feed] = {feed.spider: feed for feed in FEEDS}
