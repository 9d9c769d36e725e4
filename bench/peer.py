"""The peer baseline: TikTokApi 7.3.3 (the most used Python TikTok client) beside our crawl and our
service's uncached answer, for the same work, in the same run, on the same emulator over TLS.

    .venv/bin/python -m bench.peer [--runs 15] [--warmup 3] [--latency-ms 0,100]

For each emulator latency it starts one emulator (``--tls``) and three long-lived clients of it:
TikTokApi in its own process (``harness.peer``: one browser, one session), our crawl process
(``bench.crawl_worker --serve``: the spiders with the shared client, as ScrapyRT runs them) and our
service (``python -m bridge``, caches off so every answer is a miss). Then, round by round, each of
the workloads below is asked of each client in turn, the order rotating every round so drift and
warm caches hit all three alike; the first ``--warmup`` rounds are not counted.

Workloads (what a user asks; each client does it its own way, and how many upstream calls that
took is counted from the emulator's counters):

- ``trending 30``: ``trending.videos(count=30)`` / ``trending count=30`` / ``/trending?count=30``
- ``hashtag 30`` and ``hashtag 100``: ``hashtag(name="food").videos(count=N)`` (it asks
  ``challenge/detail`` first, every call) / ``hashtag hashtag=food count=N`` /
  ``/category?hashtag=food&count=N``
- ``search 30``: ``search.search_type("pasta", "item", count=30)`` / ``search q=pasta count=30`` /
  ``/search?q=pasta&count=30``
- around a video (issue #18), one count each: ``user 30`` (``user(username=...).videos()``, which
  looks the secUid up first, as our ``user`` spider does), ``comments 20``, ``music 30`` (a sound's
  videos), ``related 16`` and ``user_search 10``

Times are each client's own: TikTokApi's call inside its process, our crawl from ``runner.crawl`` to
its end, the service's from the request to the end of the answer on a kept-alive connection. Prints
each pair's medians and ratio (ours / TikTokApi: below 1 is faster than the peer), the upstream calls
per answer, and both process trees' memory (RSS, PSS) at the end; writes bench/results/peer.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench.procs import KeepAliveClient, tree_memory
from harness import ROOT
from harness.emulator import EmulatorProcess
from harness.peer import PeerProcess
from harness.processes import JsonLinesChild
from harness.script_session import ScriptSession
from harness.service import ServiceProcess
from tiktok_spiders.spiders.trending import RECOMMEND

RESULTS = ROOT / "bench" / "results" / "peer.json"
CLIENTS = ("tiktokapi", "crawl", "service")


@dataclass(frozen=True)
class Workload:
    name: str
    #: the command for harness.peer (TikTokApi), the spider and its arguments, the service's path
    peer_call: dict[str, Any]
    spider: str
    spider_args: dict[str, Any]
    path: str


#: per feed: TikTokApi's call, our spider and its arguments, the service's route (count added to each)
FEEDS: dict[str, tuple[dict[str, Any], str, dict[str, Any], str]] = {
    "trending": ({"call": "trending"}, "trending", {}, "/trending?"),
    "hashtag": (
        {"call": "hashtag_videos", "name": "food"},
        "hashtag",
        {"hashtag": "food"},
        "/category?hashtag=food&",
    ),
    "search": ({"call": "search", "term": "pasta"}, "search", {"q": "pasta"}, "/search?q=pasta&"),
}


def workload(feed: str, count: int) -> Workload:
    peer_call, spider, spider_args, path = FEEDS[feed]
    return Workload(
        f"{feed} {count}",
        {**peer_call, "count": count},
        spider,
        {**spider_args, "count": count},
        f"{path}count={count}",
    )


#: a creator of the seed-1 corpus with hundreds of posts, one of its videos, and that video's sound
CREATOR, VIDEO, SOUND = "creator_3", "7300001000000942561", "7050000000000015838"
#: what an app asks around a video: TikTokApi's call, our spider, our route, and one count
AROUND: dict[str, tuple[dict[str, Any], str, dict[str, Any], str, int]] = {
    "user": ({"call": "user_videos", "username": CREATOR}, "user", {"uniqueId": CREATOR}, f"/users/{CREATOR}/videos?", 30),
    "comments": ({"call": "comments", "video_id": VIDEO}, "comments", {"video": VIDEO}, f"/videos/{VIDEO}/comments?", 20),
    "music": ({"call": "sound_videos", "sound_id": SOUND}, "music", {"id": SOUND}, f"/music/{SOUND}/videos?", 30),
    "related": ({"call": "related", "video_id": VIDEO}, "related", {"video": VIDEO}, f"/videos/{VIDEO}/related?", 16),
    "user_search": ({"call": "user_search", "term": "creator"}, "user_search", {"q": "creator"}, "/search/users?q=creator&", 10),
}  # fmt: skip


def around(name: str) -> Workload:
    peer_call, spider, spider_args, path, count = AROUND[name]
    return Workload(
        f"{name} {count}",
        {**peer_call, "count": count},
        spider,
        {**spider_args, "count": count},
        f"{path}count={count}",
    )


WORKLOADS = (
    *(workload(feed, count) for feed in FEEDS for count in (30, 100)),
    *(around(name) for name in AROUND),
)


@dataclass(frozen=True)
class Budget:
    """A budget of issue #17: at ``latency_ms``, ``client``'s median over ``versus``'s at most ``limit``."""

    workload: str
    latency_ms: int
    client: str
    versus: str
    limit: float


