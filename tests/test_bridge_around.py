"""What an app shows around a video, end to end (service, spiders, Chromium, emulator): creators and
their videos, comments and replies, sounds and their videos, related videos, creator search. Each
route: the happy path, paging by ``Link``, not found, private, TikTok refusing, a stale answer when
TikTok fails.

The shared ``service`` caches across tests, so each test asks for its own arguments. What the
emulator holds is read from its corpus (seed 1, as the emulator process runs it)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest

from bridge.openapi import COMMENT_SCHEMA, CREATOR_SCHEMA, SOUND_SCHEMA
from emulator.corpus import Corpus, Urls
from harness.service import ServiceProcess
from tests.test_bridge_routes import PROBLEM_KEYS, videos_of
from tiktok_spiders.feeds import FEEDS, USER_SEARCH

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess
    from harness.http import Answer

CORPUS = Corpus(1)
LATEST = 0


def creators_of(body: bytes) -> list[dict[str, Any]]:
    creators = json.loads(body)
    assert isinstance(creators, list)
    for creator in creators:
        jsonschema.validate(creator, CREATOR_SCHEMA)
    return creators


def comments_of(body: bytes) -> list[dict[str, Any]]:
    comments = json.loads(body)
    assert isinstance(comments, list)
    for comment in comments:
        jsonschema.validate(comment, COMMENT_SCHEMA)
    return comments


def next_of(answer: Answer) -> str | None:
    link = answer.headers.get("link")
    return None if link is None else link[1 : link.index(">")]


def problem(answer: Answer, status: int, code: str) -> dict[str, Any]:
    assert answer.status == status, answer.body[:300]
    assert answer.headers["content-type"] == "application/problem+json"
    document: dict[str, Any] = answer.json()
    assert set(document) >= PROBLEM_KEYS
    assert document["code"] == code
    return document


def public_creator(number: int) -> Any:
    creator = CORPUS.creators[number]
    assert not creator.private
    return creator


def video_with_replies(service: ServiceProcess, unique_id: str) -> tuple[str, dict[str, Any]]:
    """A video of the creator with a comment that has replies, and that comment."""
    videos = videos_of(service.get(f"/users/{unique_id}/videos?count=30").body)
    for video in videos:
        if not video["stats"]["commentCount"]:  # type: ignore[index]
            continue
        comments = comments_of(service.get(f"/videos/{video['id']}/comments?count=50").body)
        for comment in comments:
            if comment["replyCount"]:
                return str(video["id"]), comment
    raise AssertionError(f"no comment with replies among {unique_id}'s videos")


# creators


def test_a_creator_is_answered_with_exact_counts_by_any_spelling_of_the_name(
    service: ServiceProcess, emulator: EmulatorProcess
) -> None:
    creator = public_creator(3)
    answer = service.get(f"/users/@{creator.unique_id.upper()}")
    assert answer.status == 200, answer.body[:300]
    assert answer.headers["x-cache"] == "MISS"
    profile = answer.json()
    jsonschema.validate(profile, CREATOR_SCHEMA)
    assert profile["uniqueId"] == creator.unique_id
    assert profile["id"] == creator.id
    assert profile["secUid"] == creator.sec_uid
    assert profile["privateAccount"] is False
    assert profile["stats"] == creator.counts  # exact: statsV2, not the rounded stats
    again = service.get(f"/users/{creator.unique_id}")
    assert (again.status, again.headers["x-cache"], again.body) == (200, "HIT", answer.body)
    assert emulator.stats()["requests"]["/api/user/detail/"] == 1


def test_an_unknown_creator_is_404(service: ServiceProcess) -> None:
    document = problem(service.get("/users/nobody.here.at.all"), 404, "not_found")
    assert document["detail"] == "TikTok knows no such user"


def test_tiktoks_soft_failure_is_retried_not_answered_as_an_empty_creator(
    service: ServiceProcess, emulator: EmulatorProcess
) -> None:
    creator = public_creator(6)
    emulator.set_faults({"soft_failure": {"next": 2, "routes": ["/api/user/detail/"]}})
    answer = service.get(f"/users/{creator.unique_id}")
    assert answer.status == 200, answer.body[:300]
    assert answer.json()["uniqueId"] == creator.unique_id
    assert emulator.stats()["requests"]["/api/user/detail/"] == 3
    emulator.set_faults({"soft_failure": 1.0})
    problem(service.get(f"/users/{public_creator(9).unique_id}", timeout=150), 502, "upstream_blocked")


def test_a_creators_videos_come_pinned_first_and_page_to_the_end(service: ServiceProcess) -> None:
    creator = next(c for c in CORPUS.creators if c.pinned and 20 <= c.counts["videoCount"] <= 60)
    pinned, rest = CORPUS.posts(creator.number, LATEST)
    expected = [CORPUS.item_id(index) for index in (*pinned, *rest)]
    path: str | None = f"/users/{creator.unique_id}/videos?count=7"
    seen: list[dict[str, Any]] = []
    for _ in range(len(expected)):  # bounded: each page brings at least one video
        if path is None:
            break
        answer = service.get(path)
        assert answer.status == 200, answer.body[:300]
        page = videos_of(answer.body)
        assert page
        seen.extend(page)
        path = next_of(answer)
    assert path is None
    playable = [video_id for video_id in expected if CORPUS.index_of(video_id) is not None]
    assert [video["id"] for video in seen] == [i for i in playable if i in {v["id"] for v in seen}]
    assert len({video["id"] for video in seen}) == len(seen)
    assert [video["pinned"] for video in seen[: len(pinned)]] == [True] * len(pinned)
    assert not any(video["pinned"] for video in seen[len(pinned) :])
    assert all(video["author"]["uniqueId"] == creator.unique_id for video in seen)


def test_a_private_accounts_videos_are_403_private(service: ServiceProcess) -> None:
    private = next(creator for creator in CORPUS.creators if creator.private)
    profile = service.get(f"/users/{private.unique_id}")
    assert (profile.status, profile.json()["privateAccount"]) == (200, True)
    problem(service.get(f"/users/{private.unique_id}/videos"), 403, "private")
    problem(service.get("/users/nobody.here.at.all/videos"), 404, "not_found")


# comments and replies


def test_comments_page_by_the_count_asked_and_replies_open_under_a_comment(service: ServiceProcess) -> None:
    video_id, comment = video_with_replies(service, public_creator(0).unique_id)
    first = service.get(f"/videos/{video_id}/comments?count=4")
    assert first.status == 200
    comments = comments_of(first.body)
    assert len(comments) == 4
    assert all(c["videoId"] == video_id for c in comments)
    link = next_of(first)
    assert link is not None
    # an offset: past the 4 comments, and past any entry TikTok sent that is not one
    assert link.startswith(f"/videos/{video_id}/comments?count=4&cursor=")
    assert int(link.rpartition("=")[2]) >= 4
    second = comments_of(service.get(link).body)
    assert second
    assert not {c["id"] for c in comments} & {c["id"] for c in second}

    path: str | None = f"/videos/{video_id}/comments/{comment['id']}/replies?count=3"
    replies: list[dict[str, Any]] = []
    for _ in range(comment["replyCount"] + 1):  # bounded
        if path is None:
            break
        answer = service.get(path)
        assert answer.status == 200, answer.body[:300]
        replies.extend(comments_of(answer.body))
        path = next_of(answer)
    assert path is None
    assert 0 < len(replies) <= comment["replyCount"]
    assert len({reply["id"] for reply in replies}) == len(replies)
    assert all(reply["videoId"] == video_id for reply in replies)


def test_comments_keep_image_only_ones_and_any_script(service: ServiceProcess) -> None:
    creator = public_creator(1)
    texts: list[str] = []
    images = 0
    for video in videos_of(service.get(f"/users/{creator.unique_id}/videos?count=30").body)[:6]:
        for comment in comments_of(service.get(f"/videos/{video['id']}/comments?count=50").body):
            texts.append(comment["text"])
            if not comment["text"]:
                assert comment["images"], comment
                images += 1
    assert images > 0
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in texts)  # CJK
    assert any(any(ord(ch) >= 0x1F300 for ch in text) for text in texts)  # emoji


def test_comments_of_unknown_or_private_videos(service: ServiceProcess) -> None:
    problem(service.get("/videos/7399999999999999999/comments"), 404, "not_found")
    private_id = CORPUS.private_item_ids()[0]
    problem(service.get(f"/videos/{private_id}/comments"), 403, "private")
    video = videos_of(service.get(f"/users/{public_creator(2).unique_id}/videos?count=1").body)[0]
    problem(service.get(f"/videos/{video['id']}/comments/7999999999999999999/replies"), 404, "not_found")


# sounds, related videos


def test_a_sound_and_its_videos(service: ServiceProcess) -> None:
    video = videos_of(service.get(f"/users/{public_creator(4).unique_id}/videos?count=1").body)[0]
    sound_id = video["music"]["id"]  # type: ignore[index]
    items = CORPUS.sound_items(sound_id)
    assert items is not None
    answer = service.get(f"/music/{sound_id}")
    assert answer.status == 200, answer.body[:300]
    sound = answer.json()
    jsonschema.validate(sound, SOUND_SCHEMA)
    assert (sound["id"], sound["videoCount"]) == (sound_id, len(items))
    assert sound["title"] == video["music"]["title"]  # type: ignore[index]

    first = service.get(f"/music/{sound_id}/videos?count=2")
    assert first.status == 200
    page = videos_of(first.body)
    assert all(v["music"]["id"] == sound_id for v in page)  # type: ignore[index]
    if len(items) > 2:
        assert next_of(first) == f"/music/{sound_id}/videos?count=2&cursor=2"
    problem(service.get("/music/7399999999999999999"), 404, "not_found")
    problem(service.get("/music/7399999999999999999/videos"), 404, "not_found")


def test_related_videos_are_one_page(service: ServiceProcess) -> None:
    video = videos_of(service.get(f"/users/{public_creator(5).unique_id}/videos?count=1").body)[0]
    answer = service.get(f"/videos/{video['id']}/related?count=5")
    assert answer.status == 200, answer.body[:300]
    related = videos_of(answer.body)
    assert 0 < len(related) <= 5
    assert video["id"] not in {v["id"] for v in related}
    assert "link" not in answer.headers
    problem(service.get("/videos/7399999999999999999/related"), 404, "not_found")
    problem(service.get(f"/videos/{CORPUS.private_item_ids()[1]}/related"), 403, "private")


# creator search


def test_creator_search_pages_and_leaves_what_search_lacks_null(service: ServiceProcess) -> None:
    first = service.get("/search/users?q=creator&count=3")
    assert first.status == 200, first.body[:300]
    creators = creators_of(first.body)
    assert len(creators) == 3
    assert all("creator" in c["uniqueId"] or "creator" in (c["nickname"] or "").casefold() for c in creators)
    assert all(c["createTime"] is None for c in creators)  # search does not say; the profile does
    assert all(c["stats"]["followerCount"] is not None for c in creators)
    link = next_of(first)
    assert link is not None
    assert link.startswith("/search/users?q=creator&count=3&cursor=")
    later = creators_of(service.get(link).body)
    assert not {c["id"] for c in creators} & {c["id"] for c in later}
    assert service.get("/search/users?q=zzzqqqxxx").json() == []


# what every route shares


ROUTES = (
    "/users/{creator}",
    "/users/{creator}/videos?count=3",
    "/videos/{video}/comments?count=3",
    "/videos/{video}/related?count=3",
    "/music/{sound}",
    "/music/{sound}/videos?count=3",
    "/search/users?q={creator}",
)


def arguments(number: int) -> dict[str, str]:
    """A creator, one of its videos and that video's sound, from the corpus."""
    creator = public_creator(number)
    _pinned, rest = CORPUS.posts(creator.number, LATEST)
    index = rest[0]
    item = CORPUS.item(index, Urls("http://127.0.0.1:1", 0))  # the URLs do not matter here
    return {"creator": creator.unique_id, "video": CORPUS.item_id(index), "sound": item["music"]["id"]}


