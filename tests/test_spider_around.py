"""The spiders around a video, end to end against the emulator: a creator and their videos, a video's
comments and their replies, a sound and its videos, related videos and user search. Per spider: the
happy path (values as the emulator's corpus has them), paging, not found, private where it applies,
and an upstream that refuses."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import pytest

from emulator.corpus import Corpus
from harness.crawls import CrawlResult, run_crawl, run_crawls

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess

USER_DETAIL = "/api/user/detail/"
POSTS = "/api/post/item_list/"
COMMENTS = "/api/comment/list/"
REPLIES = "/api/comment/list/reply/"
MUSIC_DETAIL = "/api/music/detail/"
MUSIC_ITEMS = "/api/music/item_list/"
RELATED = "/api/related/item_list/"
SEARCH_USERS = "/api/search/user/full/"
#: fail fast where a test wants the upstream's refusal, not its recovery
REFUSING = {"TIKTOK_MAX_ATTEMPTS": "2", "TIKTOK_STRATEGY": "api"}


@cache
def corpus() -> Corpus:
    """The emulator's corpus (``--seed 1``), to know what its answers hold."""
    return Corpus(1)


def creator_posts(unique_id: str) -> list[str]:
    """A creator's playable videos as their feed orders them: pinned ones first, then newest first."""
    world = corpus()
    creator = world.creator(unique_id)
    assert creator is not None
    pinned, rest = world.posts(creator.number, 0)
    playable = set(world.playable)
    return [world.item_id(index) for index in (*pinned, *rest) if index in playable]


def page_through(
    emulator: EmulatorProcess, spider: str, count: int, limit: int, **args: Any
) -> tuple[list[str], list[Any]]:
    """The ids of crawls of ``count`` each, every one from the last one's ``tiktok/next_cursor``,
    until the feed ends or ``limit`` items came; and the cursors they gave."""
    ids: list[str] = []
    cursors: list[Any] = []
    cursor: Any = args.pop("cursor", None)
    while len(ids) < limit:
        given = {**args, "count": count} | ({} if cursor is None else {"cursor": cursor})
        result = run_crawl(emulator, spider, **given)
        assert "tiktok/error" not in result.stats
        ids += result.ids
        cursor = result.stats["tiktok/next_cursor"]
        cursors.append(cursor)
        if cursor is None:
            break
    return ids, cursors


def assert_refused(result: CrawlResult) -> None:
    assert result.items == []
    assert result.stats["tiktok/error"] == "unavailable"
    assert result.stats["tiktok/error_status"] == 503


# --- creator ---------------------------------------------------------------------------------------


def test_creator_profile_with_exact_counts(emulator: EmulatorProcess) -> None:
    expected = corpus().creators[0]  # millions of followers: TikTok's rounded stats would differ
    result = run_crawl(emulator, "creator", uniqueId="@CREATOR_0")
    (creator,) = result.items
    assert creator["id"] == expected.id
    assert creator["uniqueId"] == "creator_0"
    assert creator["secUid"] == expected.sec_uid
    assert creator["nickname"] == expected.nickname
    assert creator["signature"] == expected.signature
    assert creator["privateAccount"] is False
    assert creator["createTime"] == expected.create_time
    assert creator["stats"] == expected.counts
    assert creator["avatar"].startswith(emulator.base_url)
    assert "tiktok/error" not in result.stats
    assert result.stats["creators/accepted"] == 1


def test_a_private_creator_still_has_a_profile(emulator: EmulatorProcess) -> None:
    result = run_crawl(emulator, "creator", uniqueId="private.501")
    (creator,) = result.items
    assert creator["privateAccount"] is True
    assert "tiktok/error" not in result.stats


def test_unknown_creator_is_not_found_without_retries(emulator: EmulatorProcess) -> None:
    result = run_crawl(emulator, "creator", uniqueId="nosuchuser_xyz")
    assert result.items == []
    assert result.stats["tiktok/error"] == "not_found"
    assert result.stats["tiktok/error_status"] == 10221
    assert emulator.stats()["requests"][USER_DETAIL] == 1


def test_creator_refused_upstream(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"http_5xx": {"rate": 1.0, "routes": [USER_DETAIL]}})
    assert_refused(run_crawl(emulator, "creator", REFUSING, uniqueId="creator_0"))


def test_creator_soft_failure_is_retried_with_a_fresh_session(emulator: EmulatorProcess) -> None:
    # TikTok's quiet refusal: statusCode 0 and an empty ``user``; not a creator with no fields.
    emulator.set_faults({"soft_failure": {"next": 1, "routes": [USER_DETAIL]}})
    result = run_crawl(emulator, "creator", uniqueId="creator_0")
    (creator,) = result.items
    assert creator["id"] == corpus().creators[0].id
    assert "tiktok/error" not in result.stats
    assert result.stats["tiktok/retries/soft_failure"] == 1
    stats = emulator.stats()
    assert stats["faults_injected"] == {"soft_failure": 1}
    assert stats["requests"][USER_DETAIL] == 2


