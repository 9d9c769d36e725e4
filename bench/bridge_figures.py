"""The measurements ``bench.bridge_latency`` takes: sequential latency on one keep-alive connection,
process start to first answer, concurrent identical requests (single flight), memory over many
uncached requests, and ``wrk`` throughput."""

from __future__ import annotations

import http.client
import re
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.bridge_plan import COUNT, Plan
from bench.bridge_processes import check_crawl_answer
from bench.procs import KeepAliveClient, tree_memory
from harness.emulator import EmulatorProcess
from harness.http import http_request
from tiktok_spiders.spiders.trending import RECOMMEND

#: how long the Chromium process count may take to settle after the last request (figure 6)
SETTLE_S = 10.0


def sequential(base_url: str, path: str, runs: int, warmup: int, what: str) -> list[float]:
    """Seconds per request for ``runs`` requests on one keep-alive connection, after ``warmup``."""
    client = KeepAliveClient(base_url, timeout=120.0)
    samples: list[float] = []
    try:
        for number in range(warmup + runs):
            status, body, elapsed = client.get(path)
            check_crawl_answer(status, body, what)
            if number >= warmup:
                samples.append(elapsed)
    finally:
        client.close()
    return samples


def first_answer(start: Any, path_of: Any, what: str, timeout: float = 60.0) -> float:
    """Seconds from starting the process (``start()`` returns (handle, base_url, stop)) to the first 200
    of the feed route, asked as soon as the process listens."""
    started = time.monotonic()
    handle, base_url, stop = start()
    try:
        deadline = started + timeout
        while time.monotonic() < deadline:
            answer = http_request(base_url + path_of(handle), timeout=timeout)
            if answer.status == 200:
                check_crawl_answer(answer.status, answer.body, what)
                return time.monotonic() - started
            time.sleep(0.02)
        raise RuntimeError(f"{what}: no 200 within {timeout} s")
    finally:
        stop()


def concurrent_identical(emulator: EmulatorProcess, base_url: str, path: str, clients: int) -> dict[str, Any]:
    """``clients`` simultaneous identical requests; the upstream feed fetches they caused."""
    emulator.reset_stats()
    barrier = threading.Barrier(clients, timeout=30)

    def one(_: int) -> tuple[int, str]:
        barrier.wait()
        answer = http_request(base_url + path, timeout=120)
        return answer.status, answer.headers.get("x-cache", "-")

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        outcomes = list(pool.map(one, range(clients)))
    elapsed = time.monotonic() - started
    fetches = int(emulator.stats()["requests"][RECOMMEND])
    statuses: dict[str, int] = {}
    caches: dict[str, int] = {}
    for status, cache in outcomes:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        caches[cache] = caches.get(cache, 0) + 1
    return {
        "clients": clients,
        "feed_fetches": fetches,
        "statuses": statuses,
        "x_cache": caches,
        "elapsed_s": elapsed,
    }


