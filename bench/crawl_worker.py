"""One long-lived crawl process, as ScrapyRT runs one: several crawls one after another, one JSON line each.

    TIKTOK_BASE_URL=http://127.0.0.1:PORT python -m bench.crawl_worker --spider ours --crawls 18

``--spider ours`` runs the project's ``trending`` spider (shared client: one Chromium, one session for
every crawl); ``--spider baseline`` runs ``bench.baseline_spider`` (scrapy-playwright, a browser per
crawl). Each line holds the crawl's wall time (``runner.crawl`` from start to close), its start and end on
the system-wide monotonic clock (so the parent can measure from the moment it started this process), the
number of items, the crawl's ``tiktok/api_calls`` and the emulator's request counters for that crawl (read
from its admin API before and after, outside the timed window). ``--profile PATH`` writes a cProfile of
the crawls after ``--skip-profile`` first ones.

``--serve`` takes its crawls from stdin instead, one JSON line each (``{"spider": "hashtag", "args":
{"hashtag": "food", "count": 30}}``), answering each with its line: how ``bench.peer`` alternates our
crawls with another client's calls. ``TIKTOK_BASE_URL`` may then be the emulator over TLS
(``https://127.0.0.1:PORT``, with ``TIKTOK_CA_FILE``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from scrapy.utils.reactor import install_reactor

install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")

from scrapy import signals  # noqa: E402
from scrapy.crawler import AsyncCrawlerRunner  # noqa: E402
from scrapy.utils.project import get_project_settings  # noqa: E402

from bench.baseline_spider import BaselineTrendingSpider  # noqa: E402
from harness.http import http_request  # noqa: E402
from harness.reactor import run_on_reactor  # noqa: E402
from settings.crawl import crawl_settings  # noqa: E402
from settings.env import load_config  # noqa: E402
from tiktok_spiders.client import TikTokClient  # noqa: E402


def emulator_requests(base_url: str) -> dict[str, int]:
    """The emulator's request counters (every route, pages and API alike)."""
    answer = http_request(base_url + "/__emulator__/stats", cafile=os.environ.get("TIKTOK_CA_FILE"))
    if answer.status != 200:
        raise RuntimeError(f"emulator stats: HTTP {answer.status}")
    requests: dict[str, int] = answer.json()["requests"]
    return requests


@dataclass
class TimedCrawl:
    """One crawl's figures: its wall time on the monotonic clock, what it yielded, its stats."""

    started: float
    ended: float
    items: int
    stats: dict[str, Any]
    #: the emulator's requests during the crawl, per route (read before and after, outside the timing)
    upstream: dict[str, int]

    def record(self, number: int) -> dict[str, Any]:
        return {
            "crawl": number,
            "started": self.started,
            "ended": self.ended,
            "elapsed": self.ended - self.started,
            "items": self.items,
            "api_calls": self.stats.get("tiktok/api_calls", 0),
            "error": self.stats.get("tiktok/error"),
            "upstream": self.upstream,
        }


async def timed_crawl(
    runner: AsyncCrawlerRunner,
    spider: str | type[BaselineTrendingSpider],
    arguments: dict[str, Any],
    base_url: str,
    profiler: cProfile.Profile | None = None,
) -> TimedCrawl:
    """Run one crawl of ``spider``; ``profiler``, when given, profiles the crawl alone."""
    crawler = runner.create_crawler(spider)
    items: list[object] = []
    # a lambda, not items.append: Scrapy sends the signal's arguments by name (item=...)
    crawler.signals.connect(lambda item: items.append(item), signal=signals.item_scraped, weak=False)  # noqa: PLW0108
    before = await asyncio.to_thread(emulator_requests, base_url)
    if profiler is not None:
        profiler.enable()
    started = time.monotonic()
    await runner.crawl(crawler, **arguments)
    ended = time.monotonic()
    if profiler is not None:
        profiler.disable()
    after = await asyncio.to_thread(emulator_requests, base_url)
    assert crawler.stats is not None
    upstream = {route: after[route] - before.get(route, 0) for route in after}
    return TimedCrawl(started, ended, len(items), crawler.stats.get_stats(), upstream)


async def serve(runner: AsyncCrawlerRunner, base_url: str) -> None:
    """Crawls as stdin asks for them, one JSON line in, one out, until stdin ends (bounded)."""
    for number in range(1_000_000):
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return
        command = json.loads(line)
        crawl = await timed_crawl(runner, command["spider"], command.get("args", {}), base_url)
        print(json.dumps(crawl.record(number)), flush=True)


async def run(options: argparse.Namespace) -> None:
    settings = get_project_settings()
    settings.setdict(crawl_settings(load_config()), priority="project")
    settings.setdict({"LOG_LEVEL": "WARNING"}, priority="cmdline")
    base_url = str(settings.get("TIKTOK_BASE_URL"))
    runner = AsyncCrawlerRunner(settings)
    if options.serve:
        try:
            await serve(runner, base_url)
        finally:
            await TikTokClient.close_all()
        return
    profiler = cProfile.Profile() if options.profile else None
    spider: str | type[BaselineTrendingSpider] = (
        "trending" if options.spider == "ours" else BaselineTrendingSpider
    )
    try:
        for number in range(options.crawls):
            profiling = profiler if number >= options.skip_profile else None
            crawl = await timed_crawl(runner, spider, {"count": options.count}, base_url, profiling)
            clients = list(TikTokClient._shared.values())
            record = crawl.record(number)
            record["browser_launches"] = (
                sum(client.browser.launches for client in clients)
                if options.spider == "ours"
                else crawl.stats.get("playwright/browser_count", 0)
            )
            print(json.dumps(record), flush=True)
    finally:
        await TikTokClient.close_all()
        if profiler is not None:
            profiler.dump_stats(options.profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spider", choices=("ours", "baseline"), default="ours")
    parser.add_argument("--serve", action="store_true", help="crawls named on stdin, one JSON line each")
    parser.add_argument("--crawls", type=int, default=1)
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--profile", default=None, help="write a cProfile of the crawls to this path")
    parser.add_argument("--skip-profile", type=int, default=0, help="crawls not profiled (warm-up)")
    options = parser.parse_args()
    if not os.environ.get("TIKTOK_BASE_URL", "").startswith(("http://127.0.0.1:", "https://127.0.0.1:")):
        sys.exit("TIKTOK_BASE_URL must be the emulator on loopback")
    failed = run_on_reactor(run(options))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
