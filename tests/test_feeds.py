"""The feed catalogue (tiktok_spiders.feeds): one declaration per feed, from which the spiders'
arguments, the cache keys, the Link of the next page, the OpenAPI document and the HTTP route all
follow - shown by declaring a new feed here and getting its route and its documentation with no other
change."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any, cast

import pytest
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from twisted.internet.defer import Deferred
from twisted.web.resource import getChildForRequest
from twisted.web.test.requesthelper import DummyRequest

from bridge.cache import MemoryCache, SingleFlight
from bridge.health import UpstreamRecord
from bridge.openapi import openapi_document
from bridge.policy import AnswerPolicy
from bridge.ratelimit import ClientAddress, ClientRateLimit
from bridge.routes import FeedRoute, Root, feed_routes
from bridge.video_index import UnknownVideos, VideoIndex
from tests.aio import run_async
from tests.test_policy import FakeCrawl, ok
from tiktok_spiders.feeds import CATEGORY, FEED_OF_SPIDER, FEEDS, SEARCH, TRENDING, Feed
from tiktok_spiders.params import COUNT, CURSOR, HASHTAG, InvalidParameter

#: a feed as a later issue would add one: a playlist's videos, paged
PLAYLIST = Feed(
    name="playlist",
    spider="playlist",
    params=(HASHTAG, COUNT, CURSOR),
    ttl_setting="CACHE_TTL_HASHTAG",
    summary="Videos of a playlist",
    subject="playlist",
    may_be_missing=True,
)


def spider_classes() -> dict[str, Any]:
    loader = SpiderLoader(Settings({"SPIDER_MODULES": ["tiktok_spiders.spiders"]}))
    return {name: loader.load(name) for name in loader.list()}


def test_each_feed_spider_takes_exactly_its_feeds_parameters() -> None:
    spiders = spider_classes()
    for feed in FEEDS:
        assert spiders[feed.spider].params == feed.params, feed.name
    assert set(FEED_OF_SPIDER) == {feed.spider for feed in FEEDS}
    assert set(spiders) - set(FEED_OF_SPIDER) == {"video"}  # the one spider that is not a feed


def test_cache_keys_are_those_the_bridge_and_warming_always_used() -> None:
    # Shared caches outlive a deployment: the keys stay byte for byte what they were.
    assert TRENDING.key(TRENDING.parse({})) == "trending?count=30"
    assert CATEGORY.key(CATEGORY.parse({"hashtag": "#Food", "count": "9"})) == (
        "category?hashtag=food&count=9&cursor=0"
    )
    assert SEARCH.key(SEARCH.parse({"q": " Pasta   Carbonara ", "cursor": "35"})) == (
        "search?q=pasta+carbonara&count=30&cursor=35"
    )


def test_a_paged_feed_links_its_next_page_with_its_own_arguments() -> None:
    arguments = CATEGORY.parse({"hashtag": "美食", "count": "9", "cursor": "5"})
    assert (
        CATEGORY.link(arguments, 14) == '</category?hashtag=%E7%BE%8E%E9%A3%9F&count=9&cursor=14>; rel="next"'
    )
    assert CATEGORY.link(arguments, None) is None  # the end of the feed
    assert TRENDING.link(TRENDING.parse({}), 14) is None  # trending has no cursor


def test_batch_arguments_may_ask_more_than_one_http_answer_holds() -> None:
    with pytest.raises(InvalidParameter, match="count: must be an integer from 1 to 100"):
        CATEGORY.parse({"hashtag": "food", "count": "500"})
    assert CATEGORY.parse({"hashtag": "food", "count": "500"}, batch=True)["count"] == 500
    with pytest.raises(InvalidParameter, match="count: must be an integer from 1 to 10000"):
        CATEGORY.parse({"hashtag": "food", "count": "10001"}, batch=True)


def test_a_new_feed_is_documented_from_its_declaration_alone() -> None:
    document = openapi_document((*FEEDS, PLAYLIST))
    operation = document["paths"]["/playlist"]["get"]
    assert operation["summary"] == "Videos of a playlist"
    assert (operation["operationId"], operation["tags"]) == ("getPlaylist", ["feeds"])
    assert document["paths"]["/playlist"]["head"]["operationId"] == "headPlaylist"
    assert [parameter["name"] for parameter in operation["parameters"]] == ["hashtag", "count", "cursor"]
    assert operation["parameters"][1]["schema"]["maximum"] == 100
    assert "Link" in operation["responses"]["200"]["headers"]
    assert operation["responses"]["404"]["description"] == "TikTok knows no such playlist"
    assert openapi_document()["paths"].keys() == document["paths"].keys() - {"/playlist"}


class Request(DummyRequest):
    """Twisted's request double, with what the writer and the access log read of a real one."""

    startedWriting = False

    def __init__(self, uri: bytes) -> None:
        super().__init__([])
        self.uri = uri
        self.path = uri.partition(b"?")[0]

    @property
    def code(self) -> int:
        return int(self.responseCode or 200)


