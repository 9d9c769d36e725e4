"""The TikTok middleware: the one way a spider reaches the client; what each call counted lands in the
crawl's stats under ``tiktok/...`` (in process, with the fake session pool of ``test_breaker``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import scrapy
from scrapy.utils.test import get_crawler

from tests.aio import run_async
from tests.test_breaker import client_with
from tiktok_spiders.client.session import ApiAnswer
from tiktok_spiders.errors import NotFound, UpstreamUnavailable
from tiktok_spiders.middlewares import TikTokApiMiddleware

if TYPE_CHECKING:
    from typing import Any

    from scrapy.statscollectors import StatsCollector

    from tiktok_spiders.client import TikTokClient

CHALLENGE = '{"statusCode": 0, "challengeInfo": {"challenge": {"id": "42", "title": "food"}}}'


def middleware(client: TikTokClient) -> tuple[TikTokApiMiddleware, StatsCollector]:
    crawler = get_crawler(scrapy.Spider)
    assert crawler.stats is not None
    return TikTokApiMiddleware(crawler, client), crawler.stats


def api_request(call: dict[str, Any]) -> scrapy.Request:
    return scrapy.Request("http://127.0.0.1:9/api/", meta={"tiktok_api": call})


def tiktok_stats(stats: StatsCollector) -> dict[str, Any]:
    return {key: value for key, value in stats.get_stats().items() if key.startswith("tiktok/")}


def test_a_call_adds_what_it_counted_to_the_crawl_stats() -> None:
    client, _clock = client_with(
        [ApiAnswer(503, ""), ApiAnswer(200, '{"statusCode": 0, "n": 1}')], threshold=5
    )
    answering, stats = middleware(client)
    request = api_request({"path": "/api/recommend/item_list/", "params": {"count": 1}})
    response = run_async(answering.process_request(request))
    assert response is not None and response.status == 200
    assert request.meta["tiktok_payload"] == {"statusCode": 0, "n": 1}
    assert tiktok_stats(stats) == {
        "tiktok/api_calls": 2,
        "tiktok/errors/unavailable": 1,
        "tiktok/retries/unavailable": 1,
    }


def test_a_failed_call_adds_its_counts_then_raises() -> None:
    client, _clock = client_with([ApiAnswer(503, ""), ApiAnswer(503, "")], threshold=5)
    answering, stats = middleware(client)
    with pytest.raises(UpstreamUnavailable):
        run_async(answering.process_request(api_request({"path": "/api/x/", "params": {}})))
    assert tiktok_stats(stats) == {
        "tiktok/api_calls": 2,
        "tiktok/errors/unavailable": 2,
        "tiktok/retries/unavailable": 1,
    }


def test_the_challenge_is_looked_up_once_per_process_and_name() -> None:
    client, _clock = client_with([ApiAnswer(200, CHALLENGE)], threshold=5)
    answering, stats = middleware(client)
    for name in ("food", "FOOD"):
        request = api_request({"challenge": name})
        run_async(answering.process_request(request))
        assert request.meta["tiktok_challenge_id"] == "42"
    assert tiktok_stats(stats) == {"tiktok/api_calls": 1}


def test_a_refused_challenge_lookup_leaves_it_to_the_page() -> None:
    client, _clock = client_with([ApiAnswer(403, ""), ApiAnswer(403, "")], threshold=5)
    answering, stats = middleware(client)
    request = api_request({"challenge": "food"})
    run_async(answering.process_request(request))
    assert request.meta["tiktok_challenge_id"] == ""
    assert tiktok_stats(stats)["tiktok/errors/blocked"] == 2


def test_an_unknown_hashtag_raises_not_found_with_its_count() -> None:
    client, _clock = client_with([ApiAnswer(200, '{"statusCode": 10205}')], threshold=5)
    answering, stats = middleware(client)
    with pytest.raises(NotFound):
        run_async(answering.process_request(api_request({"challenge": "nosuchtag"})))
    assert tiktok_stats(stats) == {"tiktok/api_calls": 1, "tiktok/errors/not_found": 1}


def test_other_requests_pass_through() -> None:
    client, _clock = client_with([])
    answering, stats = middleware(client)
    assert run_async(answering.process_request(scrapy.Request("http://127.0.0.1:9/"))) is None
    assert tiktok_stats(stats) == {}
