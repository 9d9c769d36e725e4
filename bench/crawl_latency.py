"""Crawl latency (DESIGN.md section 5): warm and cold ``trending count=30`` crawls against the emulator,
beside a direct HTTP GET of the same upstream answer and the textbook scrapy-playwright baseline.

    .venv/bin/python -m bench.crawl_latency [--runs 15] [--latency-ms 0,100] [--cold-runs 5]

For each latency it starts its own emulator on a free loopback port, then measures, in this order:

1. the direct GET: the same signed recommend call our client makes (same query, same ``count``), over
   plain HTTP from Python (``ScriptSession`` signing), and a plain GET of ``/`` (a page load);
2. warm crawls, ours: one long-lived process (``bench.crawl_worker``) runs ``--warmup`` + ``--runs``
   crawls, the first ones are not counted (Chromium launch, session, Python warming up);
3. warm crawls, baseline: the same with ``bench.baseline_spider`` (a browser launched per crawl);
4. cold: ``--cold-runs`` fresh processes each running one crawl, ours and the baseline in turn,
   measured from just before the process is started to the end of its crawl.

Prints a table and writes the same figures to ``bench/results/crawl_latency.json``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from harness import ROOT
from harness.emulator import EmulatorProcess
from harness.http import http_request
from harness.script_session import ScriptSession
from settings.env import DEFAULT_CHROMIUM
from tiktok_spiders.spiders.trending import RECOMMEND, TrendingSpider

RESULTS = ROOT / "bench" / "results" / "crawl_latency.json"
COUNT = 30
OVERHEAD_BUDGET_MS = 40.0
COLD_BUDGET_MS = 3000.0
#: seconds one worker process may take per crawl before it is killed (a browser launch is ~2 s)
WORKER_TIMEOUT_PER_CRAWL = 30.0


# --- figures ---------------------------------------------------------------------------------------


def summary(samples_s: list[float]) -> dict[str, Any]:
    """Median, p95 (nearest rank), min and max, in milliseconds, with the samples."""
    values = sorted(value * 1000.0 for value in samples_s)
    if not values:
        return {"n": 0}
    rank = max(0, -(-95 * len(values) // 100) - 1)
    return {
        "n": len(values),
        "median_ms": statistics.median(values),
        "p95_ms": values[rank],
        "min_ms": values[0],
        "max_ms": values[-1],
        "samples_ms": [round(value, 3) for value in values],
    }


def page_size(count: int) -> int:
    """What the trending spider asks upstream for on its first page (its own ``page_size``)."""
    return TrendingSpider(count=count).page_size


# --- the direct GET --------------------------------------------------------------------------------


def direct_gets(base_url: str, runs: int, warmup: int) -> dict[str, Any]:
    """The cost of the upstream answers themselves: signed API GETs on one session, and page loads."""
    session = ScriptSession(base_url)
    size = page_size(COUNT)
    api: list[float] = []
    for number in range(warmup + runs):
        started = time.perf_counter()
        url = session.url(RECOMMEND, {"from_page": "fyp", "count": str(size)})  # build_api_url, signed
        answer = session.get_url(url)
        elapsed = time.perf_counter() - started
        if answer.status != 200 or not answer.body:
            raise RuntimeError(f"direct GET refused: HTTP {answer.status}, {len(answer.body)} bytes")
        items = len(answer.json().get("itemList") or [])
        if items != size:
            raise RuntimeError(f"direct GET returned {items} items, expected {size}")
        if number >= warmup:
            api.append(elapsed)
    page: list[float] = []
    for number in range(warmup + runs):
        started = time.perf_counter()
        home = http_request(base_url + "/")  # no cookie: a new session, as a fresh browser context
        elapsed = time.perf_counter() - started
        if home.status != 200:
            raise RuntimeError(f"page GET: HTTP {home.status}")
        if number >= warmup:
            page.append(elapsed)
    return {
        "api": summary(api),
        "api_count_param": size,
        "api_body_bytes": len(answer.body),
        "page": summary(page),
    }


# --- crawl processes -------------------------------------------------------------------------------


def run_worker(base_url: str, spider: str, crawls: int) -> tuple[float, list[dict[str, Any]]]:
    """Start ``bench.crawl_worker``; its start time (monotonic) and its JSON lines.

    The worker runs in its own process group, so whatever it leaves behind (a Chromium) is killed here.
    """
    env = {**os.environ, "TIKTOK_BASE_URL": base_url, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "bench.crawl_worker", "--spider", spider, "--crawls", str(crawls)]
    command += ["--count", str(COUNT)]
    started = time.monotonic()
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=30.0 + WORKER_TIMEOUT_PER_CRAWL * crawls)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        leftovers = _kill_group(proc.pid)
    if proc.returncode != 0:
        raise RuntimeError(f"{spider} worker failed ({proc.returncode}): {err[-2000:]}")
    if leftovers:
        print(f"warning: the {spider} worker left processes behind (killed)", file=sys.stderr)
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if len(records) != crawls:
        raise RuntimeError(f"{spider} worker printed {len(records)} crawls of {crawls}: {err[-2000:]}")
    for record in records:
        if record["error"] or record["items"] != COUNT:
            raise RuntimeError(f"{spider} crawl {record['crawl']} failed: {record}")
    return started, records


def _kill_group(pgid: int) -> bool:
    """Kill what is left of a worker's process group; whether anything was."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    return True


