"""The trending spider end to end: Chromium, the shared session, the emulator's For You feed."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import pytest
from scrapy.utils.test import get_crawler

from harness.crawls import run_crawl, run_crawls
from tiktok_spiders.spiders.trending import TrendingSpider

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess

RECOMMEND = "/api/recommend/item_list/"
TRENDING_30 = {"spider": "trending", "args": {"count": 30}}


def test_thirty_distinct_playable_videos_in_one_round_trip(emulator: EmulatorProcess) -> None:
    result = run_crawl(emulator, "trending", count=30)
    assert len(result.items) == 30
    assert len(set(result.ids)) == 30
    assert not set(result.ids) & set(emulator.corpus()["unplayable_item_ids"])
    assert sum(result.dropped(reason) for reason in ("ad", "photo_post", "live", "no_play_address")) > 0
    assert emulator.stats()["requests"][RECOMMEND] == 1
    for item in result.items:
        assert item["video"]["sourceUrl"].startswith(emulator.base_url + "/video/")
        assert item["webUrl"].startswith("https://www.tiktok.com/@")


def test_count_is_honoured_across_pages_without_duplicates(emulator: EmulatorProcess) -> None:
    result = run_crawl(emulator, "trending", count=100)
    assert len(result.items) == 100
    assert len(set(result.ids)) == 100
    assert emulator.stats()["requests"][RECOMMEND] >= 3
    assert result.dropped("duplicate") > 0  # the feed repeats items across pages; none reached the output


def test_the_pages_of_a_count_are_in_flight_upstream_together(emulator: EmulatorProcess) -> None:
    """The For You feed's calls are the same URL each time: Chromium's HTTP cache would hold each
    one back until the one before it answered, so the page's fetch bypasses the cache."""
    emulator.set_faults({"latency_ms": 300})
    result = run_crawl(emulator, "trending", count=100)
    assert len(result.items) == 100
    stats = emulator.stats()
    assert stats["requests"][RECOMMEND] >= 3
    assert stats["api_max_in_flight"][RECOMMEND] >= 3  # one after another, it would be 1


def test_second_crawl_reuses_the_browser_and_the_session(emulator: EmulatorProcess) -> None:
    first, second = run_crawls(emulator, [TRENDING_30, TRENDING_30])
    assert len(first.items) == len(second.items) == 30
    assert (second.browser_launches, second.sessions_opened) == (1, 1)
    stats = emulator.stats()
    assert stats["sessions_opened"] == 1
    assert stats["requests"]["/"] == 1
    assert stats["requests"][RECOMMEND] == 2


def test_empty_bodies_drop_the_session_and_retry_with_a_fresh_one(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"empty_body": {"next": 2}})
    result = run_crawl(emulator, "trending", count=30)
    assert len(result.items) == 30
    assert result.stats["tiktok/retries/blocked"] == 2
    assert result.sessions_opened == 3
    assert emulator.stats()["sessions_opened"] == 3


def test_captcha_backs_off_and_retries_with_a_new_session(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"captcha": {"next": 1}})
    result = run_crawl(emulator, "trending", count=30)
    assert len(result.items) == 30
    assert result.stats["tiktok/retries/captcha"] == 1
    assert result.sessions_opened == 2


def test_429_and_5xx_retry_on_the_same_session(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"http_429": {"next": 1, "retry_after": 0}, "http_5xx": {"next": 1}})
    result = run_crawl(emulator, "trending", count=30)
    assert len(result.items) == 30
    assert result.stats["tiktok/retries/rate_limited"] == 1
    assert result.stats["tiktok/retries/unavailable"] == 1
    assert result.sessions_opened == 1


@pytest.mark.parametrize(
    ("faults", "reason"),
    [
        ({"malformed_json": {"next": 1}}, "malformed"),
        ({"truncated": {"next": 1}}, "unavailable"),
        ({"slow_drip": {"next": 1, "duration_ms": 3000}}, "unavailable"),  # past UPSTREAM_TIMEOUT
    ],
)
def test_garbled_cut_and_slow_answers_are_retried(
    emulator: EmulatorProcess, faults: dict[str, object], reason: str
) -> None:
    emulator.set_faults(faults)
    result = run_crawl(emulator, "trending", settings={"UPSTREAM_TIMEOUT": "1"}, count=30)
    assert len(result.items) == 30
    assert result.stats[f"tiktok/retries/{reason}"] == 1
    assert result.sessions_opened == 1


