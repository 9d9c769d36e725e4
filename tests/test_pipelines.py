"""The validation pipelines, configured as in the project settings, over real captured items."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy.utils.test import get_crawler

from settings import crawl as project_settings
from tests.captures import capture_json
from tiktok_spiders.items import AnswerItem, Comment, Creator, Rejected, Sound, Video
from tiktok_spiders.parsing import parse_comment_list, parse_feed, parse_music_detail, parse_user_detail
from tiktok_spiders.pipelines import (
    ACCEPTED_STAT,
    DROPPED_STAT_PREFIX,
    accepted_stat,
    dropped_stat,
    type_problem,
)


class Chain:
    """The project's ITEM_PIPELINES, in priority order, run over items one by one."""

    def __init__(self, count: int | None = None) -> None:
        self.crawler = get_crawler(Spider)
        spider = Spider(name="test")
        if count is not None:
            spider.count = count  # type: ignore[attr-defined]
        self.crawler.spider = spider
        ordered = sorted(project_settings.ITEM_PIPELINES.items(), key=lambda entry: entry[1])
        self.pipelines = [build_from_crawler(load_object(path), self.crawler) for path, _ in ordered]

    def run(self, items: list[Any]) -> list[Any]:
        passed = []
        for item in items:
            result = item
            try:
                for pipeline in self.pipelines:
                    result = pipeline.process_item(result)
            except DropItem:
                continue
            passed.append(result)
        return passed

    def stat(self, key: str) -> Any:
        assert self.crawler.stats is not None
        return self.crawler.stats.get_value(key)


def feed_entries() -> list[AnswerItem | Rejected]:
    return parse_feed(capture_json("recommend_item_list_2022-11.json")).entries


def comments() -> list[Comment]:
    entries = parse_comment_list(capture_json("comment_list_2026-02.json")).entries
    assert all(isinstance(entry, Comment) for entry in entries)
    return [entry for entry in entries if isinstance(entry, Comment)]


def creator() -> Creator:
    return parse_user_detail(capture_json("user_detail_2025-10.json"))


def sound() -> Sound:
    return parse_music_detail({"statusCode": 0, "musicInfo": {"music": {"id": "7016547803243022337"}}})


def test_playable_distinct_videos_pass_and_are_counted() -> None:
    chain = Chain()
    passed = chain.run(feed_entries())
    assert len(passed) == 28
    assert chain.stat(ACCEPTED_STAT) == 28


def test_rejected_entries_are_dropped_and_counted_per_reason() -> None:
    chain = Chain()
    entries: list[Any] = [
        Rejected("ad", "1"),
        Rejected("photo_post", "2"),
        Rejected("ad", "3"),
        Rejected("live"),
    ]
    assert chain.run(entries + feed_entries()[:2]) == feed_entries()[:2]
    assert chain.stat(f"{DROPPED_STAT_PREFIX}ad") == 2
    assert chain.stat(f"{DROPPED_STAT_PREFIX}photo_post") == 1
    assert chain.stat(f"{DROPPED_STAT_PREFIX}live") == 1


def test_duplicates_within_a_crawl_are_dropped() -> None:
    chain = Chain()
    entries = feed_entries()
    passed = chain.run(entries[:5] + entries[3:8])
    assert [video.id for video in passed] == [entry.id for entry in entries[:8]]
    assert chain.stat(f"{DROPPED_STAT_PREFIX}duplicate") == 2


def test_stops_at_the_requested_count() -> None:
    chain = Chain(count=10)
    passed = chain.run(feed_entries())
    assert len(passed) == 10
    assert chain.stat(f"{DROPPED_STAT_PREFIX}over_count") == 18
    assert chain.stat(ACCEPTED_STAT) == 10


@pytest.mark.parametrize(
    ("field_path", "bad_value"),
    [
        (("createTime",), "1666781116"),
        (("stats", "playCount"), 1.5),
        (("stats", "diggCount"), True),
        (("author", "verified"), "yes"),
        (("hashtags",), [{"id": "1", "title": "food"}]),
        (("video", "url"), None),
        (("music",), {"id": "1"}),
    ],
)
def test_wrongly_typed_videos_are_dropped(field_path: tuple[str, ...], bad_value: Any) -> None:
    video = feed_entries()[0]
    assert isinstance(video, Video)
    target: Any = video
    for name in field_path[:-1]:
        target = getattr(target, name)
    setattr(target, field_path[-1], bad_value)
    assert type_problem(video) is not None
    chain = Chain()
    assert chain.run([video]) == []
    assert chain.stat(f"{DROPPED_STAT_PREFIX}invalid_types") == 1


