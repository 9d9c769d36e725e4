"""Scheduled crawls on scrapyd (README "Deploying"): deploy the egg, schedule, items as JSON lines, and
a scheduled trending crawl that warms the shared cache for the HTTP service."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support import ScrapydProcess, ServiceProcess

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.support import EmulatorProcess, RedisProcess

RECOMMEND = "/api/recommend/item_list/"


@pytest.fixture
def scrapyd(
    emulator: EmulatorProcess, redis_server: RedisProcess, tmp_path: Path
) -> Iterator[ScrapydProcess]:
    server = ScrapydProcess(
        tmp_path / "scrapyd",
        TIKTOK_BASE_URL=emulator.base_url,
        CACHE_URL=redis_server.url,
        CACHE_WARM="1",
        CACHE_TTL_TRENDING="600",
    )
    try:
        assert "deployed tiktok_spiders" in server.deploy()
        yield server
    finally:
        server.stop()


def test_scheduled_crawl_writes_its_items_as_json_lines(scrapyd: ScrapydProcess) -> None:
    job = scrapyd.schedule("hashtag", "hashtag=food", "count=5")
    scrapyd.wait_finished(job)
    items = scrapyd.items("hashtag", job)
    assert len(items) == 5, scrapyd.log("hashtag", job)[-3000:]
    assert len({item["id"] for item in items}) == 5
    assert all(any(tag["title"] == "food" for tag in item["hashtags"]) for item in items)


def test_scheduled_trending_crawl_warms_the_service_cache(
    scrapyd: ScrapydProcess, emulator: EmulatorProcess, redis_server: RedisProcess
) -> None:
    job = scrapyd.schedule("trending")
    scrapyd.wait_finished(job)
    assert len(scrapyd.items("trending", job)) == 30, scrapyd.log("trending", job)[-3000:]
    assert "'cache_warm/stored': 1" in scrapyd.log("trending", job)
    service = ServiceProcess(emulator, CACHE_URL=redis_server.url)
    try:
        emulator.reset_stats()
        answer = service.get("/trending")
        assert (answer.status, answer.headers["x-cache"]) == (200, "HIT")
        videos = answer.json()
        assert [video["id"] for video in videos] == [item["id"] for item in scrapyd.items("trending", job)]
        assert all(
            video["video"]["url"] == f"{service.base_url}/videos/{video['id']}/play" for video in videos
        )
        assert emulator.stats()["requests"].get(RECOMMEND, 0) == 0
    finally:
        service.stop()
