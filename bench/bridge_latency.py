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
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from bench.bridge_figures import concurrent_identical, first_answer, memory_over, rates, sequential, wrk_rate
from bench.bridge_plan import FULL_PLAN, QUICK_PLAN, RATE_LIMIT_ROW, TRENDING, Plan
from bench.bridge_processes import (
    BARE_LISTENING,
    StockScrapyRT,
    check_crawl_answer,
    start_service,
    wait_session,
)
from bench.bridge_table import table
from bench.crawl_latency import direct_gets, machine, summary
from bench.procs import ManagedProcess
from harness import ROOT
from harness.emulator import EmulatorProcess
from harness.http import http_request

RESULTS = ROOT / "bench" / "results" / "bridge_latency.json"
T = TypeVar("T")


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
    """Figures 5 (ours), 1 and 2 on one service with the default cache TTL; then figure 2 again on a
    fresh service with the rate limiter counting, beside a bare server (asyncio) returning its bytes."""
    service: ManagedProcess | None
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
        samples = sequential(base_url, TRENDING, plan.cached_requests, plan.cached_warmup, "bridge cached")
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
        processes = {"ours": service, "bare_asyncio": bare[0], "bare_default": bare[1]}
        result["throughput"] = interleaved(urls, processes, plan)
        # The rate limiter counting: its own fresh service, so that no earlier hit counts against the
        # window, its runs interleaved with a bare server's.
        service.stop()
        service = None  # stopped once: its process group may be another's by the time of the finally
        service, base_url = start_service(emulator, RATE_LIMIT=RATE_LIMIT_ROW)
        wait_session(base_url)
        answer = http_request(base_url + TRENDING, timeout=60)
        check_crawl_answer(answer.status, answer.body, "bridge cached, rate limited")
        # A fresh service crawled a fresh feed page: its own bare server returns those same bytes.
        limited_body = body_file.with_name("trending-limited.json")
        limited_body.write_bytes(answer.body)
        server = ManagedProcess(
            [sys.executable, "-m", "bench.bare_server", str(limited_body), "--reactor", "asyncio"],
            name="bare",
        )
        bare.append(server)
        bare_url = server.wait_line(BARE_LISTENING, timeout=20).group(1) + TRENDING
        limited = interleaved(
            {"ours": base_url + TRENDING, "bare_asyncio": bare_url},
            {"ours": service, "bare_asyncio": server},
            plan,
        )
        result["throughput"]["ours_rate_limited"] = limited["ours"]
        result["throughput"]["bare_asyncio_beside_limited"] = limited["bare_asyncio"]
    finally:
        for server in bare:
            server.stop()
        if service is not None:
            service.stop()


def interleaved(urls: dict[str, str], processes: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """``plan.wrk_runs`` wrk runs of each URL in turn, after a 1 s warm-up each, so that drifts of the
    machine hit every server alike; each server's rates."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in urls}
    for url in urls.values():  # warm-up, not counted
        wrk_rate(url, 1)
    for _ in range(plan.wrk_runs):
        for name, url in urls.items():
            try:
                runs[name].append(wrk_rate(url, plan.wrk_seconds))
            except RuntimeError as error:
                states = {each: process.proc.poll() for each, process in processes.items()}
                raise RuntimeError(
                    f"{name}: {error}; exit codes (None = running): {states}; "
                    f"its log: {processes[name].log_tail(1500)}"
                ) from None
    return {name: rates(values) for name, values in runs.items()}


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
    result: dict[str, Any] = {"machine": machine(), "plan": plan.as_dict(), "uncached": {}}
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


# --- the command ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run, about 3 minutes)")
    parser.add_argument("--latency-ms", default="0,100", help="emulator added latencies for figure 3")
    options = parser.parse_args()
    latencies = tuple(int(value) for value in options.latency_ms.split(","))
    result = measure(QUICK_PLAN if options.quick else FULL_PLAN, latencies)
    result["quick"] = options.quick
    text = table(result)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
