"""The feed catalogue: every feed the service answers, declared once.

A ``Feed`` says what a route is (``GET /trending``, ``GET /users/{uniqueId}/videos``: its ``path``,
whose ``{name}`` parts are parameters too), which parameters it takes (``tiktok_spiders.params``),
which spider fetches it and with which arguments, the cache key and TTL of its answers, and how an
answer links to the next page. From it come the HTTP routes and their parameter checks (``bridge``),
the OpenAPI document, the batch spiders' argument checks and the cache-warming keys: adding a feed is
one declaration here, one spider, one parser and one emulator route.

Imports neither ``bridge`` nor Scrapy: the HTTP bridge and the scheduled crawls must agree on keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote, urlencode

from tiktok_spiders.params import (
    COMMENT_ID,
    COUNT,
    CURSOR,
    HASHTAG,
    MUSIC_ID,
    OF_VIDEO,
    QUERY,
    TOKEN_CURSOR,
    UNIQUE_ID,
    Param,
    Value,
    count_param,
    parse_arguments,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

#: the settings (``settings.env``) that hold a feed's cache TTL, in seconds
TtlSetting = Literal["CACHE_TTL_TRENDING", "CACHE_TTL_HASHTAG", "CACHE_TTL_PROFILE", "CACHE_TTL_COMMENTS"]
#: what an answer holds: an array of the spider's items, or its one item (a creator, a sound)
Shape = Literal["list", "object"]
#: what the items of an answer are, as the OpenAPI document names their schema
Kind = Literal["Video", "Creator", "Comment", "Sound"]
#: the group the OpenAPI document lists a route under (generated clients make a module of each)
Tag = Literal["feeds", "creators", "comments", "sounds", "videos"]
_PATH_PART = re.compile(r"\{(\w+)\}")


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
    #: whether TikTok refuses some arguments as private (a 403 ``private``)
    may_be_private: bool = False
    #: the route's path, ``{name}`` standing for the parameter of that name; ``/{name}`` when empty
    path: str = ""
    shape: Shape = "list"
    kind: Kind = "Video"
    #: what the OpenAPI document calls the route: ``UserVideos`` gives the operations ``getUserVideos``
    #: and ``headUserVideos`` (a generated client's ``get_user_videos``); empty: the name, capitalised
    operation: str = ""
    tag: Tag = "feeds"

    @property
    def route(self) -> str:
        return self.path or f"/{self.name}"

    @property
    def operation_name(self) -> str:
        """``UserVideos``: the operation ids' noun (``getUserVideos``, ``headUserVideos``)."""
        return self.operation or "".join(part.capitalize() for part in self.name.split("_"))

    @property
    def segments(self) -> tuple[str, ...]:
        """The route's path parts: ``("users", "{uniqueId}", "videos")``."""
        return tuple(self.route.strip("/").split("/"))

    @property
    def path_names(self) -> tuple[str, ...]:
        """The parameters the path holds, in path order."""
        return tuple(_PATH_PART.findall(self.route))

    @property
    def query_names(self) -> tuple[str, ...]:
        """The parameters the query string may hold."""
        return tuple(name for name in self.names if name not in self.path_names)

    def match(self, parts: tuple[str, ...]) -> dict[str, str] | None:
        """The path parameters when ``parts`` (a request's path, decoded) is this route, else None."""
        segments = self.segments
        if len(parts) != len(segments):
            return None
        found: dict[str, str] = {}
        for part, segment in zip(parts, segments, strict=True):
            name = _PATH_PART.fullmatch(segment)
            if name is not None and part:  # an empty part is a trailing slash, not a parameter
                found[name.group(1)] = part
            elif part != segment:
                return None
        return found

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(param.name for param in self.params)

    @property
    def paged(self) -> bool:
        """Whether answers continue at a cursor (a ``Link: rel="next"``)."""
        return "cursor" in self.names

    def parse(self, raw: Mapping[str, object], *, batch: bool = False) -> dict[str, Value]:
        """The feed's arguments from query parameters (or, ``batch``, a spider's ``-a`` arguments)."""
        return parse_arguments(self.params, raw, batch=batch)

    def key(self, arguments: Mapping[str, Value]) -> str:
        """The cache key of an answer: its parameters in declared order, each in its key form."""
        return f"{self.name}?" + urlencode(
            [(param.name, param.key_form(arguments[param.name])) for param in self.params]
        )

    def location(self, arguments: Mapping[str, Value]) -> str:
        """The route's path with ``arguments`` in its ``{name}`` parts."""
        return _PATH_PART.sub(lambda part: quote(str(arguments[part.group(1)]), safe=""), self.route)

    def link(self, arguments: Mapping[str, Value], next_cursor: int | str | None) -> str | None:
        """The answer's ``Link`` to the page at ``next_cursor``; None at the end of the feed."""
        if not self.paged or next_cursor is None:
            return None
        carried = [(name, str(arguments[name])) for name in self.query_names if name != "cursor"]
        query = urlencode([*carried, ("cursor", str(next_cursor))])
        return f'<{self.location(arguments)}?{query}>; rel="next"'


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