def test_creator_soft_failure_every_time_is_an_upstream_error(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"soft_failure": {"rate": 1.0, "routes": [USER_DETAIL]}})
    result = run_crawl(emulator, "creator", REFUSING, uniqueId="creator_0")
    assert result.items == []
    assert result.stats["tiktok/error"] == "soft_failure"


@pytest.mark.parametrize(
    ("spider", "args", "route"),
    [
        ("user", {"uniqueId": "creator_3", "count": 5}, POSTS),
        ("comments", {"video": "7300001000000000000", "count": 5}, COMMENTS),
    ],
)
def test_soft_failures_of_the_feeds_are_retried(
    emulator: EmulatorProcess, spider: str, args: dict[str, Any], route: str
) -> None:
    emulator.set_faults({"soft_failure": {"next": 1, "routes": [route]}})
    result = run_crawl(emulator, spider, **args)
    assert len(result.items) == 5
    assert "tiktok/error" not in result.stats
    assert emulator.stats()["faults_injected"] == {"soft_failure": 1}


# --- user: a creator's videos ----------------------------------------------------------------------


def test_user_videos_pinned_first(emulator: EmulatorProcess) -> None:
    result = run_crawl(emulator, "user", uniqueId="Creator_9", count=10)
    assert result.ids == creator_posts("creator_9")[:10]
    assert [item["pinned"] for item in result.items] == [True] * 3 + [False] * 7
    assert all(item["author"]["uniqueId"] == "creator_9" for item in result.items)
    cursor = result.stats["tiktok/next_cursor"]
    assert isinstance(cursor, str)
    assert result.stats["tiktok/has_more"] is True
    requests = emulator.stats()["requests"]
    assert requests[USER_DETAIL] == 1
    assert requests[POSTS] == 1


def test_user_videos_all_of_them_in_one_crawl(emulator: EmulatorProcess) -> None:
    result = run_crawl(emulator, "user", uniqueId="creator_9", count=1000)
    assert result.ids == creator_posts("creator_9")
    assert result.stats["tiktok/next_cursor"] is None
    assert result.stats["tiktok/has_more"] is False


def test_user_videos_paged_with_small_counts_give_every_post_once_in_order(
    emulator: EmulatorProcess,
) -> None:
    # 13 a crawl: crawls stop inside TikTok's pages, and inside the pinned head of the first one.
    expected = creator_posts("creator_3")[:80]
    ids, cursors = page_through(emulator, "user", 13, 80, uniqueId="creator_3")
    assert ids[:80] == expected
    assert all(isinstance(cursor, str) for cursor in cursors)
    # Where a crawl stopped inside a page the cursor says where exactly: TikTok's cursor and a skip.
    inside = [cursor for cursor in cursors if "." in cursor]
    assert inside
    assert all(token.isdigit() and skip.isdigit() for token, _, skip in (c.rpartition(".") for c in inside))
    assert any(not cursor.startswith("0.") for cursor in inside)  # beyond the first page too


def test_user_next_cursor_of_a_whole_page_is_tiktoks_own(emulator: EmulatorProcess) -> None:
    first = run_crawl(emulator, "user", uniqueId="creator_3", count=60)
    cursor = first.stats["tiktok/next_cursor"]
    second = run_crawl(emulator, "user", uniqueId="creator_3", count=20, cursor=cursor)
    assert first.ids + second.ids == creator_posts("creator_3")[:80]


def test_private_user_is_private_without_asking_for_posts(emulator: EmulatorProcess) -> None:
    result = run_crawl(emulator, "user", uniqueId="private.501", count=10)
    assert result.items == []
    assert result.stats["tiktok/error"] == "private"
    assert emulator.stats()["requests"][POSTS] == 0


def test_unknown_user_is_not_found(emulator: EmulatorProcess) -> None:
    result = run_crawl(emulator, "user", uniqueId="nosuchuser_xyz", count=10)
    assert result.items == []
    assert result.stats["tiktok/error"] == "not_found"
    assert emulator.stats()["requests"][POSTS] == 0


def test_user_videos_refused_upstream(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"http_5xx": {"rate": 1.0, "routes": [POSTS]}})
    assert_refused(run_crawl(emulator, "user", REFUSING, uniqueId="creator_3", count=10))


# --- comments and replies --------------------------------------------------------------------------


def video_id(index: int) -> str:
    return corpus().item_id(index)