def serve(route: Any, uri: bytes) -> tuple[int, dict[str, str], bytes]:
    """Render ``uri`` on ``route`` in process; its status, headers and body once it is finished. A
    ``Root`` finds the route for the path first, as the server does."""

    async def render() -> tuple[int, dict[str, str], bytes]:
        request = Request(uri)
        if isinstance(route, Root):
            request.postpath = request.path[1:].split(b"/")
            found = getChildForRequest(route, request)  # type: ignore[no-untyped-call]
        else:
            found = route
        finished = request.notifyFinish()
        found.render(request)
        await Deferred.asFuture(finished, asyncio.get_running_loop())
        headers = {
            name.decode().lower(): values[0].decode()
            for name, values in request.responseHeaders.getAllRawHeaders()
        }
        return request.code, headers, b"".join(request.written)

    return run_async(render(), timeout=10)


def fake_state(crawl: FakeCrawl) -> Any:
    """What the routes read of the service's state, the crawls answered by ``crawl``."""
    policy = AnswerPolicy(
        cache=MemoryCache(stale_max=60),
        shared_cache=None,
        flights=SingleFlight(),
        max_concurrent_crawls=2,
        crawl=crawl,
        record=UpstreamRecord(),
        videos=VideoIndex(),
        unknown_videos=UnknownVideos(ttl=60),
        ttls={
            "CACHE_TTL_TRENDING": 60,
            "CACHE_TTL_HASHTAG": 60,
            "CACHE_TTL_PROFILE": 60,
            "CACHE_TTL_COMMENTS": 60,
        },
        video_ttl=60,
    )
    return SimpleNamespace(
        config=SimpleNamespace(
            cors_origins=(),
            public_base_url="http://service.example",
            upstream_timeout=10,
            tiktok_ca_file=None,
        ),
        rate_limit=ClientRateLimit("off"),
        addresses=ClientAddress(()),
        policy=policy,
        metrics=None,  # METRICS=off: tests/test_metrics.py has the service's own
        observe=None,
    )


def test_a_new_feed_gets_its_route_with_checks_cache_and_link_from_its_declaration_alone() -> None:
    crawl = FakeCrawl(ok("1", "2", next_cursor=2))
    state = fake_state(crawl)
    route = feed_routes(cast("Any", state), (*FEEDS, PLAYLIST))["playlist"]
    assert isinstance(route, FeedRoute)

    status, headers, body = serve(route, b"/playlist?hashtag=Rain&count=2")
    assert status == 200
    assert [video["id"] for video in json.loads(body)] == ["1", "2"]
    assert headers["x-cache"] == "MISS"
    assert headers["link"] == '</playlist?hashtag=Rain&count=2&cursor=2>; rel="next"'
    assert crawl.calls == [("playlist", {"hashtag": "Rain", "count": 2, "cursor": 0})]

    status, headers, _ = serve(route, b"/playlist?hashtag=rain&count=2")  # the same key, any case
    assert (status, headers["x-cache"]) == (200, "HIT")
    assert headers["link"] == '</playlist?hashtag=rain&count=2&cursor=2>; rel="next"'  # the caller's spelling
    status, headers, _ = serve(route, b"/playlist?hashtag=Rain&count=2")  # asked again: the same answer
    assert (status, headers["x-cache"]) == (200, "HIT")
    assert headers["link"] == '</playlist?hashtag=Rain&count=2&cursor=2>; rel="next"'

    for _ in range(2):  # refused every time it is asked
        status, headers, body = serve(route, b"/playlist?hashtag=rain&count=0")
        assert (status, headers["content-type"]) == (400, "application/problem+json")
        assert json.loads(body)["parameter"] == "count"
    status, _, body = serve(route, b"/playlist?q=rain")
    assert (status, json.loads(body)["detail"]) == (
        400,
        "q: unknown parameter (allowed: hashtag, count, cursor)",
    )
    assert len(crawl.calls) == 1
