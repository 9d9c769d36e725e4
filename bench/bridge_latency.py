"""Latency, throughput, start-up, single-flight and memory of the HTTP service (``python -m bridge``),
DESIGN.md section 5, each beside a baseline measured in the same run.

    .venv/bin/python -m bench.bridge_latency [--quick]

Baselines: stock ScrapyRT (``scrapyrt -p PORT -i 127.0.0.1``, its ``/crawl.json`` running the same
``trending`` spider; it has no cache, so its "cached" figure is its per-request latency); a bare Twisted
server returning the same bytes (``bench.bare_server``) for throughput; the direct signed GET of the same
upstream answer (``ScriptSession`` signing, no browser) for the uncached overhead; and, for figure 3, the
textbook scrapy-playwright set-up (``bench.baseline_spider``, a browser per crawl) behind stock ScrapyRT.

Every process runs on loopback, in its own process group, and is stopped in ``finally``. Prints a table and
writes the figures to ``bench/results/bridge_latency.json``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from bench.crawl_latency import direct_gets, machine, summary
from bench.procs import KeepAliveClient, ManagedProcess, free_port, tree_memory
from tests.support import ROOT, EmulatorProcess, http_request

RESULTS = ROOT / "bench" / "results" / "bridge_latency.json"
T = TypeVar("T")
VENV_BIN = Path(sys.executable).parent
SERVING = re.compile(r"^serving on (http://127\.0\.0\.1:\d+)$")
BARE_LISTENING = re.compile(r"^bare server listening on (http://127\.0\.0\.1:\d+)$")
FEED_ROUTE = "/api/recommend/item_list/"
TRENDING = "/trending?count=30"
COUNT = 30

# budgets (DESIGN.md section 5)
CACHED_P50_BUDGET_MS = 1.0
THROUGHPUT_RATIO_BUDGET = 0.5
UNCACHED_BEYOND_BUDGET_MS = 40.0
FIRST_ANSWER_BUDGET_MS = 3000.0
#: "flat": RSS grows by at most this fraction over the requests, and the Chromium count does not change
MEMORY_GROWTH_BUDGET = 0.10
#: how long the Chromium process count may take to settle after the last request (figure 6)
SETTLE_S = 10.0
RATE_LIMIT_ROW = "120000/minute"


@dataclass(frozen=True)
class Plan:
    """How many samples each figure takes (``--quick`` takes fewer)."""

    cached_requests: int
    wrk_runs: int
    wrk_seconds: int
    uncached_warmup: int
    uncached_runs: int
    stock_runs: int
    textbook_runs: int
    start_runs: int
    concurrent: int
    memory_warmup: int
    memory_requests: int
    memory_clients: int
    memory_deadline_s: float

    @classmethod
    def of(cls, quick: bool) -> Plan:
        if quick:
            return cls(300, 2, 2, 3, 10, 8, 2, 2, 100, 50, 200, 4, 120.0)
        return cls(2000, 5, 3, 5, 30, 20, 5, 5, 100, 200, 2000, 4, 420.0)


# --- the processes ---------------------------------------------------------------------------------


def start_service(emulator: EmulatorProcess, **env: str) -> tuple[ManagedProcess, str]:
    environment = {
        "HOST": "127.0.0.1",
        "PORT": "0",
        "TIKTOK_BASE_URL": emulator.base_url,
        "RATE_LIMIT": "off",
        **env,
    }
    service = ManagedProcess([sys.executable, "-m", "bridge"], env=environment, name="bridge")
    try:
        return service, service.wait_line(SERVING, timeout=30).group(1)
    except BaseException:
        service.stop()
        raise


class StockScrapyRT:
    """``scrapyrt -p PORT -i 127.0.0.1`` in the repository (bench.scrapyrt_settings), its per-crawl
    DEBUG log files in a temporary LOG_DIR that is removed on stop."""

    def __init__(self, emulator: EmulatorProcess, textbook: bool = False) -> None:
        self.logs = Path(tempfile.mkdtemp(prefix="bench-scrapyrt-logs-"))
        self.port = free_port()
        argv = [
            str(VENV_BIN / "scrapyrt"),
            "-p",
            str(self.port),
            "-i",
            "127.0.0.1",
            "-s",
            f"LOG_DIR={self.logs}",
        ]
        # The project's settings with the environment's configuration (TIKTOK_BASE_URL) applied, plus
        # bench.baseline_spider among the spider modules.
        argv += ["-s", "PROJECT_SETTINGS=bench.scrapyrt_settings"]
        self.spider = "baseline_trending" if textbook else "trending"
        self.started = time.monotonic()
        self.process = ManagedProcess(
            argv, env={"TIKTOK_BASE_URL": emulator.base_url}, read_stdout=False, name="scrapyrt"
        )
        self.base_url = f"http://127.0.0.1:{self.port}"
        try:
            self.process.wait_port(self.port, timeout=30)
        except BaseException:
            self.stop()
            raise

    def path(self, count: int = COUNT) -> str:
        query = {
            "spider_name": self.spider,
            "spider_start": "true",
            "crawl_args": json.dumps({"count": count}),
        }
        return "/crawl.json?" + urlencode(query)

    def stop(self) -> None:
        try:
            self.process.stop()
        finally:
            shutil.rmtree(self.logs, ignore_errors=True)


def check_crawl_answer(status: int, body: bytes, what: str) -> None:
    if status != 200:
        raise RuntimeError(f"{what}: HTTP {status}: {body[:300]!r}")
    if body.startswith(b"{"):  # ScrapyRT's envelope
        answer = json.loads(body)
        if answer.get("status") != "ok" or not answer.get("items"):
            raise RuntimeError(f"{what}: {str(answer)[:300]}")
    elif body == b"[]":
        raise RuntimeError(f"{what}: no videos")


def wait_session(base_url: str, timeout: float = 30.0) -> None:
    """Until the service's /health says its browser session is open."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = http_request(base_url + "/health")
        health = answer.json() if answer.status == 200 else {}
        # {"session": {"open": true}} before #7, {"sessions": {"open": 1, ...}} (a pool) since
        if any(
            isinstance(part, dict) and part.get("open")
            for part in (health.get("session"), health.get("sessions"))
        ):
            return
        time.sleep(0.05)
    raise RuntimeError("the service opened no TikTok session in time")