#: ``one call``: a direct signed GET of one feed page (35 entries) on a new TLS connection, timed in
#: the same rounds: what a single upstream round trip costs without any client around it
BUDGETS = (
    Budget("trending 30", 0, "crawl", "tiktokapi", 0.75),
    Budget("trending 30", 0, "service", "tiktokapi", 0.85),
    *(
        Budget(f"{feed} 100", 100, "service", versus, limit)
        for feed in ("hashtag", "search", "trending")
        for versus, limit in (("one call", 1.6), ("tiktokapi", 0.5))
    ),
)


class CrawlProcess:
    """``bench.crawl_worker --serve`` against the emulator: one crawl per call, its JSON line back."""

    def __init__(self, emulator: EmulatorProcess) -> None:
        env = {
            **os.environ,
            "TIKTOK_BASE_URL": emulator.base_url,
            "TIKTOK_CA_FILE": str(emulator.certificate),
            "PYTHONUNBUFFERED": "1",
        }
        command = [sys.executable, "-m", "bench.crawl_worker", "--serve"]
        self.child = JsonLinesChild(command, cwd=ROOT, stderr=subprocess.DEVNULL, env=env)
        self.proc = self.child.proc

    def crawl(self, spider: str, arguments: dict[str, Any], timeout: float = 120.0) -> dict[str, Any]:
        self.child.send({"spider": spider, "args": arguments})
        record = self.child.answer(timeout)
        if record is None:
            raise RuntimeError(f"crawl {spider} {arguments}: no answer within {timeout:g} s")
        return record

    def stop(self) -> None:
        self.child.stop()


def upstream_calls(before: dict[str, Any], after: dict[str, Any]) -> int:
    """API calls the emulator answered between two readings of its counters (pages' own calls aside)."""
    routes = after["requests"]
    return sum(
        routes[route] - before["requests"].get(route, 0)
        for route in routes
        if route.startswith("/api/") and route != "/api/policy/notice/"
    )


def one_direct_call(session: ScriptSession) -> float:
    """Milliseconds of one signed recommend GET of 35 entries, from building its URL to its last byte."""
    started = time.perf_counter()
    answer = session.get_url(session.url(RECOMMEND, {"from_page": "fyp", "count": "35"}))
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status != 200 or len(answer.json().get("itemList") or []) != 35:
        raise RuntimeError(f"direct GET refused: HTTP {answer.status}, {len(answer.body)} bytes")
    return round(elapsed, 1)