def round_trips(record: dict[str, Any]) -> dict[str, int]:
    upstream: dict[str, int] = record["upstream"]
    pages = sum(n for route, n in upstream.items() if not route.startswith("/api/"))
    api = sum(n for route, n in upstream.items() if route.startswith("/api/"))
    return {"api": api, "pages": pages}


def warm(base_url: str, spider: str, runs: int, warmup: int) -> dict[str, Any]:
    _, records = run_worker(base_url, spider, warmup + runs)
    counted = records[warmup:]
    trips = [round_trips(record) for record in counted]
    return {
        "crawl": summary([record["elapsed"] for record in counted]),
        "first_crawl_in_process_ms": records[0]["elapsed"] * 1000.0,
        "api_round_trips": statistics.median(trip["api"] for trip in trips),
        "page_loads": statistics.median(trip["pages"] for trip in trips),
        "api_calls_stat": statistics.median(record["api_calls"] for record in counted),
        "browser_launches_per_crawl": (
            (counted[-1]["browser_launches"] - records[warmup - 1]["browser_launches"]) / len(counted)
            if spider == "ours" and warmup
            else statistics.median(record["browser_launches"] for record in counted)
        ),
    }


def cold(base_url: str, runs: int) -> dict[str, dict[str, Any]]:
    """Fresh processes, one crawl each, ours and the baseline alternating (so drift hits both alike)."""
    samples: dict[str, list[float]] = {"ours": [], "baseline": []}
    crawl_only: dict[str, list[float]] = {"ours": [], "baseline": []}
    for _ in range(runs):
        for spider in ("ours", "baseline"):
            started, (record,) = run_worker(base_url, spider, 1)
            samples[spider].append(record["ended"] - started)
            crawl_only[spider].append(record["elapsed"])
    return {
        spider: {"first_answer": summary(samples[spider]), "crawl_only": summary(crawl_only[spider])}
        for spider in samples
    }


def overhead(warm_figures: dict[str, Any], direct: dict[str, Any]) -> float:
    """Warm crawl median minus what its upstream round trips cost over plain HTTP, in ms."""
    upstream = (
        warm_figures["api_round_trips"] * direct["api"]["median_ms"]
        + warm_figures["page_loads"] * direct["page"]["median_ms"]
    )
    return float(warm_figures["crawl"]["median_ms"] - upstream)


def measure(latency_ms: int, runs: int, warmup: int, cold_runs: int) -> dict[str, Any]:
    load_before = os.getloadavg()
    emulator = EmulatorProcess("--latency-ms", str(latency_ms))
    try:
        print(f"latency {latency_ms} ms: emulator at {emulator.base_url}", file=sys.stderr, flush=True)
        direct = direct_gets(emulator.base_url, runs, warmup)
        print("  direct GETs done; warm crawls, ours", file=sys.stderr, flush=True)
        ours = warm(emulator.base_url, "ours", runs, warmup)
        print("  warm crawls, baseline", file=sys.stderr, flush=True)
        baseline = warm(emulator.base_url, "baseline", runs, warmup)
        print(f"  cold crawls ({cold_runs} x 2 processes)", file=sys.stderr, flush=True)
        cold_figures = cold(emulator.base_url, cold_runs)
        emulator_stats = emulator.stats()
    finally:
        emulator.stop()
    ours["cold"], baseline["cold"] = cold_figures["ours"], cold_figures["baseline"]
    ours["overhead_ms"] = overhead(ours, direct)
    baseline["overhead_ms"] = overhead(baseline, direct)
    return {
        "latency_ms": latency_ms,
        "direct": direct,
        "ours": ours,
        "baseline": baseline,
        "emulator_refused": emulator_stats.get("api_refused", {}),
        # other work on the machine skews every figure: the 1-minute load before and after
        "loadavg_1min": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
    }