# --- measurements ----------------------------------------------------------------------------------


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
    fetches = int(emulator.stats()["requests"][FEED_ROUTE])
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


# --- the phases ------------------------------------------------------------------------------------


def first_answers(emulator: EmulatorProcess, plan: Plan, result: dict[str, Any]) -> None:
    """Figure 4: process start to the first 200, fresh processes, ours and stock ScrapyRT in turn."""
    ours: list[float] = []
    stock: list[float] = []

    def start_ours() -> tuple[Any, str, Any]:
        service, base_url = start_service(emulator)
        return service, base_url, service.stop

    def start_stock() -> tuple[Any, str, Any]:
        scrapyrt = StockScrapyRT(emulator)
        return scrapyrt, scrapyrt.base_url, scrapyrt.stop

    for _ in range(plan.start_runs):
        ours.append(first_answer(start_ours, lambda _handle: TRENDING, "bridge first answer"))
        stock.append(first_answer(start_stock, lambda handle: handle.path(), "scrapyrt first answer"))
    result["first_answer"] = {"ours": summary(ours), "stock_scrapyrt": summary(stock)}


def cached_figures(emulator: EmulatorProcess, plan: Plan, result: dict[str, Any], body_file: Path) -> None:
    """Figures 5 (ours), 1 and 2 on one service with the default cache TTL."""
    service, base_url = start_service(emulator)
    bare: list[ManagedProcess] = []
    try:
        wait_session(base_url)
        result["single_flight"] = {
            "ours": concurrent_identical(emulator, base_url, "/trending?count=29", plan.concurrent)
        }
        answer = http_request(base_url + TRENDING, timeout=60)
        check_crawl_answer(answer.status, answer.body, "bridge cached")
        body_file.write_bytes(answer.body)
        samples = sequential(base_url, TRENDING, plan.cached_requests, 100, "bridge cached")
        result["cached"] = {"ours": summary(samples), "body_bytes": len(answer.body)}
        if shutil.which("wrk") is None:
            result["throughput"] = {
                "skipped": "wrk is not installed: apt-get install -y wrk (make bench installs it)"
            }
            print(f"figure 2 skipped: {result['throughput']['skipped']}", file=sys.stderr)
            return
        urls: dict[str, str] = {"ours": base_url + TRENDING}
        for reactor in ("asyncio", "default"):
            server = ManagedProcess(
                [sys.executable, "-m", "bench.bare_server", str(body_file), "--reactor", reactor], name="bare"
            )
            bare.append(server)
            urls[f"bare_{reactor}"] = server.wait_line(BARE_LISTENING, timeout=20).group(1) + TRENDING
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in urls}
        for url in urls.values():  # warm-up, not counted
            wrk_rate(url, 1)
        processes = {"ours": service, "bare_asyncio": bare[0], "bare_default": bare[1]}
        for _ in range(plan.wrk_runs):  # interleaved, so drifts of the machine hit every server alike
            for name, url in urls.items():
                try:
                    runs[name].append(wrk_rate(url, plan.wrk_seconds))
                except RuntimeError as error:
                    states = {each: process.proc.poll() for each, process in processes.items()}
                    raise RuntimeError(
                        f"{name}: {error}; exit codes (None = running): {states}; "
                        f"its log: {processes[name].log_tail(1500)}"
                    ) from None
        result["throughput"] = {name: rates(values) for name, values in runs.items()}
    finally:
        for server in bare:
            server.stop()
        service.stop()
    if "skipped" in result["throughput"]:
        return
    # The rate limiter's cost: its own fresh service, so that no earlier hit counts against the window.
    service, base_url = start_service(emulator, RATE_LIMIT=RATE_LIMIT_ROW)
    try:
        wait_session(base_url)
        answer = http_request(base_url + TRENDING, timeout=60)
        check_crawl_answer(answer.status, answer.body, "bridge cached, rate limited")
        limited = [wrk_rate(base_url + TRENDING, plan.wrk_seconds) for _ in range(plan.wrk_runs)]
        result["throughput"]["ours_rate_limited"] = rates(limited)
    finally:
        service.stop()