def measure(
    emulator: EmulatorProcess, runs: int, warmup: int, workloads: tuple[Workload, ...] = WORKLOADS
) -> dict[str, Any]:
    peer = PeerProcess(emulator)
    crawls = CrawlProcess(emulator)
    service = ServiceProcess(
        emulator,
        TIKTOK_CA_FILE=str(emulator.certificate),
        CACHE_TTL_TRENDING="0",
        CACHE_TTL_HASHTAG="0",
        CACHE_TTL_PROFILE="0",
        CACHE_TTL_COMMENTS="0",
        CACHE_STALE_MAX="0",
        UPSTREAM_TIMEOUT="60",
    )
    http = KeepAliveClient(service.base_url, timeout=120)
    direct = ScriptSession(emulator.base_url, cafile=str(emulator.certificate))
    one_call: list[float] = []
    samples: dict[tuple[str, str], list[float]] = {(w.name, c): [] for w in workloads for c in CLIENTS}
    calls: dict[tuple[str, str], list[int]] = {(w.name, c): [] for w in workloads for c in CLIENTS}
    items: dict[tuple[str, str], list[int]] = {(w.name, c): [] for w in workloads for c in CLIENTS}

    def one(workload: Workload, client: str) -> tuple[float, int]:
        if client == "tiktokapi":
            answer = peer.call(**workload.peer_call)
            if not answer["ok"]:
                raise RuntimeError(f"TikTokApi {workload.name}: {answer}")
            return answer["ms"], len(answer.get("ids", answer.get("usernames", ())))
        if client == "crawl":
            record = crawls.crawl(workload.spider, workload.spider_args)
            if record["error"]:
                raise RuntimeError(f"crawl {workload.name}: {record}")
            return record["elapsed"] * 1000, record["items"]
        status, body, elapsed = http.get(workload.path)
        if status != 200:
            raise RuntimeError(f"service {workload.path}: HTTP {status} {body[:200]!r}")
        return elapsed * 1000, len(json.loads(body))

    try:
        for number in range(warmup + runs):
            ms = one_direct_call(direct)
            if number >= warmup:
                one_call.append(ms)
            for workload in workloads:
                order = CLIENTS[number % 3 :] + CLIENTS[: number % 3]
                for client in order:
                    before = emulator.stats()
                    ms, got = one(workload, client)
                    after = emulator.stats()
                    if number >= warmup:
                        samples[(workload.name, client)].append(ms)
                        calls[(workload.name, client)].append(upstream_calls(before, after))
                        items[(workload.name, client)].append(got)
        memory = {
            "tiktokapi": tree_memory(peer.proc.pid),
            "service": tree_memory(service.proc.pid),
            "crawl": tree_memory(crawls.proc.pid),
        }
        peer_start_ms = peer.start_ms
    finally:
        http.close()
        service.stop()
        crawls.stop()
        peer.stop()
    table = []
    for workload in workloads:
        row: dict[str, Any] = {"workload": workload.name}
        for client in CLIENTS:
            key = (workload.name, client)
            row[client] = {
                "median_ms": round(statistics.median(samples[key]), 1),
                "upstream_calls": statistics.median(calls[key]),
                "videos": statistics.median(items[key]),
                "samples_ms": [round(value, 1) for value in samples[key]],
            }
        peer_ms = row["tiktokapi"]["median_ms"]
        row["crawl_over_tiktokapi"] = round(row["crawl"]["median_ms"] / peer_ms, 2)
        row["service_over_tiktokapi"] = round(row["service"]["median_ms"] / peer_ms, 2)
        table.append(row)
    return {
        "one_call": {"median_ms": round(statistics.median(one_call), 1), "samples_ms": one_call},
        "rows": table,
        "tiktokapi_create_sessions_ms": peer_start_ms,
        "memory_mib": {
            name: {"rss": round(tree.rss_mib, 1), "pss": round(tree.pss_mib, 1), "processes": tree.processes}
            for name, tree in memory.items()
        },
    }


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each budget of ``BUDGETS`` measured in this run (those whose latency was run), and the memory one."""
    found = []
    for budget in BUDGETS:
        figures = results["latencies"].get(str(budget.latency_ms))
        if figures is None:
            continue
        row = next((row for row in figures["rows"] if row["workload"] == budget.workload), None)
        if row is None:
            continue
        versus = (
            figures["one_call"]["median_ms"]
            if budget.versus == "one call"
            else row[budget.versus]["median_ms"]
        )
        ratio = round(row[budget.client]["median_ms"] / versus, 2)
        found.append(
            {
                "figure": f"{budget.workload}, +{budget.latency_ms} ms: {budget.client} / {budget.versus}",
                "ratio": ratio,
                "budget": budget.limit,
                "met": ratio <= budget.limit,
            }
        )
    for latency, figures in results["latencies"].items():
        memory = figures["memory_mib"]
        ratio = round(memory["service"]["pss"] / memory["tiktokapi"]["pss"], 2)
        found.append(
            {
                "figure": f"process tree PSS, +{latency} ms: service / tiktokapi",
                "ratio": ratio,
                "budget": 1.0,
                "met": ratio <= 1.0,
            }
        )
    return found


def print_verdicts(found: list[dict[str, Any]]) -> None:
    print("\nbudgets (issue #17)")
    for verdict in found:
        state = "met" if verdict["met"] else "MISSED"
        print(
            f"  {verdict['figure']:<52} {verdict['ratio']:>5.2f}x  budget <= {verdict['budget']:.2f}x  {state}"
        )


def print_table(latency_ms: int, figures: dict[str, Any]) -> None:
    print(f"\nemulator over TLS, +{latency_ms} ms per call; medians (upstream API calls per answer)")
    print(
        f"one call (a direct signed GET of one page of 35, new TLS connection): {figures['one_call']['median_ms']:.1f} ms"
    )
    print(
        f"{'workload':<12} {'TikTokApi':>16} {'our crawl':>16} {'our service':>16} {'crawl/peer':>11} {'service/peer':>13}"
    )
    for row in figures["rows"]:
        cells = [
            f"{row[client]['median_ms']:.1f} ms ({row[client]['upstream_calls']:g})" for client in CLIENTS
        ]
        print(
            f"{row['workload']:<12} {cells[0]:>16} {cells[1]:>16} {cells[2]:>16} "
            f"{row['crawl_over_tiktokapi']:>10.2f}x {row['service_over_tiktokapi']:>12.2f}x"
        )
    memory = figures["memory_mib"]
    print(
        "process trees at the end, PSS / RSS MiB: "
        + ", ".join(f"{name} {tree['pss']:.0f} / {tree['rss']:.0f}" for name, tree in memory.items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--latency-ms", default="0,100", help="emulator latencies, comma-separated")
    parser.add_argument(
        "--workloads", default="", help="only these workloads, comma-separated (e.g. 'trending 30')"
    )
    options = parser.parse_args()
    chosen = {name.strip() for name in options.workloads.split(",") if name.strip()}
    unknown = chosen - {workload.name for workload in WORKLOADS}
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    workloads = tuple(w for w in WORKLOADS if not chosen or w.name in chosen)
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "runs": options.runs,
        "warmup": options.warmup,
        "latencies": {},
    }
    for latency in (int(value) for value in options.latency_ms.split(",")):
        emulator = EmulatorProcess("--seed", "1", tls=True)
        try:
            emulator.set_faults({"latency_ms": latency})
            started = time.monotonic()
            figures = measure(emulator, options.runs, options.warmup, workloads)
            figures["seconds"] = round(time.monotonic() - started, 1)
        finally:
            emulator.stop()
        results["latencies"][str(latency)] = figures
        print_table(latency, figures)
    results["budgets"] = verdicts(results)
    print_verdicts(results["budgets"])
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
