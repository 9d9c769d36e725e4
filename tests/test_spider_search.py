"""The search spider end to end: matching videos, offset paging, any language, no matches, bad queries."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

import pytest

from emulator.corpus import Corpus
from harness.crawls import run_crawl, run_crawls

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess

SEARCH = "/api/search/item/full/"
GENERAL = "/api/search/general/full/"


def mentions(item: dict[str, Any], query: str) -> bool:
    text = f"{item['description']} {item['author']['nickname'] or ''} {item['author']['uniqueId']}"
    text = unicodedata.normalize("NFC", text).casefold()
    return any(word in text for word in unicodedata.normalize("NFC", query).casefold().split())


def test_search_pages_until_count(emulator: EmulatorProcess) -> None:
    result = run_crawl(emulator, "search", q="pasta", count=60)
    assert len(result.items) == 60
    assert len(set(result.ids)) == 60
    assert all(mentions(item, "pasta") for item in result.items)
    assert result.stats["tiktok/has_more"] is True
    assert isinstance(result.stats["tiktok/next_cursor"], int)
    assert "tiktok/error" not in result.stats
    stats = emulator.stats()
    assert stats["requests"][SEARCH] >= 2
    assert stats["requests"][GENERAL] == 0  # the spider uses the videos-only search


def test_next_cursor_continues_where_the_answer_stopped(emulator: EmulatorProcess) -> None:
    first = run_crawl(emulator, "search", q="kitten", count=25)
    cursor = first.stats["tiktok/next_cursor"]
    assert isinstance(cursor, int)
    assert cursor >= 25
    second = run_crawl(emulator, "search", q="kitten", count=25, cursor=cursor)
    assert len(second.items) == 25
    assert not set(first.ids) & set(second.ids)
    assert second.stats["tiktok/next_cursor"] > cursor


def test_crawls_in_one_process_share_the_session(emulator: EmulatorProcess) -> None:
    crawls = [
        {"spider": "search", "args": {"q": "pizza", "count": 5}},
        {"spider": "search", "args": {"q": "PIZZA", "count": 5, "cursor": 40}},
        {"spider": "hashtag", "args": {"hashtag": "food", "count": 5}},
    ]
    results = run_crawls(emulator, crawls)
    assert [len(result.items) for result in results] == [5, 5, 5]
    assert not set(results[0].ids) & set(results[1].ids)
    stats = emulator.stats()
    assert stats["requests"][SEARCH] == 2
    assert stats["sessions_opened"] == 1


@pytest.mark.parametrize("query", ["拉面", "Café  au LAIT", "김치", "🇯🇵🍣🍜"])
def test_any_language(emulator: EmulatorProcess, query: str) -> None:
    result = run_crawl(emulator, "search", q=query, count=10)
    assert len(result.items) == 10
    assert all(mentions(item, query) for item in result.items)


def test_small_result_set_ends_when_upstream_has_no_more(emulator: EmulatorProcess) -> None:
    total = len(Corpus(1).search("croissant"))
    result = run_crawl(emulator, "search", q="croissant", count=100)
    assert 0 < len(result.items) <= total
    dropped = sum(result.dropped(reason) for reason in ("ad", "photo_post", "live", "no_play_address"))
    assert len(result.items) + dropped + result.dropped("duplicate") == total
    assert result.stats["tiktok/has_more"] is False
    assert result.stats["tiktok/next_cursor"] is None
    assert "tiktok/error" not in result.stats


def test_a_query_that_matches_nothing_is_an_empty_answer(emulator: EmulatorProcess) -> None:
    result = run_crawl(emulator, "search", q="qqzzxx nothing-here", count=10)
    assert result.items == []
    assert "tiktok/error" not in result.stats
    assert result.stats["tiktok/has_more"] is False
    assert result.stats["tiktok/next_cursor"] is None
    assert emulator.stats()["requests"][SEARCH] == 1


def test_upstream_refusals_are_recovered(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"empty_body": {"next": 1, "routes": [SEARCH]}, "http_5xx": {"next": 1}})
    result = run_crawl(emulator, "search", q="pizza", count=5)
    assert len(result.items) == 5
    assert "tiktok/error" not in result.stats
    assert emulator.stats()["faults_injected"] == {"empty_body": 1, "http_5xx": 1}