def uncached_ours(emulator: EmulatorProcess, plan: Plan, with_memory: bool) -> dict[str, Any]:
    """Figure 3 (and 6 when ``with_memory``) on a service whose every request is a miss."""
    service, base_url = start_service(emulator, CACHE_TTL_TRENDING="0", CACHE_STALE_MAX="0")
    try:
        wait_session(base_url)
        figures: dict[str, Any] = {
            "latency": summary(
                sequential(base_url, TRENDING, plan.uncached_runs, plan.uncached_warmup, "bridge uncached")
            )
        }
        if with_memory:
            figures["memory"] = memory_over(
                service.pid, base_url, lambda count: f"/trending?count={count}", plan, "bridge uncached"
            )
            figures["memory"]["alive_after"] = service.proc.poll() is None
            if figures["memory"]["failures"]:
                figures["memory"]["log_tail"] = service.log_tail(4000)
        return figures
    finally:
        service.stop()


def stock_figures(emulator: EmulatorProcess, plan: Plan, with_extras: bool, textbook: bool) -> dict[str, Any]:
    """The same through stock ScrapyRT: per-request latency (figures 1 and 3) and, with extras, figures 5
    and 6."""
    scrapyrt = StockScrapyRT(emulator, textbook=textbook)
    try:
        runs = plan.textbook_runs if textbook else plan.stock_runs
        warmup = 1 if textbook else plan.uncached_warmup
        figures: dict[str, Any] = {
            "latency": summary(sequential(scrapyrt.base_url, scrapyrt.path(), runs, warmup, "scrapyrt"))
        }
        if with_extras:
            figures["single_flight"] = concurrent_identical(
                emulator, scrapyrt.base_url, scrapyrt.path(29), plan.concurrent
            )
            figures["memory"] = memory_over(
                scrapyrt.process.pid, scrapyrt.base_url, scrapyrt.path, plan, "scrapyrt"
            )
            figures["memory"]["alive_after"] = scrapyrt.process.proc.poll() is None
            if figures["memory"]["failures"]:
                figures["memory"]["log_tail"] = scrapyrt.process.log_tail(4000)
        return figures
    finally:
        scrapyrt.stop()