@pytest.mark.parametrize("route", ROUTES)
def test_tiktok_refusing_is_502_upstream_blocked(
    service: ServiceProcess, emulator: EmulatorProcess, route: str
) -> None:
    emulator.set_faults({"empty_body": 1.0})
    path = route.format(**arguments(20 + ROUTES.index(route)))
    problem(service.get(path, timeout=150), 502, "upstream_blocked")


@pytest.fixture(scope="module")
def stale_service(emulator_server: EmulatorProcess) -> Any:
    service = ServiceProcess(
        emulator_server,
        CACHE_TTL_HASHTAG="0",
        CACHE_TTL_PROFILE="0",
        CACHE_TTL_COMMENTS="0",
        CACHE_STALE_MAX="3600",
        BREAKER_THRESHOLD="0",
        TIKTOK_RETRY_BACKOFF="0.05",
    )
    try:
        yield service
    finally:
        service.stop()


@pytest.mark.parametrize("route", ROUTES)
def test_a_stale_answer_when_tiktok_fails(
    stale_service: ServiceProcess, emulator: EmulatorProcess, route: str
) -> None:
    path = route.format(**arguments(40 + ROUTES.index(route)))
    fresh = stale_service.get(path, timeout=60)  # the first on a fresh service opens its session
    assert (fresh.status, fresh.headers["x-cache"]) == (200, "MISS"), fresh.body[:300]
    emulator.set_faults({"http_5xx": 1.0})
    stale = stale_service.get(path, timeout=60)
    assert (stale.status, stale.headers["x-cache"]) == (200, "STALE")
    assert stale.body == fresh.body
    assert stale.headers.get("link") == fresh.headers.get("link")


