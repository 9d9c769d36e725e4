"""Routes whose path holds parameters (``/users/{uniqueId}/videos``, ``/videos/{video}/comments``):
the request's path finds the feed, its parts are checked as parameters, the answer links on by the
same path. In process, the crawls faked (the end-to-end tests are in test_bridge_around.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from twisted.web.resource import getChildForRequest

from bridge.outcomes import CrawlOutcome
from bridge.routes import FeedRoute, Root
from tests.test_feeds import Request, fake_state, serve
from tests.test_policy import FINISHED, FakeCrawl
from tiktok_spiders.answer_keys import item_body
from tiktok_spiders.feeds import COMMENTS, CREATOR, CREATOR_VIDEOS, REPLIES, SEARCH, USER_SEARCH, Feed
from tiktok_spiders.items import Comment, Creator, CreatorStats


def creator(unique_id: str = "chef_tony") -> Creator:
    return Creator(id="6800000000000000001", uniqueId=unique_id, stats=CreatorStats(followerCount=427682))


def outcome(*items: Any, next_cursor: int | str | None = None) -> CrawlOutcome:
    stats: dict[str, Any] = dict(FINISHED)
    if next_cursor is not None:
        stats["tiktok/next_cursor"] = next_cursor
    return CrawlOutcome([], stats, [item_body(item) for item in items])


def route_of(root: Root, uri: bytes) -> Any:
    request = Request(uri)
    request.postpath = request.path[1:].split(b"/")
    return getChildForRequest(root, request)  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    ("uri", "feed"),
    [
        (b"/users/chef_tony", CREATOR),
        (b"/users/%40chef_tony/videos?count=3", CREATOR_VIDEOS),
        (b"/videos/7300000000000000001/comments", COMMENTS),
        (b"/videos/7300000000000000001/comments/7600000000000000001/replies", REPLIES),
        (b"/search?q=pasta", SEARCH),
        (b"/search/users?q=pasta", USER_SEARCH),
    ],
)
def test_the_path_finds_its_feed(uri: bytes, feed: Feed) -> None:
    route = route_of(Root(fake_state(FakeCrawl(outcome()))), uri)
    assert isinstance(route, FeedRoute)
    assert route.feed is feed


@pytest.mark.parametrize(
    "uri",
    [b"/users", b"/users/", b"/users/a/b", b"/users/a/videos/", b"/search/people", b"/videos/1/comment"],
)
def test_a_path_no_feed_has_is_404(uri: bytes) -> None:
    root = Root(fake_state(FakeCrawl(outcome())))
    status, _, body = serve(root, uri)
    assert (status, json.loads(body)["code"]) == (404, "not_found")


def test_a_creator_is_one_object_asked_by_any_spelling_of_the_name() -> None:
    crawl = FakeCrawl(outcome(creator()))
    root = Root(fake_state(crawl))
    status, headers, body = serve(root, b"/users/@Chef_Tony")
    assert (status, headers["x-cache"]) == (200, "MISS")
    answer = json.loads(body)
    assert answer["uniqueId"] == "chef_tony"
    assert answer["stats"]["followerCount"] == 427682
    assert crawl.calls == [("creator", {"uniqueId": "Chef_Tony"})]
    status, headers, _ = serve(root, b"/users/chef_tony")
    assert (status, headers["x-cache"]) == (200, "HIT")  # one account, one cache key
    assert len(crawl.calls) == 1


def test_a_creators_videos_link_on_with_tiktoks_own_cursor() -> None:
    crawl = FakeCrawl(outcome(next_cursor="1733000000000.2"))
    root = Root(fake_state(crawl))
    uri = b"/users/chef_tony/videos?count=3"
    status, headers, _ = serve(root, uri)
    assert status == 200
    assert headers["link"] == '</users/chef_tony/videos?count=3&cursor=1733000000000.2>; rel="next"'
    assert crawl.calls == [("user", {"uniqueId": "chef_tony", "count": 3, "cursor": "0"})]


def test_replies_take_both_ids_from_the_path_and_link_on_by_offset() -> None:
    reply = Comment(id="7650000000000000001", videoId="7300000000000000001", text="真的 😂")
    crawl = FakeCrawl(outcome(reply, next_cursor=2))
    root = Root(fake_state(crawl))
    uri = b"/videos/7300000000000000001/comments/7600000000000000001/replies?count=2"
    status, headers, body = serve(root, uri)
    assert status == 200
    assert [comment["text"] for comment in json.loads(body)] == ["真的 😂"]
    assert headers["link"] == (
        '</videos/7300000000000000001/comments/7600000000000000001/replies?count=2&cursor=2>; rel="next"'
    )
    assert crawl.calls == [
        (
            "replies",
            {"video": "7300000000000000001", "comment": "7600000000000000001", "count": 2, "cursor": 0},
        )
    ]


@pytest.mark.parametrize(
    ("uri", "parameter"),
    [
        (b"/users/no%20spaces", "uniqueId"),
        (b"/users/%FF", "uniqueId"),
        (b"/users/chef_tony/videos?cursor=%3Cscript%3E", "cursor"),
        (b"/users/chef_tony?uniqueId=other", "uniqueId"),
        (b"/videos/abc/comments", "video"),
        (b"/videos/1/comments?count=51", "count"),
        (b"/videos/1/comments/x/replies", "comment"),
    ],
)
def test_a_bad_path_part_is_a_400_naming_it(uri: bytes, parameter: str) -> None:
    crawl = FakeCrawl(outcome())
    root = Root(fake_state(crawl))
    status, _, body = serve(root, uri)
    assert (status, json.loads(body)["parameter"]) == (400, parameter)
    assert crawl.calls == []


def test_a_cursor_tiktok_refuses_is_the_callers_400_and_a_refused_first_page_a_502() -> None:
    refused = CrawlOutcome(
        [], {**FINISHED, "tiktok/error": "invalid_request", "tiktok/error_detail": "statusCode 10201"}, []
    )
    root = Root(fake_state(FakeCrawl(refused)))
    status, _, body = serve(root, b"/users/chef_tony/videos?cursor=1733000000000")
    assert (status, json.loads(body)["parameter"]) == (400, "cursor")
    status, _, body = serve(root, b"/users/chef_tony/videos")  # no cursor of the caller's: TikTok's doing
    assert (status, json.loads(body)["code"]) == (502, "upstream_error")