def guarded(what: str, work: Callable[[], T]) -> T | dict[str, Any]:
    """``work()``, or ``{"error": ...}`` when it fails: one failed figure does not lose the others."""
    print(f"{what} ...", file=sys.stderr, flush=True)
    try:
        return work()
    except Exception as error:
        print(f"{what} FAILED: {error}", file=sys.stderr, flush=True)
        return {"error": f"{type(error).__name__}: {error}"[:4000]}


def measure(plan: Plan, latencies: tuple[int, ...]) -> dict[str, Any]:
    result: dict[str, Any] = {"machine": machine(), "plan": plan.__dict__, "uncached": {}}
    wrk = shutil.which("wrk")
    result["machine"]["wrk"] = (
        subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False).stdout.splitlines()[0]
        if wrk
        else None
    )
    with tempfile.TemporaryDirectory(prefix="bench-bridge-") as scratch:
        for latency in latencies:
            extras = latency == latencies[0]
            emulator = EmulatorProcess("--latency-ms", str(latency))
            try:
                if extras:
                    failed = guarded(
                        "figure 4: first answers after start", partial(first_answers, emulator, plan, result)
                    )
                    if failed:
                        result["first_answer"] = failed
                    failed = guarded(
                        "figures 5, 1, 2: cached service, wrk",
                        partial(cached_figures, emulator, plan, result, Path(scratch) / "trending.json"),
                    )
                    if failed:
                        result.setdefault("throughput", failed)
                direct = guarded(
                    f"figure 3 at {latency} ms: direct GETs",
                    partial(direct_gets, emulator.base_url, plan.uncached_runs, plan.uncached_warmup),
                )
                ours = guarded(
                    f"figures 3, 6 at {latency} ms: bridge",
                    partial(uncached_ours, emulator, plan, with_memory=extras),
                )
                stock = guarded(
                    f"figures 3, 5, 6 at {latency} ms: stock ScrapyRT",
                    partial(stock_figures, emulator, plan, with_extras=extras, textbook=False),
                )
                textbook = guarded(
                    f"figure 3 at {latency} ms: textbook baseline",
                    partial(stock_figures, emulator, plan, with_extras=False, textbook=True),
                )
            finally:
                emulator.stop()
            result["uncached"][str(latency)] = {
                "direct_api": direct.get("api", direct),
                "ours": ours.get("latency", ours),
                "stock_scrapyrt": stock.get("latency", stock),
                "textbook": textbook.get("latency", textbook),
            }
            if extras:
                if isinstance(result.get("cached"), dict):
                    result["cached"]["stock_scrapyrt"] = stock.get("latency", stock)
                if isinstance(result.get("single_flight"), dict):
                    result["single_flight"]["stock_scrapyrt"] = stock.get("single_flight", stock)
                result["memory"] = {
                    "ours": ours.get("memory", ours),
                    "stock_scrapyrt": stock.get("memory", stock),
                }
    return result


