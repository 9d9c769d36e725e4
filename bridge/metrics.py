"""``GET /metrics``: the service's counters in Prometheus' text format (version 0.0.4), with the
official client library, in a registry of this service's own (README "Metrics").

Two kinds of metric. What only the HTTP layer sees (each request's route, status, latency and cache
state; the play proxy's bytes) is counted as it happens, by ``observe`` (one call per finished request,
from the access log's callback) and ``play_bytes``. Everything else already has a count in the object
that owns it (the client's ``counters`` and ``calls``, its session pool, browser and breaker; the
single-flight table, the crawl slots, the rate limit): ``StateCollector`` reads those at scrape time,
so the hot paths pay an integer increment and nothing here.

No label takes a value a caller chose: routes are the route table's templates
(``/users/{uniqueId}/videos``, never a path), statuses and cache states are ours, endpoints are the API
paths the spiders call, reasons the client's error classes. ``METRICS=off``: none of this is loaded.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, PlatformCollector, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector

from tiktok_spiders.client.breaker import BreakerState

if TYPE_CHECKING:
    from collections.abc import Iterator

    from prometheus_client.metrics_core import Metric

    from bridge.admission import CrawlSlots
    from bridge.cache import AnswerCache, SingleFlight
    from bridge.health import UpstreamRecord
    from bridge.ratelimit import ClientRateLimit
    from tiktok_spiders.client import TikTokClient

PREFIX = "tiktok_fetch"
#: seconds: a hit takes about 0.2 ms, a crawl one to a few seconds, a deadline 10 s, a play longer
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
#: X-Cache as the ``cache`` label says it; ``none`` for answers that have no X-Cache
CACHE_LABELS = {"HIT": "hit", "MISS": "miss", "STALE": "stale"}
#: what an endpoint label may be: an API path of TikTok's web app (the spiders' constants)
_ENDPOINT = re.compile(r"/api/[a-z_/]{1,60}")


class ServiceMetrics:
    """The registry ``/metrics`` exposes, and what the HTTP layer counts into it."""

    content_type = CONTENT_TYPE_PLAIN_0_0_4

    def __init__(
        self,
        *,
        client: TikTokClient,
        cache: AnswerCache,
        flights: SingleFlight,
        slots: CrawlSlots,
        record: UpstreamRecord,
        rate_limit: ClientRateLimit,
    ) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            f"{PREFIX}_http_requests",
            "HTTP requests answered, by route (the route table's template) and status",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "Seconds from a request's arrival to its answer's last byte, by route and cache state",
            ["route", "cache"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.cache_answers = Counter(
            f"{PREFIX}_cache_answers",
            "Answers by X-Cache: hit (fresh from the cache), miss (crawled), stale (TikTok failed)",
            ["state"],
            registry=self.registry,
        )
        self.play = Counter(
            f"{PREFIX}_play_bytes",
            "Video bytes relayed from TikTok's CDN by /videos/{id}/play",
            registry=self.registry,
        )
        # One child per label pair, found by a dict lookup per request (``labels()`` takes a lock
        # and converts its values every time).
        self._requests: dict[tuple[str, int], Counter] = {}
        self._latency: dict[tuple[str, str | None], tuple[Histogram, Counter | None]] = {}
        self.registry.register(StateCollector(client, cache, flights, slots, record, rate_limit))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)

    def observe(self, route: str, status: int, x_cache: str | None, seconds: float) -> None:
        """One finished request (``bridge.writer.log_when_finished``)."""
        requests = self._requests.get((route, status))
        if requests is None:
            requests = self._requests[route, status] = self.requests.labels(route, str(status))
        requests.inc()
        latency = self._latency.get((route, x_cache))
        if latency is None:
            state = CACHE_LABELS.get(x_cache or "")
            latency = self._latency[route, x_cache] = (
                self.latency.labels(route, state or "none"),
                None if state is None else self.cache_answers.labels(state),
            )
        latency[0].observe(seconds)
        if latency[1] is not None:
            latency[1].inc()

    def play_bytes(self, count: int) -> None:
        self.play.inc(count)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class StateCollector(Collector):
    """The counts the service's parts keep themselves, read at scrape time."""

    def __init__(
        self,
        client: TikTokClient,
        cache: AnswerCache,
        flights: SingleFlight,
        slots: CrawlSlots,
        record: UpstreamRecord,
        rate_limit: ClientRateLimit,
    ) -> None:
        self.client = client
        self.cache = cache
        self.flights = flights
        self.slots = slots
        self.record = record
        self.rate_limit = rate_limit

    def collect(self) -> Iterator[Metric]:
        yield from self._bridge()
        yield from self._upstream()
        yield from self._client_parts()

    def _bridge(self) -> Iterator[Metric]:
        yield _gauge("cache_entries", "Answers held in this process's cache", len(self.cache))
        yield _counter(
            "singleflight_started",
            "Crawls started for a cache key (or video id) none was crawling",
            self.flights.started,
        )
        yield _counter(
            "singleflight_joins",
            "Requests that joined a crawl already in flight for their key",
            self.flights.joins,
        )
        yield _gauge("crawls_in_flight", "Crawls running now, one per key", len(self.flights))
        yield _gauge("crawls_queued", "Misses waiting for a crawl slot", self.slots.waiting)
        yield _gauge("crawl_slots_busy", "Crawl slots taken (MAX_CONCURRENT_CRAWLS)", self.slots.running)
        yield _counter("crawls", "Crawls finished (answered or failed)", self.record.crawls)
        yield _counter("rate_limited", "Requests refused with 429 by RATE_LIMIT", self.rate_limit.refused)

    def _upstream(self) -> Iterator[Metric]:
        client = self.client
        calls = CounterMetricFamily(
            f"{PREFIX}_upstream_calls",
            "Calls to TikTok by endpoint (API path), via (api: signed in the page; page: a rendered page's "
            "capture) and outcome (ok, or the refusal or failure: blocked, captcha, rate_limited, ...)",
            labels=["endpoint", "via", "outcome"],
        )
        for (endpoint, via, outcome), count in sorted(client.calls.items()):
            calls.add_metric([endpoint if _ENDPOINT.fullmatch(endpoint) else "other", via, outcome], count)
        yield calls
        retries = CounterMetricFamily(
            f"{PREFIX}_upstream_retries",
            "Upstream calls tried again, by the reason of the failed try",
            labels=["reason"],
        )
        errors = CounterMetricFamily(
            f"{PREFIX}_upstream_errors",
            "Failed tries of an upstream call or page load, sessions' openings included, by reason",
            labels=["reason"],
        )
        for key, count in sorted(client.counters.items()):
            kind, _, reason = key.partition("/")
            if kind == "retries":
                retries.add_metric([reason], count)
            elif kind == "errors":
                errors.add_metric([reason], count)
        yield retries
        yield errors
        yield _counter("page_loads", "Rendered pages loaded to capture a feed", client.counters["page_loads"])
        yield _counter(
            "strategy_switches",
            "Switches to rendered pages after TikTok refused the API",
            client.counters["strategy_switches/page"],
        )

    def _client_parts(self) -> Iterator[Metric]:
        breaker = self.client.breaker.describe()
        state = GaugeMetricFamily(
            f"{PREFIX}_breaker_state",
            "The circuit breaker on calls to TikTok: 1 for its state now",
            labels=["state"],
        )
        for each in BreakerState:
            state.add_metric([str(each)], 1.0 if breaker["state"] == each else 0.0)
        yield state
        yield _counter("breaker_trips", "Times the breaker opened (calls to TikTok paused)", breaker["trips"])
        sessions = self.client.sessions.describe()
        yield _gauge("sessions_slots", "Session slots in the pool (TIKTOK_SESSIONS)", sessions["size"])
        yield _gauge("sessions_open", "Sessions open and usable now", sessions["open"])
        yield _counter("sessions_opened", "TikTok sessions opened", sessions["opened"])
        yield _counter(
            "sessions_retired",
            "Sessions retired (TikTok distrusted them, or age or call limit)",
            sessions["retired"],
        )
        yield _counter(
            "sessions_lost", "Sessions dropped because their page or browser died", sessions["lost"]
        )
        browser = self.client.browser.describe()
        yield _gauge(
            "browser_running", "1 while the shared Chromium runs", 1.0 if browser["running"] else 0.0
        )
        yield _counter("browser_launches", "Chromium launches, the first included", browser["launches"])
        yield _counter(
            "browser_relaunches",
            "Chromium launches after the first (after a crash or kill)",
            max(0, self.client.browser.launches - 1),
        )
        yield _counter("browser_failed_launches", "Chromium launches that failed", browser["failed_launches"])
        yield _counter("browser_losses", "Times the browser or its driver was found dead", browser["losses"])


def _counter(name: str, documentation: str, value: Any) -> CounterMetricFamily:
    return CounterMetricFamily(f"{PREFIX}_{name}", documentation, value=float(value))


def _gauge(name: str, documentation: str, value: Any) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=float(value))