def test_comments_of_a_video(emulator: EmulatorProcess) -> None:
    video = video_id(0)
    result = run_crawl(emulator, "comments", video=video, count=25)
    assert len(result.items) == 25
    assert len(set(result.ids)) == 25
    assert all(item["videoId"] == video for item in result.items)
    assert all(item["author"]["uniqueId"] for item in result.items)
    assert result.items[0]["pinnedByAuthor"] is True  # the emulator pins the first comment of item 0
    assert isinstance(result.stats["tiktok/next_cursor"], int)
    assert result.stats["tiktok/has_more"] is True
    assert result.stats["tiktok/total"] > 25
    assert result.stats["comments/accepted"] == 25


def test_comments_paged_give_every_comment_once_in_order(emulator: EmulatorProcess) -> None:
    # TikTok filters some comments out of its pages but still moves its cursor past them: a crawl
    # never stops inside a page, so no comment comes twice across crawls and none is left out.
    video = video_id(0)
    whole = run_crawl(emulator, "comments", video=video, count=1000)
    assert whole.stats["tiktok/next_cursor"] is None
    total = whole.stats["tiktok/total"]
    assert total - total // 10 <= len(whole.items) < total  # some were filtered
    ids, cursors = page_through(emulator, "comments", 7, 1000, video=video, cursor=0)
    assert ids == whole.ids
    assert all(isinstance(cursor, int) for cursor in cursors[:-1])


def test_comments_asked_at_once_give_the_sequential_answer(emulator: EmulatorProcess) -> None:
    video = video_id(0)
    sequential = run_crawl(emulator, "comments", {"TIKTOK_PAGES_AHEAD": "1"}, video=video, count=130)
    at_once = run_crawl(emulator, "comments", {"TIKTOK_PAGES_AHEAD": "8"}, video=video, count=130)
    assert len(sequential.ids) == 130
    assert at_once.ids == sequential.ids
    assert at_once.stats["tiktok/next_cursor"] == sequential.stats["tiktok/next_cursor"]


@pytest.mark.parametrize("spider", ["comments", "related"])
@pytest.mark.parametrize("which", ["unknown_item_id", "private_item_ids"])
def test_comments_and_related_of_an_unknown_or_private_video(
    emulator: EmulatorProcess, spider: str, which: str
) -> None:
    found = emulator.corpus()[which]
    video = found if isinstance(found, str) else found[0]
    result = run_crawl(emulator, spider, video=video)
    assert result.items == []
    assert result.stats["tiktok/error"] == ("not_found" if which == "unknown_item_id" else "private")


def a_comment_with_replies(emulator: EmulatorProcess) -> dict[str, Any]:
    for index in range(40):
        result = run_crawl(emulator, "comments", video=video_id(index), count=50)
        for comment in result.items:
            if comment["replyCount"] >= 10:
                return comment
    raise AssertionError("no comment with replies in the first videos")


def test_replies_to_a_comment_paged(emulator: EmulatorProcess) -> None:
    comment = a_comment_with_replies(emulator)
    args: dict[str, Any] = {"video": comment["videoId"], "comment": comment["id"]}
    whole = run_crawl(emulator, "replies", **args, count=100)
    replies = whole.items
    assert len(replies) <= comment["replyCount"] == whole.stats["tiktok/total"]
    assert len(replies) >= comment["replyCount"] * 0.8  # a few are filtered
    assert all(reply["videoId"] == comment["videoId"] for reply in replies)
    assert all(reply["replyCount"] == 0 for reply in replies)
    assert whole.stats["tiktok/next_cursor"] is None
    ids, _ = page_through(emulator, "replies", 4, 100, **args)
    assert ids == whole.ids


def test_replies_of_an_unknown_comment(emulator: EmulatorProcess) -> None:
    result = run_crawl(emulator, "replies", video=video_id(0), comment="7600000000000000999")
    assert result.items == []
    assert result.stats["tiktok/error"] == "not_found"


@pytest.mark.parametrize(
    ("spider", "args", "route"),
    [
        ("comments", {"video": "7300001000000000000"}, COMMENTS),
        ("replies", {"video": "7300001000000000000", "comment": "7600000000000000000"}, REPLIES),
        ("sound", {"id": "7050000000000000000"}, MUSIC_DETAIL),
        ("music", {"id": "7050000000000000000"}, MUSIC_ITEMS),
        ("related", {"video": "7300001000000000000"}, RELATED),
        ("user_search", {"q": "chef"}, SEARCH_USERS),
    ],
)
def test_refused_upstream(emulator: EmulatorProcess, spider: str, args: dict[str, str], route: str) -> None:
    emulator.set_faults({"http_5xx": {"rate": 1.0, "routes": [route]}})
    assert_refused(run_crawl(emulator, spider, REFUSING, **args))
    assert emulator.stats()["faults_injected"] == {"http_5xx": 2}  # tried again, then gave up