# --- the machine and the report --------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    chromium = os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM
    try:
        version = subprocess.run(
            [chromium, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        version = "unknown"
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "chromium": version,
        "packages": {
            name: metadata.version(name) for name in ("Scrapy", "scrapy-playwright", "playwright", "Twisted")
        },
    }


def _ms(value: float) -> str:
    return f"{value:.1f}"


def _ratio(baseline: float, ours: float) -> str:
    return f"{baseline / ours:.1f}x" if ours > 0 else "-"


def table(result: dict[str, Any]) -> str:
    ours, base, direct = result["ours"], result["baseline"], result["direct"]
    rows: list[tuple[str, str, str, str]] = []

    def timing(label: str, key: str, mine: dict[str, Any], theirs: dict[str, Any]) -> None:
        rows.append((label, _ms(mine[key]), _ms(theirs[key]), _ratio(theirs[key], mine[key])))

    timing("warm crawl p50 (ms)", "median_ms", ours["crawl"], base["crawl"])
    timing("warm crawl p95 (ms)", "p95_ms", ours["crawl"], base["crawl"])
    timing("warm crawl min (ms)", "min_ms", ours["crawl"], base["crawl"])
    timing("warm crawl max (ms)", "max_ms", ours["crawl"], base["crawl"])
    rows.append(
        (
            "upstream round trips / crawl (api+page)",
            f"{ours['api_round_trips']:g}+{ours['page_loads']:g}",
            f"{base['api_round_trips']:g}+{base['page_loads']:g}",
            "",
        )
    )
    rows.append(
        (
            "browser launches / warm crawl",
            f"{ours['browser_launches_per_crawl']:g}",
            f"{base['browser_launches_per_crawl']:g}",
            "",
        )
    )
    api, page = direct["api"], direct["page"]
    rows.append(
        (f"direct API GET p50 (ms, count={direct['api_count_param']})", _ms(api["median_ms"]), "same", "")
    )
    rows.append(("direct API GET p95 (ms)", _ms(api["p95_ms"]), "same", ""))
    rows.append(("direct page GET / p50 (ms)", _ms(page["median_ms"]), "same", ""))
    rows.append(
        (
            f"overhead p50 (ms; budget <= {OVERHEAD_BUDGET_MS:g})",
            _ms(ours["overhead_ms"]),
            _ms(base["overhead_ms"]),
            _ratio(base["overhead_ms"], ours["overhead_ms"]),
        )
    )
    timing(
        f"cold first answer p50 (ms; budget <= {COLD_BUDGET_MS:g})",
        "median_ms",
        ours["cold"]["first_answer"],
        base["cold"]["first_answer"],
    )
    timing("cold first answer max (ms)", "max_ms", ours["cold"]["first_answer"], base["cold"]["first_answer"])
    timing(
        "  of which the crawl p50 (ms)", "median_ms", ours["cold"]["crawl_only"], base["cold"]["crawl_only"]
    )
    verdict = "PASS" if ours["overhead_ms"] <= OVERHEAD_BUDGET_MS else "FAIL"
    cold_verdict = "PASS" if ours["cold"]["first_answer"]["median_ms"] <= COLD_BUDGET_MS else "FAIL"
    widths = [max(len(row[i]) for row in [*rows, ("", "ours", "baseline", "base/ours")]) for i in range(4)]
    lines = [
        f"emulator latency {result['latency_ms']} ms (warm n={ours['crawl']['n']}, "
        f"cold n={ours['cold']['first_answer']['n']}): overhead {verdict}, cold {cold_verdict}; "
        f"load average {result['loadavg_1min'][0]:.2f} before, {result['loadavg_1min'][1]:.2f} after",
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(("figure", "ours", "baseline", "base/ours"), widths, strict=True))
        ),
    ]
    lines += [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="warm crawls and direct GETs counted")
    parser.add_argument("--warmup", type=int, default=3, help="crawls and GETs run first, not counted")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh processes per side and latency")
    parser.add_argument("--latency-ms", default="0,100", help="emulator latencies, comma-separated")
    options = parser.parse_args()
    if options.runs < 1 or options.warmup < 1 or options.cold_runs < 1:
        parser.error("--runs, --warmup and --cold-runs must be at least 1")
    latencies = [int(value) for value in options.latency_ms.split(",") if value.strip()]
    info = machine()
    results = [measure(latency, options.runs, options.warmup, options.cold_runs) for latency in latencies]
    print(
        f"machine: {info['nproc']} cores, {info['cpu_model']}, Python {info['python']}, {info['chromium']}, "
        + ", ".join(f"{name} {version}" for name, version in info["packages"].items())
    )
    print(f"trending count={COUNT}; overhead = warm crawl p50 - (api round trips x direct API GET p50")
    print("  + page loads x direct page GET p50); cold = process start to the end of its first crawl")
    for result in results:
        print()
        print(table(result))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": "crawl_latency",
        "spider": "trending",
        "count": COUNT,
        "runs": options.runs,
        "warmup": options.warmup,
        "cold_runs": options.cold_runs,
        "budgets_ms": {"overhead_p50": OVERHEAD_BUDGET_MS, "cold_first_answer": COLD_BUDGET_MS},
        "machine": info,
        "results": results,
    }
    RESULTS.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