# --- the table -------------------------------------------------------------------------------------


def _ratio(ours: float, base: float) -> str:
    return f"{ours / base:.3g}x" if base > 0 else "-"


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _rows_cached(result: dict[str, Any], rows: list[tuple[str, ...]], verdicts: dict[str, bool]) -> None:
    cached = result["cached"]
    ours, base = cached["ours"], cached["stock_scrapyrt"]
    verdicts["1"] = ours["median_ms"] <= CACHED_P50_BUDGET_MS
    rows.append(
        (
            "1 cached /trending, 1 client (ms)",
            f"{ours['median_ms']:.3f}",
            f"{ours['p95_ms']:.3f}",
            "stock ScrapyRT",
            f"{base['median_ms']:.1f}",
            f"{base['p95_ms']:.1f}",
            _ratio(ours["median_ms"], base["median_ms"]),
            f"p50 <= {CACHED_P50_BUDGET_MS:g} ms",
            _verdict(verdicts["1"]),
        )
    )


def _rows_throughput(result: dict[str, Any], rows: list[tuple[str, ...]], verdicts: dict[str, bool]) -> None:
    throughput = result["throughput"]
    if "skipped" in throughput:
        rows.append(("2 cached req/s, 32 clients", "-", "-", "-", "-", "-", "-", "-", "SKIPPED (no wrk)"))
    else:
        bare = throughput["bare_asyncio"]
        for name, label in (
            ("ours", "RATE_LIMIT=off"),
            ("ours_rate_limited", f"RATE_LIMIT={RATE_LIMIT_ROW}"),
        ):
            if name not in throughput:
                continue
            figures = throughput[name]
            ratio = figures["median_rps"] / bare["median_rps"] if bare["median_rps"] else 0.0
            if name == "ours":
                verdicts["2"] = ratio >= THROUGHPUT_RATIO_BUDGET and figures["non_2xx"] == 0
            rows.append(
                (
                    f"2 cached req/s, 32 clients, {label} (median, min run)",
                    f"{figures['median_rps']:.0f}",
                    f"{figures['min_rps']:.0f}",
                    "bare Twisted (asyncio)",
                    f"{bare['median_rps']:.0f}",
                    f"{bare['min_rps']:.0f}",
                    f"{ratio:.2f}x" + (f" ({figures['non_2xx']} non-2xx)" if figures["non_2xx"] else ""),
                    f">= {THROUGHPUT_RATIO_BUDGET:g}x" if name == "ours" else "(limiter cost)",
                    _verdict(verdicts["2"]) if name == "ours" else "-",
                )
            )
        epoll = throughput["bare_default"]
        rows.append(
            (
                "2' bare Twisted, default (epoll) reactor, req/s",
                f"{epoll['median_rps']:.0f}",
                f"{epoll['min_rps']:.0f}",
                "bare Twisted (asyncio)",
                f"{bare['median_rps']:.0f}",
                f"{bare['min_rps']:.0f}",
                _ratio(epoll["median_rps"], bare["median_rps"]),
                "(reference)",
                "-",
            )
        )