CREATOR = Feed(
    name="creator",
    path="/users/{uniqueId}",
    spider="creator",
    params=(UNIQUE_ID,),
    ttl_setting="CACHE_TTL_PROFILE",
    summary="A creator's profile and exact counts",
    subject="user",
    may_be_missing=True,
    shape="object",
    kind="Creator",
    operation="User",
    tag="creators",
)
CREATOR_VIDEOS = Feed(
    name="user",
    path="/users/{uniqueId}/videos",
    spider="user",
    params=(UNIQUE_ID, COUNT, TOKEN_CURSOR),
    ttl_setting="CACHE_TTL_PROFILE",
    summary="A creator's videos, pinned ones first",
    answer_note="pinned videos first, as TikTok sends them; then newest first",
    subject="user",
    may_be_missing=True,
    may_be_private=True,
    operation="UserVideos",
    tag="creators",
)
COMMENTS = Feed(
    name="comments",
    path="/videos/{video}/comments",
    spider="comments",
    params=(OF_VIDEO, count_param("comments", 20, 50), CURSOR),
    ttl_setting="CACHE_TTL_COMMENTS",
    summary="Comments on a video",
    answer_note="an empty array when the video has none",
    subject="video",
    may_be_missing=True,
    may_be_private=True,
    kind="Comment",
    operation="VideoComments",
    tag="comments",
)
REPLIES = Feed(
    name="replies",
    path="/videos/{video}/comments/{comment}/replies",
    spider="replies",
    params=(OF_VIDEO, COMMENT_ID, count_param("replies", 20, 50), CURSOR),
    ttl_setting="CACHE_TTL_COMMENTS",
    summary="Replies to a comment",
    answer_note="an empty array when the comment has none",
    subject="comment",
    may_be_missing=True,
    kind="Comment",
    operation="CommentReplies",
    tag="comments",
)
SOUND = Feed(
    name="sound",
    path="/music/{id}",
    spider="sound",
    params=(MUSIC_ID,),
    ttl_setting="CACHE_TTL_PROFILE",
    summary="A sound (TikTok's music)",
    subject="sound",
    may_be_missing=True,
    shape="object",
    kind="Sound",
    operation="Sound",
    tag="sounds",
)
SOUND_VIDEOS = Feed(
    name="music",
    path="/music/{id}/videos",
    spider="music",
    params=(MUSIC_ID, COUNT, CURSOR),
    ttl_setting="CACHE_TTL_HASHTAG",
    summary="Videos that use a sound",
    subject="sound",
    may_be_missing=True,
    operation="SoundVideos",
    tag="sounds",
)
RELATED = Feed(
    name="related",
    path="/videos/{video}/related",
    spider="related",
    params=(OF_VIDEO, count_param("related videos", 16, 30)),
    ttl_setting="CACHE_TTL_HASHTAG",
    summary="Videos TikTok shows next to a video (one page)",
    subject="video",
    may_be_missing=True,
    may_be_private=True,
    operation="RelatedVideos",
    tag="videos",
)
USER_SEARCH = Feed(
    name="user_search",
    path="/search/users",
    spider="user_search",
    params=(QUERY, count_param("creators", 10, 30), CURSOR),
    ttl_setting="CACHE_TTL_HASHTAG",
    summary="Creators matching a free-text query",
    answer_note="only the fields search gives; null for the rest (ask /users/{uniqueId})",
    kind="Creator",
    operation="SearchUsers",
    tag="creators",
)

#: every feed, in the order the OpenAPI document lists them
FEEDS: tuple[Feed, ...] = (
    TRENDING,
    CATEGORY,
    SEARCH,
    USER_SEARCH,
    CREATOR,
    CREATOR_VIDEOS,
    COMMENTS,
    REPLIES,
    RELATED,
    SOUND,
    SOUND_VIDEOS,
)
FEED_OF_SPIDER: dict[str, Feed] = {feed.spider: feed for feed in FEEDS}