def memory_over(pid: int, base_url: str, path_of: Any, plan: Plan, what: str) -> dict[str, Any]:
    """RSS (and PSS) and Chromium processes of ``pid``'s tree over ``plan.memory_requests`` uncached
    requests from ``plan.memory_clients`` clients (each its own ``count``: no shared flights), after
    ``plan.memory_warmup`` requests that bring the heaps (Python's, the Playwright driver's, the page's)
    to their working size; the figure is the growth from there, the tree at start is reported too."""
    samples: list[dict[str, Any]] = []

    def sample(done: int) -> None:
        memory = tree_memory(pid)
        samples.append(
            {
                "requests": done,
                "rss_mib": round(memory.rss_mib, 1),
                "pss_mib": round(memory.pss_mib, 1),
                "processes": memory.processes,
                "chromium_processes": memory.chromium_processes,
            }
        )

    failures = 0
    statuses_seen: dict[str, int] = {}
    errors: dict[str, int] = {}
    deadline = time.monotonic() + plan.memory_deadline_s

    def one(number: int) -> int:
        if time.monotonic() > deadline:
            return -1
        count = COUNT - number % plan.memory_clients
        try:
            return http_request(base_url + path_of(count), timeout=120).status
        except (OSError, http.client.HTTPException) as error:  # counted, and reported with the figure
            name = type(error).__name__
            errors[name] = errors.get(name, 0) + 1
            return 0

    with ThreadPoolExecutor(max_workers=plan.memory_clients) as pool:
        for count in range(COUNT - plan.memory_clients + 1, COUNT + 1):  # the first crawl of each key
            answer = http_request(base_url + path_of(count), timeout=120)
            check_crawl_answer(answer.status, answer.body, what)
        at_start = tree_memory(pid)
        warmed = list(pool.map(one, range(plan.memory_warmup)))
        failures += sum(1 for status in warmed if status != 200)
        sample(0)
        started = time.monotonic()
        deadline = started + plan.memory_deadline_s
        done = 0
        chunk = max(plan.memory_clients, plan.memory_requests // 10)
        while done < plan.memory_requests and time.monotonic() < deadline:
            batch = range(done, min(plan.memory_requests, done + chunk))
            statuses = list(pool.map(one, batch))
            done += sum(1 for status in statuses if status != -1)
            failures += sum(1 for status in statuses if status not in (200, -1))
            for status in statuses:
                statuses_seen[str(status)] = statuses_seen.get(str(status), 0) + 1
            sample(done)
    elapsed = time.monotonic() - started
    # A session renewed in the last moments leaves its old page's renderer closing beside the new one:
    # count the processes again once that is over (bounded), so a transient is not read as growth.
    settle_until = time.monotonic() + SETTLE_S
    while (
        samples[-1]["chromium_processes"] != samples[0]["chromium_processes"]
        and time.monotonic() < settle_until
    ):
        time.sleep(0.25)
        samples[-1]["chromium_processes"] = tree_memory(pid).chromium_processes
    before, after = samples[0], samples[-1]

    def growth(key: str) -> float:
        return (after[key] - before[key]) / before[key] if before[key] else 0.0

    return {
        "warmup_requests": plan.memory_warmup,
        "rss_at_start_mib": round(at_start.rss_mib, 1),
        "pss_at_start_mib": round(at_start.pss_mib, 1),
        "requests": done,
        "failures": failures,
        "errors": errors,
        "statuses": statuses_seen,
        "elapsed_s": elapsed,
        "samples": samples,
        "rss_before_mib": before["rss_mib"],
        "rss_after_mib": after["rss_mib"],
        "rss_growth": growth("rss_mib"),
        "rss_peak_mib": max(each["rss_mib"] for each in samples),
        "pss_before_mib": before["pss_mib"],
        "pss_after_mib": after["pss_mib"],
        "pss_growth": growth("pss_mib"),
        "chromium_before": before["chromium_processes"],
        "chromium_after": after["chromium_processes"],
        "completed": done >= plan.memory_requests,
    }


def wrk_rate(url: str, seconds: int) -> dict[str, Any]:
    """One ``wrk -t2 -c32`` run: requests per second and the answers that were not 2xx/3xx."""
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--timeout", "10s", url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr[-500:]}")
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", done.stdout, re.M)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", done.stdout)
    socket_errors = re.search(r"Socket errors: (.*)$", done.stdout, re.M)
    if rate is None:
        raise RuntimeError(f"wrk printed no rate: {done.stdout[-500:]}")
    return {
        "rps": float(rate.group(1)),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else None,
    }


def rates(runs: list[dict[str, Any]]) -> dict[str, Any]:
    values = sorted(run["rps"] for run in runs)
    return {
        "n": len(values),
        "median_rps": statistics.median(values) if values else 0.0,
        "min_rps": values[0] if values else 0.0,
        "max_rps": values[-1] if values else 0.0,
        "runs_rps": values,
        "non_2xx": sum(run["non_2xx"] for run in runs),
        "socket_errors": [run["socket_errors"] for run in runs if run["socket_errors"]],
    }
