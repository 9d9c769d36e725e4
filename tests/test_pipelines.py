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
from tiktok_spiders.items import Rejected, Video
from tiktok_spiders.parsing import parse_feed
from tiktok_spiders.pipelines import ACCEPTED_STAT, DROPPED_STAT_PREFIX, type_problem


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

    def run(self, items: list[Any]) -> list[Video]:
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


def feed_entries() -> list[Video | Rejected]:
    return parse_feed(capture_json("recommend_item_list_2022-11.json")).entries


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