def test_head_and_if_none_match_on_a_path_route(service: ServiceProcess) -> None:
    creator = public_creator(12)
    answer = service.get(f"/users/{creator.unique_id}")
    head = service.get(f"/users/{creator.unique_id}", method="HEAD")
    assert (head.status, head.body, head.headers["etag"]) == (200, b"", answer.headers["etag"])
    again = service.get(f"/users/{creator.unique_id}", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status == 304


def test_rate_limit_counts_the_new_routes(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator, RATE_LIMIT="2/minute")
    try:
        creator = public_creator(15).unique_id
        assert service.get("/users/no%20spaces").status == 400  # errors count too
        assert service.get(f"/users/{creator}", timeout=60).status == 200  # its session opens first
        problem(service.get(f"/users/{creator}/videos"), 429, "rate_limited")
    finally:
        service.stop()


def test_openapi_describes_every_new_route_and_object(service: ServiceProcess) -> None:
    document = service.get("/openapi.json").json()
    paths = document["paths"]
    for path in (feed.route for feed in FEEDS if feed.path_names or feed is USER_SEARCH):
        operation = paths[path]["get"]
        in_path = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
        assert in_path == {part[1:-1] for part in path.split("/") if part.startswith("{")}, path
        assert "404" in operation["responses"] or path == "/search/users"
    assert "403" in paths["/users/{uniqueId}/videos"]["get"]["responses"]
    assert paths["/users/{uniqueId}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Creator"
    }
    assert {"Video", "Creator", "Comment", "Sound"} <= set(document["components"]["schemas"])
    assert "pinned" in document["components"]["schemas"]["Video"]["required"]


def test_a_cursor_that_is_not_tiktoks_is_a_400(service: ServiceProcess, emulator: EmulatorProcess) -> None:
    # TikTok's cursors are digits (a timestamp, a small number); anything else it would refuse.
    creator = public_creator(18)
    document = problem(
        service.get(f"/users/{creator.unique_id}/videos?count=2&cursor=pF0"), 400, "invalid_parameter"
    )
    assert document["parameter"] == "cursor"
    assert emulator.stats()["requests"]["/api/user/detail/"] == 0  # refused before any crawl
