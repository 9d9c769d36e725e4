"""Runs several crawls one after another in ONE process, as ScrapyRT does, and prints one JSON line
per crawl: items, stats, elapsed seconds and the shared client's browser and session counters.

    python -m harness.crawl_runner '[{"spider": "trending", "args": {"count": 30}}]' [-s NAME=VALUE ...]

A crawl may carry ``"before": {"method": "POST", "path": "/__emulator__/sessions/expire"}``: a call
to the emulator's admin API made just before it starts (to change the world between two crawls).

Started by ``harness.crawls.run_crawls`` (the end-to-end spider tests) and by bench/; settings come
from the project, the configuration read from the environment (``crawl_settings(load_config())``,
e.g. TIKTOK_BASE_URL) and the ``-s`` overrides, in that order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from scrapy.utils.reactor import install_reactor

install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")

from itemadapter import ItemAdapter  # noqa: E402
from scrapy import signals  # noqa: E402
from scrapy.crawler import AsyncCrawlerRunner  # noqa: E402
from scrapy.utils.project import get_project_settings  # noqa: E402

from harness.http import http_request  # noqa: E402
from harness.reactor import run_on_reactor  # noqa: E402
from settings.crawl import crawl_settings  # noqa: E402
from settings.env import Config, ConfigError, load_config  # noqa: E402
from tiktok_spiders.client import TikTokClient  # noqa: E402


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


async def run(crawls: list[dict[str, Any]], overrides: dict[str, str], config: Config) -> None:
    settings = get_project_settings()
    settings.setdict(crawl_settings(config), priority="project")
    settings.setdict({"LOG_LEVEL": "WARNING", **overrides}, priority="cmdline")
    runner = AsyncCrawlerRunner(settings)
    try:
        for crawl in crawls:
            if "before" in crawl:
                await asyncio.to_thread(_admin_call, settings.get("TIKTOK_BASE_URL"), crawl["before"])
            crawler = runner.create_crawler(crawl["spider"])
            items: list[dict[str, Any]] = []
            crawler.signals.connect(
                lambda item, items=items: items.append(ItemAdapter(item).asdict()),
                signal=signals.item_scraped,
                weak=False,
            )
            started = time.perf_counter()
            await runner.crawl(crawler, **crawl.get("args", {}))
            elapsed = time.perf_counter() - started
            assert crawler.stats is not None
            stats = {key: _jsonable(value) for key, value in crawler.stats.get_stats().items()}
            clients = list(TikTokClient._shared.values())
            record = {
                "elapsed": elapsed,
                "items": items,
                "stats": stats,
                "browser_launches": sum(client.browser.launches for client in clients),
                "sessions_opened": sum(client.sessions.opened for client in clients),
            }
            print(json.dumps(record, ensure_ascii=False), flush=True)
    finally:
        await TikTokClient.close_all()


def _admin_call(base_url: str, call: dict[str, Any]) -> None:
    body = json.dumps(call.get("json", {})).encode()
    answer = http_request(base_url + call["path"], method=call.get("method", "POST"), body=body)
    assert answer.status == 200, (call, answer.status, answer.body[:300])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("crawls", help='JSON list of {"spider": NAME, "args": {...}}')
    parser.add_argument("-s", dest="settings", action="append", default=[], help="NAME=VALUE")
    options = parser.parse_args()
    overrides = dict(setting.split("=", 1) for setting in options.settings)
    try:
        config = load_config()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        sys.exit(2)
    failed = run_on_reactor(run(json.loads(options.crawls), overrides, config))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