def test_the_video_stats_keep_their_names() -> None:
    assert (accepted_stat("video"), dropped_stat("video", "ad")) == (
        ACCEPTED_STAT,
        f"{DROPPED_STAT_PREFIX}ad",
    )
    assert ACCEPTED_STAT == "videos/accepted"
    assert DROPPED_STAT_PREFIX == "videos/dropped/"


def test_comments_creators_and_sounds_pass_and_are_counted_per_kind() -> None:
    chain = Chain()
    items: list[Any] = [*comments(), creator(), sound()]
    assert chain.run(items) == items
    assert chain.stat("comments/accepted") == 19
    assert chain.stat("creators/accepted") == 1
    assert chain.stat("sounds/accepted") == 1
    assert chain.stat(ACCEPTED_STAT) is None


def test_rejected_entries_count_under_their_kind() -> None:
    chain = Chain()
    entries: list[Any] = [
        Rejected("missing_id", kind="comment"),
        Rejected("invalid_id", detail="'abc'", kind="comment"),
        Rejected("missing_unique_id", "1", kind="creator"),
        Rejected("ad", "2"),
    ]
    assert chain.run(entries) == []
    assert chain.stat("comments/dropped/missing_id") == 1
    assert chain.stat("comments/dropped/invalid_id") == 1
    assert chain.stat("creators/dropped/missing_unique_id") == 1
    assert chain.stat(f"{DROPPED_STAT_PREFIX}ad") == 1


def test_duplicates_are_by_kind_and_id() -> None:
    chain = Chain()
    first = comments()
    video = feed_entries()[0]
    assert isinstance(video, Video)
    same_number = Comment(id=video.id, videoId=None, text="a comment sharing a video's number")
    passed = chain.run([*first[:3], *comments()[:2], video, same_number, creator(), creator()])
    assert [type(item).__name__ for item in passed] == ["Comment"] * 3 + ["Video", "Comment", "Creator"]
    assert chain.stat("comments/dropped/duplicate") == 2
    assert chain.stat("creators/dropped/duplicate") == 1
    assert chain.stat(f"{DROPPED_STAT_PREFIX}duplicate") is None


def test_the_count_limit_counts_every_answer_item() -> None:
    chain = Chain(count=5)
    passed = chain.run(comments())
    assert len(passed) == 5
    assert chain.stat("comments/accepted") == 5
    assert chain.stat("comments/dropped/over_count") == 14


@pytest.mark.parametrize(
    ("make", "field_path", "bad_value", "kind"),
    [
        (creator, ("stats", "followerCount"), "427682", "creator"),
        (creator, ("stats",), {"followerCount": 1}, "creator"),
        (creator, ("verified",), 1, "creator"),
        (creator, ("uniqueId",), None, "creator"),
        (lambda: comments()[0], ("author", "avatar"), ["https://x"], "comment"),
        (lambda: comments()[0], ("author",), {"id": "1"}, "comment"),
        (lambda: comments()[0], ("images",), ["https://x", None], "comment"),
        (lambda: comments()[0], ("pinnedByAuthor",), None, "comment"),
        (lambda: comments()[0], ("diggCount",), 2.0, "comment"),
        (sound, ("duration",), True, "sound"),
        (sound, ("original",), "true", "sound"),
    ],
)
def test_wrongly_typed_items_are_dropped_under_their_kind(
    make: Any, field_path: tuple[str, ...], bad_value: Any, kind: str
) -> None:
    item = make()
    target: Any = item
    for name in field_path[:-1]:
        target = getattr(target, name)
    setattr(target, field_path[-1], bad_value)
    assert type_problem(item) is not None
    chain = Chain()
    assert chain.run([item]) == []
    assert chain.stat(dropped_stat(kind, "invalid_types")) == 1


def test_what_is_not_an_answer_item_passes_untouched() -> None:
    chain = Chain(count=0)
    other = {"not": "an item"}
    assert chain.run([other]) == [other]