def _rows_uncached(result: dict[str, Any], rows: list[tuple[str, ...]], verdicts: dict[str, bool]) -> None:
    for latency, figures in result["uncached"].items():
        direct = figures["direct_api"]
        for base_name, label in (("stock_scrapyrt", "stock ScrapyRT"), ("textbook", "textbook s-playwright")):
            ours_beyond = figures["ours"]["median_ms"] - direct["median_ms"]
            ours_beyond95 = figures["ours"]["p95_ms"] - direct["p95_ms"]
            base = figures[base_name]
            base_beyond = base["median_ms"] - direct["median_ms"]
            base_beyond95 = base["p95_ms"] - direct["p95_ms"]
            first = base_name == "stock_scrapyrt"
            if first:
                verdicts[f"3@{latency}"] = ours_beyond <= UNCACHED_BEYOND_BUDGET_MS
            rows.append(
                (
                    f"3 uncached beyond direct GET, emulator +{latency} ms (ms)"
                    if first
                    else "  (2nd baseline)",
                    f"{ours_beyond:.1f}",
                    f"{ours_beyond95:.1f}",
                    label,
                    f"{base_beyond:.1f}",
                    f"{base_beyond95:.1f}",
                    _ratio(ours_beyond, base_beyond),
                    f"p50 <= {UNCACHED_BEYOND_BUDGET_MS:g} ms" if first else "",
                    _verdict(verdicts[f"3@{latency}"]) if first else "",
                )
            )
        rows.append(
            (
                f"  uncached total / direct GET, +{latency} ms (ms)",
                f"{figures['ours']['median_ms']:.1f}",
                f"{figures['ours']['p95_ms']:.1f}",
                "direct GET",
                f"{direct['median_ms']:.1f}",
                f"{direct['p95_ms']:.1f}",
                _ratio(figures["ours"]["median_ms"], direct["median_ms"]),
                "",
                "",
            )
        )


def _rows_first_answer(
    result: dict[str, Any], rows: list[tuple[str, ...]], verdicts: dict[str, bool]
) -> None:
    start = result["first_answer"]
    verdicts["4"] = start["ours"]["median_ms"] <= FIRST_ANSWER_BUDGET_MS
    rows.append(
        (
            "4 start to first 200 of /trending (ms)",
            f"{start['ours']['median_ms']:.0f}",
            f"{start['ours']['p95_ms']:.0f}",
            "stock ScrapyRT",
            f"{start['stock_scrapyrt']['median_ms']:.0f}",
            f"{start['stock_scrapyrt']['p95_ms']:.0f}",
            _ratio(start["ours"]["median_ms"], start["stock_scrapyrt"]["median_ms"]),
            f"<= {FIRST_ANSWER_BUDGET_MS:g} ms",
            _verdict(verdicts["4"]),
        )
    )


def _rows_single_flight(
    result: dict[str, Any], rows: list[tuple[str, ...]], verdicts: dict[str, bool]
) -> None:
    flight = result["single_flight"]
    verdicts["5"] = flight["ours"]["feed_fetches"] == 1 and flight["ours"]["statuses"] == {
        "200": flight["ours"]["clients"]
    }
    rows.append(
        (
            f"5 feed fetches for {flight['ours']['clients']} identical uncached",
            str(flight["ours"]["feed_fetches"]),
            "",
            "stock ScrapyRT",
            str(flight["stock_scrapyrt"]["feed_fetches"]),
            "",
            "",
            "exactly 1",
            _verdict(verdicts["5"]),
        )
    )


def _rows_memory(result: dict[str, Any], rows: list[tuple[str, ...]], verdicts: dict[str, bool]) -> None:
    memory = result["memory"]
    mine, theirs = memory["ours"], memory["stock_scrapyrt"]
    verdicts["6"] = (
        mine["completed"]
        and mine["rss_growth"] <= MEMORY_GROWTH_BUDGET
        and mine["chromium_before"] == mine["chromium_after"]
    )
    rows.append(
        (
            f"6 RSS MiB before -> after {mine['requests']} / {theirs['requests']} uncached"
            f" (after {mine['warmup_requests']} warm-up)",
            f"{mine['rss_before_mib']:.0f}->{mine['rss_after_mib']:.0f}",
            f"{mine['rss_growth']:+.1%}",
            "stock ScrapyRT",
            f"{theirs['rss_before_mib']:.0f}->{theirs['rss_after_mib']:.0f}",
            f"{theirs['rss_growth']:+.1%}",
            _ratio(mine["rss_after_mib"], theirs["rss_after_mib"]),
            f"flat (<= +{MEMORY_GROWTH_BUDGET:.0%})",
            _verdict(verdicts["6"]),
        )
    )
    rows.append(
        (
            "6 PSS MiB before -> after (shared pages once)",
            f"{mine['pss_before_mib']:.0f}->{mine['pss_after_mib']:.0f}",
            f"{mine['pss_growth']:+.1%}",
            "stock ScrapyRT",
            f"{theirs['pss_before_mib']:.0f}->{theirs['pss_after_mib']:.0f}",
            f"{theirs['pss_growth']:+.1%}",
            _ratio(mine["pss_after_mib"], theirs["pss_after_mib"]),
            "",
            "",
        )
    )
    rows.append(
        (
            "6 Chromium processes before -> after",
            f"{mine['chromium_before']}->{mine['chromium_after']}",
            "",
            "stock ScrapyRT",
            f"{theirs['chromium_before']}->{theirs['chromium_after']}",
            "",
            "",
            "flat",
            "",
        )
    )


