"""Crawls in a separate process (``python -m harness.crawl_runner``), as ScrapyRT runs them: several
one after another in one process, each reported with its items, stats and the shared client's browser
and session counters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness import ROOT

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess


@dataclass
class CrawlResult:
    elapsed: float
    items: list[dict[str, Any]]
    stats: dict[str, Any]
    browser_launches: int
    sessions_opened: int

    @property
    def ids(self) -> list[str]:
        return [str(item["id"]) for item in self.items]

    def dropped(self, reason: str) -> int:
        return int(self.stats.get(f"videos/dropped/{reason}", 0))


#: Deliberately not the project's backoff (settings/crawl.py): the same schedule, shorter, so that
#: tests of recovery do not wait seconds per retry.
TEST_CRAWL_SETTINGS = {"TIKTOK_RETRY_BACKOFF": "0.02", "TIKTOK_RETRY_BACKOFF_MAX": "0.1"}


def run_crawls(
    emulator: EmulatorProcess,
    crawls: list[dict[str, Any]],
    settings: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> list[CrawlResult]:
    """Run ``crawls`` one after another in one fresh process against ``emulator``."""
    overrides = [f"-s{name}={value}" for name, value in {**TEST_CRAWL_SETTINGS, **(settings or {})}.items()]
    env = {**os.environ, "TIKTOK_BASE_URL": emulator.base_url}
    done = subprocess.run(
        [sys.executable, "-m", "harness.crawl_runner", json.dumps(crawls), *overrides],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [CrawlResult(**json.loads(line)) for line in done.stdout.splitlines() if line.startswith("{")]


def run_crawl(
    emulator: EmulatorProcess, spider: str, settings: dict[str, str] | None = None, **args: Any
) -> CrawlResult:
    (result,) = run_crawls(emulator, [{"spider": spider, "args": args}], settings)
    return result
