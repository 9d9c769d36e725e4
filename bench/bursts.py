"""Bursts of distinct misses: N concurrent uncached requests, each for a different page of a hashtag
feed, against the service as it is (the crawl queue, ``MAX_QUEUED_CRAWLS=64``) and against the
service with the queue off (``MAX_QUEUED_CRAWLS=0``: every miss beyond ``MAX_CONCURRENT_CRAWLS`` is
refused at once, as before the queue), at 0 and +100 ms emulator latency. Printed per row: the share
answered 200, the 503s, and the p50/p95 time to an answer (any status)::

    .venv/bin/python -m bench.bursts [--bursts 40,200] [--latencies 0,100] [--runs 3]

Every run starts both services afresh (empty caches); the rate limit is off, so only the crawl slots
and the queue decide. The figures are medians over ``--runs``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bench.bridge_processes import start_service
from harness.emulator import EmulatorProcess
from harness.http import http_request

SETUPS = {"queue off (before)": "0", "queue on (64)": "64"}
#: bursts upstream can serve within the deadline: at TIKTOK_RATE (20/s) and 4 calls in flight, 40
#: crawls of one call each take about 2 s, far inside UPSTREAM_TIMEOUT; 200 overflow the queue of 64
FITS_IN_TIME = 40


@dataclass(frozen=True)
class Burst:
    answered: float  # share of 200s
    refused: int  # 503s
    p50_ms: float
    p95_ms: float


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def one_burst(base_url: str, size: int, first_cursor: int) -> Burst:
    def fetch(n: int) -> tuple[int, float]:
        started = time.perf_counter()
        # distinct cache keys: pages of food's 2,400-item feed, five videos each
        answer = http_request(
            f"{base_url}/category?hashtag=food&count=5&cursor={first_cursor + n * 5}", timeout=60
        )
        return answer.status, (time.perf_counter() - started) * 1000

    with ThreadPoolExecutor(max_workers=size) as pool:
        results = list(pool.map(fetch, range(size)))
    statuses = [status for status, _ms in results]
    times = [ms for _status, ms in results]
    return Burst(
        statuses.count(200) / size, statuses.count(503), percentile(times, 0.5), percentile(times, 0.95)
    )


def measure(emulator: EmulatorProcess, queued: str, size: int, runs: int) -> Burst:
    bursts = []
    for run in range(runs):
        service, base_url = start_service(emulator, MAX_QUEUED_CRAWLS=queued, RATE_LIMIT="off")
        try:
            # a session open and food's challenge id known: the burst measures crawls, not set-up
            assert (
                http_request(f"{base_url}/category?hashtag=food&count=5&cursor=2395", timeout=60).status
                == 200
            )
            bursts.append(one_burst(base_url, size, first_cursor=run * 1000 % 1200))
        finally:
            service.stop()
    return Burst(
        statistics.median(b.answered for b in bursts),
        int(statistics.median(b.refused for b in bursts)),
        statistics.median(b.p50_ms for b in bursts),
        statistics.median(b.p95_ms for b in bursts),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bursts", default="40,200", help="burst sizes, comma-separated")
    parser.add_argument("--latencies", default="0,100", help="emulator latencies in ms, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'latency':>8} {'burst':>6} {'setup':<20} {'200s':>6} {'503s':>5} {'p50 ms':>8} {'p95 ms':>8}")
    verdicts: list[str] = []
    for latency in (int(v) for v in args.latencies.split(",")):
        emulator = EmulatorProcess("--latency-ms", str(latency))
        try:
            for size in (int(v) for v in args.bursts.split(",")):
                for setup, queued in SETUPS.items():
                    burst = measure(emulator, queued, size, args.runs)
                    print(
                        f"{latency:>6}ms {size:>6} {setup:<20} {burst.answered:>6.0%} {burst.refused:>5}"
                        f" {burst.p50_ms:>8.0f} {burst.p95_ms:>8.0f}",
                        flush=True,
                    )
                    if size <= FITS_IN_TIME and queued != "0":
                        state = "met" if burst.answered == 1.0 else "MISSED"
                        verdicts.append(
                            f"  {size} distinct misses at +{latency} ms, queue on: {burst.answered:.0%} answered"
                            f"  budget 100%  {state}"
                        )
        finally:
            emulator.stop()
    print(
        "\nbudgets (issue #17: a burst upstream can serve within UPSTREAM_TIMEOUT is answered, not refused)"
    )
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