def _memory_note(figures: dict[str, Any]) -> str:
    if "requests" not in figures:
        return str(figures.get("error", "not measured"))[:200]
    return (
        f"{figures['requests']} requests in {figures['elapsed_s']:.0f} s, answers {figures.get('statuses')}, "
        f"errors {figures.get('errors')}, alive after: {figures.get('alive_after')}, RSS at start (before "
        f"the warm-up) {figures.get('rss_at_start_mib')} MiB, peak {figures.get('rss_peak_mib')} MiB"
    )


FIGURE_ROWS = (
    ("cached", _rows_cached),
    ("throughput", _rows_throughput),
    ("uncached", _rows_uncached),
    ("first_answer", _rows_first_answer),
    ("single_flight", _rows_single_flight),
    ("memory", _rows_memory),
)


def table(result: dict[str, Any]) -> str:
    rows: list[tuple[str, ...]] = [
        (
            "figure",
            "ours p50",
            "ours p95",
            "baseline",
            "base p50",
            "base p95",
            "ours/base",
            "budget",
            "verdict",
        )
    ]
    verdicts: dict[str, bool] = {}
    for key, rows_of in FIGURE_ROWS:
        try:
            rows_of(result, rows, verdicts)
        except (KeyError, TypeError, ZeroDivisionError):  # that figure failed: its error is in the JSON
            error = (
                str(result.get(key, {}).get("error", "missing"))[:60]
                if isinstance(result.get(key), dict)
                else "missing"
            )
            rows.append((f"{key}: ERROR", "-", "-", "-", "-", "-", "-", "-", error))
    result["verdicts"] = verdicts
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    info = result["machine"]
    memory = result.get("memory") or {}
    mine, theirs = memory.get("ours") or {}, memory.get("stock_scrapyrt") or {}
    notes = [
        f"machine: nproc {info['nproc']}, {info['cpu_model']}, Python {info['python']}, {info['chromium']}, "
        f"{info.get('wrk') or 'wrk absent'}",
        "p95 columns: for figure 2 the worst run's rate; for figure 6 the growth of RSS over the requests.",
        "figure 1's baseline is stock ScrapyRT's per-request latency (it has no cache), measured as figure 3's.",
        "figure 3 is the service's (or ScrapyRT's) latency minus the direct signed GET's, same percentile.",
        "stock ScrapyRT runs our trending spider, which shares one browser per process as in the service.",
        f"memory, ours: {_memory_note(mine)}; stock: {_memory_note(theirs)}; RSS summed over the process tree.",
    ]
    return "\n".join([*lines, "", *notes])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run, about 3 minutes)")
    parser.add_argument("--latency-ms", default="0,100", help="emulator added latencies for figure 3")
    options = parser.parse_args()
    latencies = tuple(int(value) for value in options.latency_ms.split(","))
    result = measure(Plan.of(options.quick), latencies)
    result["quick"] = options.quick
    text = table(result)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
