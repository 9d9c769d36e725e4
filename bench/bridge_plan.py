"""What ``bench.bridge_latency`` measures and how many samples each figure takes: the ``Plan``, its
two presets (``FULL_PLAN``, ``QUICK_PLAN`` for ``--quick``) and the requests the figures are made of."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: the feed answer every latency figure is about
COUNT = 30
TRENDING = f"/trending?count={COUNT}"
#: the rate limit of figure 2's budgeted row (DESIGN.md: "with the rate limiter counting"): high enough
#: never to refuse (the full plan sends some 100,000 requests within a minute at 7,000 req/s)
RATE_LIMIT_ROW = "1000000/minute"


@dataclass(frozen=True, kw_only=True)
class Plan:
    """How many samples each figure takes."""

    #: figure 1: cached requests on one connection, after ``cached_warmup`` more
    cached_requests: int
    cached_warmup: int = 100
    #: figure 2: interleaved ``wrk`` runs per server, each this many seconds
    wrk_runs: int
    wrk_seconds: int
    #: figure 3: uncached requests (ours and stock ScrapyRT's warm-up), after ``uncached_warmup``
    uncached_warmup: int
    uncached_runs: int
    #: figure 3: stock ScrapyRT's and the textbook scrapy-playwright set-up's requests
    stock_runs: int
    textbook_runs: int
    #: figure 4: fresh processes started, ours and stock ScrapyRT each
    start_runs: int
    #: figure 5: identical uncached requests sent at once
    concurrent: int
    #: figure 6: requests before the first sample, requests sampled, clients sending them, time bound
    memory_warmup: int
    memory_requests: int
    memory_clients: int
    memory_deadline_s: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FULL_PLAN = Plan(
    cached_requests=2000,
    wrk_runs=5,
    wrk_seconds=3,
    uncached_warmup=5,
    uncached_runs=30,
    stock_runs=20,
    textbook_runs=5,
    start_runs=5,
    concurrent=100,
    memory_warmup=200,
    memory_requests=2000,
    memory_clients=4,
    memory_deadline_s=420.0,
)
#: a smoke run, about 3 minutes
QUICK_PLAN = Plan(
    cached_requests=300,
    wrk_runs=2,
    wrk_seconds=2,
    uncached_warmup=3,
    uncached_runs=10,
    stock_runs=8,
    textbook_runs=2,
    start_runs=2,
    concurrent=100,
    memory_warmup=50,
    memory_requests=200,
    memory_clients=4,
    memory_deadline_s=120.0,
)