def test_connections_reset_every_time_end_the_crawl_after_bounded_attempts(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"reset": 1.0})
    result = run_crawl(emulator, "trending", settings={"TIKTOK_MAX_ATTEMPTS": "3"}, count=30)
    assert result.items == []
    assert result.stats["tiktok/error"] == "unavailable"
    assert result.stats["tiktok/api_calls"] == 3


def test_expired_session_is_renewed(emulator: EmulatorProcess) -> None:
    expire = {"method": "POST", "path": "/__emulator__/sessions/expire"}
    first, second = run_crawls(emulator, [TRENDING_30, {**TRENDING_30, "before": expire}])
    assert len(first.items) == len(second.items) == 30
    assert second.stats["tiktok/retries/blocked"] == 1  # the expired session's answer was empty
    assert second.sessions_opened == 2
    assert second.browser_launches == 1


def test_a_blocking_tiktok_ends_the_crawl_with_a_readable_reason(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"empty_body": 1.0})
    settings = {"TIKTOK_MAX_ATTEMPTS": "3", "TIKTOK_STRATEGY": "api"}
    result = run_crawl(emulator, "trending", settings=settings, count=30)
    assert result.items == []
    assert result.stats["tiktok/error"] == "blocked"
    assert emulator.stats()["requests"][RECOMMEND] == 3  # bounded: no endless retrying


def test_when_pages_are_refused_too_the_fallback_is_bounded(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"empty_body": 1.0})  # every feed call, the pages' own included
    result = run_crawl(emulator, "trending", settings={"TIKTOK_MAX_ATTEMPTS": "3"}, count=30)
    assert result.items == []
    assert result.stats["tiktok/error"] == "blocked"
    assert result.stats["tiktok/page_loads"] == 2
    stats = emulator.stats()
    assert stats["requests"]["/foryou"] == 2
    assert stats["requests"][RECOMMEND] == 3 + 2  # our three calls, then one per page load


def test_api_blocked_falls_back_to_the_rendered_page(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"block_api": True})
    first, second = run_crawls(emulator, [TRENDING_30, {"spider": "trending", "args": {"count": 60}}])
    assert len(first.items) == 30
    assert len(set(second.ids)) == 60
    assert first.stats["tiktok/page_loads"] == 1
    assert "tiktok/api_calls" not in second.stats  # remembered: straight to the page
    assert second.stats["tiktok/page_loads"] >= 1
    stats = emulator.stats()
    assert stats["api_refused"] == {"bad_x_gnarly": 4}  # only our first crawl's API calls
    assert (
        stats["requests"]["/foryou"] == first.stats["tiktok/page_loads"] + second.stats["tiktok/page_loads"]
    )


def test_page_strategy_can_be_forced(emulator: EmulatorProcess) -> None:
    result = run_crawl(emulator, "trending", settings={"TIKTOK_STRATEGY": "page"}, count=30)
    assert len(result.items) == 30
    assert "tiktok/api_calls" not in result.stats
    assert emulator.stats()["requests"]["/foryou"] == 1


def test_sessions_are_renewed_after_max_calls(emulator: EmulatorProcess) -> None:
    results = run_crawls(emulator, [TRENDING_30] * 5, settings={"TIKTOK_SESSION_MAX_CALLS": "2"})
    assert [len(result.items) for result in results] == [30] * 5
    assert results[-1].sessions_opened == 3  # calls 1-2, 3-4, 5: each context's memory handed back
    assert results[-1].browser_launches == 1


@pytest.mark.parametrize(("ahead", "pages"), [(8, 4), (2, 2), (1, 1)])
def test_the_pages_a_count_needs_are_asked_for_at_once(ahead: int, pages: int) -> None:
    """In process: the For You feed has no cursor, so count=100's pages go out together."""
    settings = {"TIKTOK_PAGES_AHEAD": ahead, "TIKTOK_BASE_URL": "http://127.0.0.1:9"}
    crawler = get_crawler(TrendingSpider, settings)
    spider = cast("TrendingSpider", crawler._create_spider(count="100"))
    assert len(list(spider.next_round())) == pages