# --- sounds ----------------------------------------------------------------------------------------

SHARED_SOUND = "7050000000000000000"  # the corpus's first popular track: "Espresso Nights"


def test_sound(emulator: EmulatorProcess) -> None:
    result = run_crawl(emulator, "sound", id=SHARED_SOUND)
    (sound,) = result.items
    uses = corpus().sound_items(SHARED_SOUND)
    assert uses is not None
    assert sound["id"] == SHARED_SOUND
    assert sound["title"] == "Espresso Nights"
    assert sound["authorName"] == "Luna Park"
    assert sound["original"] is False
    assert sound["duration"] == 30
    assert sound["videoCount"] == len(uses)
    assert "tiktok/error" not in result.stats


def test_sound_videos_paged(emulator: EmulatorProcess) -> None:
    world = corpus()
    uses = world.sound_items(SHARED_SOUND)
    assert uses is not None
    playable = set(world.playable)
    expected = [world.item_id(index) for index in uses if index in playable]
    whole = run_crawl(emulator, "music", id=SHARED_SOUND, count=1000)
    assert whole.ids == expected
    assert all(item["music"]["id"] == SHARED_SOUND for item in whole.items)
    assert whole.stats["tiktok/next_cursor"] is None
    first = run_crawl(emulator, "music", id=SHARED_SOUND, count=30)
    cursor = first.stats["tiktok/next_cursor"]
    assert isinstance(cursor, int)
    second = run_crawl(emulator, "music", id=SHARED_SOUND, count=30, cursor=cursor)
    assert first.ids + second.ids == expected[:60]


@pytest.mark.parametrize("spider", ["sound", "music"])
def test_unknown_sound(emulator: EmulatorProcess, spider: str) -> None:
    result = run_crawl(emulator, spider, id="7050000000000000001")
    assert result.items == []
    assert result.stats["tiktok/error"] == "not_found"
    assert result.stats["tiktok/error_status"] == 10202


# --- related ---------------------------------------------------------------------------------------


def test_related_videos_one_page(emulator: EmulatorProcess) -> None:
    world = corpus()
    playable = set(world.playable)
    beside = [world.item_id(index) for index in world.related(0, 35) if index in playable]
    result = run_crawl(emulator, "related", video=video_id(0), count=16)
    assert result.ids == beside[:16]
    assert video_id(0) not in result.ids
    assert result.stats["tiktok/has_more"] is False
    assert "tiktok/next_cursor" not in result.stats
    assert emulator.stats()["requests"][RELATED] == 1


# --- user search -----------------------------------------------------------------------------------


def test_user_search_paged(emulator: EmulatorProcess) -> None:
    expected = len(corpus().search_authors("chef"))  # the distinct authors of the matching videos
    whole = run_crawl(emulator, "user_search", q="Chef", count=100)
    assert len(whole.items) == expected
    assert len(set(whole.ids)) == expected
    assert all(item["uniqueId"] and item["secUid"] for item in whole.items)
    assert all(item["createTime"] is None for item in whole.items)  # search does not say
    assert whole.stats["creators/accepted"] == expected
    assert whole.stats["tiktok/next_cursor"] is None
    ids, cursors = page_through(emulator, "user_search", 7, 100, q="chef")
    assert ids == whole.ids
    assert all(isinstance(cursor, int) for cursor in cursors[:-1])


def test_user_search_that_matches_no_one(emulator: EmulatorProcess) -> None:
    result = run_crawl(emulator, "user_search", q="qqzzxx nothing-here")
    assert result.items == []
    assert "tiktok/error" not in result.stats
    assert result.stats["tiktok/next_cursor"] is None


def test_crawls_around_a_video_share_one_session(emulator: EmulatorProcess) -> None:
    # From a video to its creator, their videos, its comments, its sound and related videos.
    (video,) = run_crawl(emulator, "video", id=video_id(0)).items
    author, sound = video["author"]["uniqueId"], video["music"]["id"]
    crawls = [
        {"spider": "creator", "args": {"uniqueId": author}},
        {"spider": "user", "args": {"uniqueId": author, "count": 5}},
        {"spider": "comments", "args": {"video": video["id"], "count": 5}},
        {"spider": "sound", "args": {"id": sound}},
        {"spider": "music", "args": {"id": sound, "count": 5}},
        {"spider": "related", "args": {"video": video["id"], "count": 5}},
    ]
    results = run_crawls(emulator, crawls)
    assert [len(result.items) for result in results] == [1, 5, 5, 1, 1, 5]  # its sound is its own
    assert all("tiktok/error" not in result.stats for result in results)
    assert results[0].items[0]["uniqueId"] == author
    assert results[3].items[0]["id"] == sound
    assert results[4].ids == [video["id"]]
    assert results[-1].sessions_opened == 1
