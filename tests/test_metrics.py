"""``GET /metrics``: scraped with the Prometheus client library's own parser, its counters move with
real requests against the emulator (a miss, a hit, 404s, a stale answer, a 429, a play, joined
crawls), it is not rate-limited, no label holds what a caller sent, and ``METRICS=off`` turns it off."""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from prometheus_client.parser import text_string_to_metric_families

from bridge.admission import CrawlSlots
from bridge.cache import MemoryCache, SingleFlight
from bridge.health import UpstreamRecord
from bridge.metrics import ServiceMetrics
from bridge.openapi import openapi_document
from bridge.ratelimit import ClientRateLimit
from harness.service import ServiceProcess
from settings.env import Config
from tiktok_spiders.client import ClientOptions, TikTokClient

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
RECOMMEND = "/api/recommend/item_list/"
CHALLENGE_ITEMS = "/api/challenge/item_list/"
#: what callers send here that must never become a label value
CALLER_CHOSEN = ("food", "nosuchhashtagxyz", "no-such-route-qq")


class Scrape:
    """One scrape of ``/metrics``: every sample's value by its name and labels."""

    def __init__(self, service: ServiceProcess) -> None:
        answer = service.get("/metrics")
        assert answer.status == 200
        assert answer.headers["content-type"] == CONTENT_TYPE
        assert answer.headers["cache-control"] == "no-store"
        self.text = answer.body.decode("utf-8")
        self.samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        for family in text_string_to_metric_families(self.text):
            for sample in family.samples:
                self.samples[sample.name, frozenset(sample.labels.items())] = sample.value

    def __call__(self, name: str, **labels: str) -> float:
        return self.samples.get((f"tiktok_fetch_{name}", frozenset(labels.items())), 0.0)

    def total(self, name: str, **labels: str) -> float:
        """The sum over the samples of ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(
            value
            for (sample, sample_labels), value in self.samples.items()
            if sample == f"tiktok_fetch_{name}" and wanted <= sample_labels
        )

    def label_values(self, label: str) -> set[str]:
        """Every value the label ``label`` has, in any sample."""
        return {value for _name, labels in self.samples for name, value in labels if name == label}


def test_counters_move_with_real_requests(service: ServiceProcess, emulator: EmulatorProcess) -> None:
    before = Scrape(service)
    first = service.get("/category?hashtag=food&count=11")
    second = service.get("/category?hashtag=food&count=11")
    unknown = service.get("/category?hashtag=nosuchhashtagxyz")
    no_route = service.get("/no-such-route-qq")
    video_id = service.get("/trending?count=20").json()[0]["id"]
    play = service.get(f"/videos/{video_id}/play")
    head = service.get("/metrics", method="HEAD")
    after = Scrape(service)

    assert (first.status, second.status, unknown.status, no_route.status, play.status) == (
        200,
        200,
        404,
        404,
        200,
    )
    assert (head.status, head.headers["content-type"], head.body) == (200, CONTENT_TYPE, b"")
    assert second.headers["x-cache"] == "HIT"

    def moved(name: str, **labels: str) -> float:
        return after(name, **labels) - before(name, **labels)

    assert moved("http_requests_total", route="/category", status="200") == 2
    assert moved("http_requests_total", route="/category", status="404") == 1
    assert moved("http_requests_total", route="unmatched", status="404") == 1
    assert moved("http_requests_total", route="/videos/{id}/play", status="200") == 1
    assert moved("http_requests_total", route="/metrics", status="200") == 2  # the HEAD, and the first scrape
    assert moved("http_request_duration_seconds_count", route="/category", cache="hit") == 1
    assert moved("http_request_duration_seconds_bucket", route="/category", cache="hit", le="+Inf") == 1
    states = Counter(answer.headers["x-cache"].lower() for answer in (first, second))
    for state, count in states.items():
        assert moved("cache_answers_total", state=state) >= count
    if first.headers["x-cache"] == "MISS":  # crawled now, not by an earlier test of this service
        assert moved("upstream_calls_total", endpoint=CHALLENGE_ITEMS, via="api", outcome="ok") >= 1
        assert moved("singleflight_started_total") >= 2  # that crawl and the unknown hashtag's
        assert moved("crawls_total") >= 2
    assert moved("play_bytes_total") == len(play.body) > 0
    assert after("sessions_open") >= 1
    assert after("sessions_opened_total") >= 1
    assert after("browser_running") == 1
    assert after("browser_launches_total") >= 1
    assert after("breaker_state", state="closed") == 1
    assert after("breaker_state", state="open") == after("breaker_state", state="half_open") == 0
    assert after("crawls_in_flight") == after("crawls_queued") == 0
    assert after.total("upstream_calls_total") >= 1
    assert "process_resident_memory_bytes" in after.text

    # No label holds what a caller sent: not the hashtag, not the path, not the video id. Routes are
    # the documented templates, endpoints TikTok's API paths.
    for sent in (*CALLER_CHOSEN, str(video_id)):
        assert sent not in after.text
    assert after.label_values("route") <= {*openapi_document()["paths"], "unmatched"}
    assert all(re.fullmatch(r"/api/[a-z_/]+", endpoint) for endpoint in after.label_values("endpoint"))


def test_identical_misses_at_once_join_one_crawl(service: ServiceProcess, emulator: EmulatorProcess) -> None:
    before = Scrape(service)
    emulator.set_faults({"latency_ms": 500})  # keeps the crawl in flight while the others arrive
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(
            pool.map(lambda _: service.get("/category?hashtag=food&count=23", timeout=30), range(6))
        )
    emulator.set_faults({})
    after = Scrape(service)
    assert [answer.status for answer in answers] == [200] * 6
    misses = sum(answer.headers["x-cache"] == "MISS" for answer in answers)
    assert misses >= 2
    assert after("singleflight_joins_total") - before("singleflight_joins_total") == misses - 1
    assert after("singleflight_started_total") - before("singleflight_started_total") == 1


def test_a_stale_answer_retries_and_a_tripped_breaker_are_counted(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(
        emulator,
        CACHE_TTL_TRENDING="0",
        UPSTREAM_TIMEOUT="120",
        TIKTOK_RETRY_BACKOFF="0.05",
        BREAKER_THRESHOLD="1",
        BREAKER_COOLDOWN="600",
    )
    try:
        fresh = service.get("/trending?count=5")
        emulator.set_faults({"empty_body": 1.0})
        stale = service.get("/trending?count=5", timeout=150)
        scrape = Scrape(service)
    finally:
        service.stop()
    assert (fresh.headers["x-cache"], stale.status, stale.headers["x-cache"]) == ("MISS", 200, "STALE")
    assert scrape("cache_answers_total", state="miss") == 1
    assert scrape("cache_answers_total", state="stale") == 1
    assert scrape("http_request_duration_seconds_count", route="/trending", cache="stale") == 1
    assert scrape("http_requests_total", route="/trending", status="200") == 2
    assert scrape("upstream_calls_total", endpoint=RECOMMEND, via="api", outcome="ok") >= 1
    assert (
        scrape.total("upstream_calls_total", endpoint=RECOMMEND, outcome="blocked") >= 1
    )  # the refusal's reason
    assert scrape("upstream_retries_total", reason="blocked") >= 1
    assert scrape("upstream_errors_total", reason="blocked") >= 1
    assert scrape("sessions_retired_total") >= 1  # TikTok distrusted them
    assert scrape("breaker_trips_total") == 1
    assert scrape("breaker_state", state="open") == 1
    assert scrape("breaker_state", state="closed") == 0


def test_rate_limit_refusals_are_counted_and_metrics_is_not_limited(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator, RATE_LIMIT="2/minute")
    try:
        statuses = [service.get("/trending?count=3").status for _ in range(3)]
        scrapes = [Scrape(service) for _ in range(4)]  # more than the limit: none is refused
    finally:
        service.stop()
    assert statuses == [200, 200, 429]
    last = scrapes[-1]
    assert last("rate_limited_total") == 1
    assert last("http_requests_total", route="/trending", status="429") == 1
    assert last("http_requests_total", route="/metrics", status="200") == 3  # the scrapes before this one


def test_metrics_off_is_404(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator, METRICS="off")
    try:
        answer = service.get("/metrics")
        head = service.get("/metrics", method="HEAD")
        health = service.get("/health")
    finally:
        service.stop()
    assert (answer.status, answer.json()["code"], head.status) == (404, "not_found", 404)
    assert health.status in (200, 503)


def test_labels_are_bounded_whatever_the_counts_hold() -> None:
    """In process: an endpoint that is not an API path is ``other``; X-Cache values become the four
    cache states; what the client counts by reason is exported by that reason."""
    client = TikTokClient(ClientOptions.from_config(Config()))
    client.calls[RECOMMEND, "api", "ok"] += 2
    client.calls["/tag/some hashtag", "page", "blocked"] += 1  # never so in the client; still bounded
    client.counters.update({"retries/captcha": 1, "errors/captcha": 2, "api_calls": 3})
    metrics = ServiceMetrics(
        client=client,
        cache=MemoryCache(stale_max=60),
        flights=SingleFlight(),
        slots=CrawlSlots(2, 0, 10.0),
        record=UpstreamRecord(),
        rate_limit=ClientRateLimit("off"),
    )
    for x_cache in ("HIT", "MISS", "STALE", None):
        metrics.observe("/trending", 200, x_cache, 0.001)
    metrics.observe("/trending", 200, "HIT", 0.002)
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for sample in family.samples
    }

    def value(name: str, **labels: str) -> float:
        return samples[f"tiktok_fetch_{name}", frozenset(labels.items())]

    assert value("upstream_calls_total", endpoint=RECOMMEND, via="api", outcome="ok") == 2
    assert value("upstream_calls_total", endpoint="other", via="page", outcome="blocked") == 1
    assert (
        value("upstream_retries_total", reason="captcha"),
        value("upstream_errors_total", reason="captcha"),
    ) == (1, 2)
    assert value("http_requests_total", route="/trending", status="200") == 5
    counts = {
        state: value("http_request_duration_seconds_count", route="/trending", cache=state)
        for state in ("hit", "miss", "stale", "none")
    }
    assert counts == {"hit": 2, "miss": 1, "stale": 1, "none": 1}
    assert value("cache_answers_total", state="hit") == 2
    states = {dict(labels)["state"] for name, labels in samples if name == "tiktok_fetch_cache_answers_total"}
    assert states == {"hit", "miss", "stale"}  # an answer with no X-Cache is no cache answer
