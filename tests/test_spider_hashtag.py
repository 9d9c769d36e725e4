"""The hashtag spider end to end: challenge lookup once, cursor paging, Unicode, unknown hashtags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from harness.crawls import run_crawl, run_crawls

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess

DETAIL = "/api/challenge/detail/"
ITEMS = "/api/challenge/item_list/"


def tagged(item: dict[str, Any], hashtag: str) -> bool:
    return any(tag["title"].casefold() == hashtag.casefold() for tag in item["hashtags"])


def test_hashtag_feed_pages_until_count(emulator: EmulatorProcess) -> None:
    result = run_crawl(emulator, "hashtag", hashtag="food", count=100)
    assert len(result.items) == 100
    assert len(set(result.ids)) == 100
    assert all(tagged(item, "food") for item in result.items)
    assert result.stats["tiktok/challenge_id"] == emulator.hashtag_id("food")
    assert result.stats["tiktok/has_more"] is True
    assert emulator.stats()["requests"][ITEMS] >= 3


def test_next_cursor_continues_where_the_answer_stopped(emulator: EmulatorProcess) -> None:
    first = run_crawl(emulator, "hashtag", hashtag="food", count=40)
    cursor = first.stats["tiktok/next_cursor"]
    assert isinstance(cursor, int)
    assert cursor > 0
    second = run_crawl(emulator, "hashtag", hashtag="food", count=40, cursor=cursor)
    assert len(second.items) == 40
    assert not set(first.ids) & set(second.ids)
    assert second.stats["tiktok/next_cursor"] > cursor


def test_challenge_id_is_looked_up_once_per_process(emulator: EmulatorProcess) -> None:
    crawls = [
        {"spider": "hashtag", "args": {"hashtag": "food", "count": 10}},
        {"spider": "hashtag", "args": {"hashtag": "#FOOD", "count": 10}},
        {"spider": "hashtag", "args": {"hashtag": "Food", "count": 10, "cursor": 30}},
    ]
    results = run_crawls(emulator, crawls)
    assert [len(result.items) for result in results] == [10, 10, 10]
    stats = emulator.stats()
    assert stats["requests"][DETAIL] == 1
    assert stats["requests"][ITEMS] == 3
    assert stats["sessions_opened"] == 1


@pytest.mark.parametrize("hashtag", ["美食", "café", "#Café"])
def test_unicode_hashtags(emulator: EmulatorProcess, hashtag: str) -> None:
    result = run_crawl(emulator, "hashtag", hashtag=hashtag, count=20)
    assert len(result.items) == 20
    assert all(tagged(item, hashtag.removeprefix("#")) for item in result.items)


def test_small_hashtag_ends_when_upstream_has_no_more(emulator: EmulatorProcess) -> None:
    result = run_crawl(emulator, "hashtag", hashtag="origami", count=30)
    assert 0 < len(result.items) <= 7
    assert result.stats["tiktok/has_more"] is False
    assert result.stats["tiktok/next_cursor"] is None
    assert "tiktok/error" not in result.stats


def test_unknown_hashtag_ends_with_not_found_and_no_retries(emulator: EmulatorProcess) -> None:
    result = run_crawl(emulator, "hashtag", hashtag="nosuchhashtagxyz", count=10)
    assert result.items == []
    assert result.stats["tiktok/error"] == "not_found"
    assert result.stats["tiktok/error_status"] == 10205
    stats = emulator.stats()
    assert stats["requests"][DETAIL] == 1
    assert stats["requests"][ITEMS] == 0


def test_api_blocked_hashtag_feed_comes_from_the_tag_page(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"block_api": True})
    first = run_crawl(emulator, "hashtag", settings={"TIKTOK_STRATEGY": "page"}, hashtag="美食", count=40)
    assert len(first.items) == 40
    assert all(tagged(item, "美食") for item in first.items)
    cursor = first.stats["tiktok/next_cursor"]
    assert cursor >= 40
    second, unknown = run_crawls(
        emulator,
        [
            {"spider": "hashtag", "args": {"hashtag": "美食", "count": 10, "cursor": cursor}},
            {"spider": "hashtag", "args": {"hashtag": "nosuchhashtagxyz", "count": 10}},
        ],
    )
    assert len(second.items) == 10
    assert not set(first.ids) & set(second.ids)
    assert unknown.items == []
    assert unknown.stats["tiktok/error"] == "not_found"
    assert emulator.stats()["requests"]["/tag/<name>"] == 3


@pytest.mark.parametrize(
    ("spider", "args", "feed_path"),
    [
        ("hashtag", {"hashtag": "food"}, "/api/challenge/item_list/"),
        ("search", {"q": "pasta"}, "/api/search/item/full/"),
    ],
)
def test_pages_asked_for_at_once_give_the_sequential_answer(
    emulator: EmulatorProcess, spider: str, args: dict[str, Any], feed_path: str
) -> None:
    sequential = run_crawl(emulator, spider, {"TIKTOK_PAGES_AHEAD": "1"}, count=100, cursor=7, **args)
    emulator.set_faults({"latency_ms": 300})  # long enough that pages asked at once overlap
    at_once = run_crawl(emulator, spider, {"TIKTOK_PAGES_AHEAD": "8"}, count=100, cursor=7, **args)
    assert len(sequential.ids) == 100
    assert at_once.ids == sequential.ids
    assert at_once.stats["tiktok/next_cursor"] == sequential.stats["tiktok/next_cursor"]
    assert at_once.stats["tiktok/pages"] == sequential.stats["tiktok/pages"]
    assert emulator.stats()["api_max_in_flight"][feed_path] >= 2  # they did overlap upstream
