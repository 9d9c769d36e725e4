"""``scrapy crawl``, with the configuration read from the environment (``settings.env``) and applied
over the project's settings, spider arguments checked first, and an exit status that says how it ended.

Exit status (``EXIT_*``; the README's "Spiders and batch exports"):

- 0: the crawl finished without an upstream error, an empty result included (a search that matches
  nothing);
- 1: the crawl failed on our side: Scrapy could not start it, a callback raised, the TikTok client
  failed (``tiktok/error`` = ``internal``) or the browser did (``browser_failed``: Chromium would not
  start, or died and could not be relaunched);
- 2: bad arguments: an unknown spider, a bad ``-a`` value, an ``-a NAME=`` given twice, or a bad
  configuration (an environment variable or ``-s NAME=VALUE`` that ``settings.env`` rejects): one line
  on stderr, no crawl;
- 3: upstream failed (``tiktok/error`` = ``unavailable``, ``blocked``, ``captcha``, ``rate_limited``,
  ``malformed``, ...), even when some items were written before it;
- 4: not found: TikTok knows no such hashtag, video, user, comment or sound, or it is private (a
  private video or account: ``not_found``, ``private``).

The arguments are checked while options are processed, before Scrapy configures logging and starts a
crawler, so the user sees only the error line; ``scripts/scrapyd.py schedule`` runs the same check
(``check_crawl``). A crawl that ends with a non-zero status logs one last ERROR line saying why
(``crawl failed: upstream unavailable: ... (exit 3)``) before the stats, which hold ``tiktok/error``,
``tiktok/error_detail`` and ``tiktok/exit_code``: in a scrapyd job's log too.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.spiderloader import get_spider_loader

from settings.crawl import config_from_settings, crawl_settings
from settings.env import ConfigError, load_config
from tiktok_spiders.params import InvalidParameter

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable, Mapping

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.spiderloader import SpiderLoaderProtocol

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_UPSTREAM = 3
EXIT_NOT_FOUND = 4

#: ``tiktok/error`` reasons that mean "no such thing" (HTTP 404 in the service), not a failure upstream
NOT_FOUND_REASONS = frozenset({"not_found", "private"})


class BadCrawl(ValueError):
    """A crawl that must not start; the message is the one line the user sees after ``error:``."""


def check_crawl(
    loader: SpiderLoaderProtocol, spider: str, arguments: Iterable[tuple[str, str]]
) -> dict[str, str]:
    """The spider arguments as a dict, or ``BadCrawl``: an unknown spider, a name given twice, or an
    argument the spider's ``check_arguments`` rejects. Contacts nothing."""
    pairs = list(arguments)
    repeated = [name for name, times in Counter(name for name, _ in pairs).items() if times > 1]
    if repeated:
        raise BadCrawl(f"{repeated[0]}: given more than once")
    try:
        spider_class = loader.load(spider)
    except KeyError:
        raise BadCrawl(f"no spider named {spider!r} (see: scrapy list)") from None
    checked = dict(pairs)
    check = getattr(spider_class, "check_arguments", None)
    if check is not None:
        try:
            check(checked)
        except InvalidParameter as error:
            raise BadCrawl(str(error)) from None
    return checked


def crawl_outcome(stats: Mapping[str, Any]) -> tuple[int, str | None]:
    """The exit status a finished crawl's stats mean, and the reason when it is not 0."""
    reason = stats.get("tiktok/error")
    detail = stats.get("tiktok/error_detail") or reason
    if reason == "internal":
        return EXIT_INTERNAL, f"internal error: {detail}"
    if reason == "browser_failed":  # our own browser, not TikTok
        return EXIT_INTERNAL, f"browser failed: {detail}"
    if reason in NOT_FOUND_REASONS:
        return EXIT_NOT_FOUND, f"upstream {reason}: {detail}"
    if reason is not None:
        return EXIT_UPSTREAM, f"upstream {reason}: {detail}"
    if stats.get("spider_exceptions/count"):
        return EXIT_INTERNAL, "a spider callback raised (see the traceback above)"
    return EXIT_OK, None


class Command(ScrapyCrawl):
    outcome: int | None = None

    def long_desc(self) -> str:
        # argparse joins these lines into one paragraph.
        return (
            "Run a spider of the project by name; its -a arguments are checked first. Exit status: "
            f"{EXIT_OK} finished (an empty result too), {EXIT_INTERNAL} failed on our side, "
            f"{EXIT_USAGE} bad arguments (a bad or repeated -a NAME=VALUE, an unknown spider) or configuration, "
            f"{EXIT_UPSTREAM} upstream failed (tiktok/error in the stats, even after some items), "
            f"{EXIT_NOT_FOUND} not found (no such hashtag, video, user, comment or sound, or a private one)."
        )

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        given = [argument.partition("=") for argument in opts.spargs]
        assert self.settings is not None
        try:
            # The environment, read once; ``-s NAME=VALUE`` (cmdline priority) still wins over it.
            self.settings.setdict(crawl_settings(load_config()), priority="project")
        except ConfigError as error:
            print(f"configuration error: {error}", file=sys.stderr)
            sys.exit(EXIT_USAGE)
        super().process_options(args, opts)  # turns -a into a dict, the last value of a name winning
        try:
            config_from_settings(self.settings)  # the -s values are checked as the environment's are
        except ConfigError as error:
            print(f"configuration error: {error}", file=sys.stderr)
            sys.exit(EXIT_USAGE)
        if len(args) != 1:
            return  # Scrapy's own usage error follows
        try:
            check_crawl(
                get_spider_loader(self.settings), args[0], [(name, value) for name, _, value in given]
            )
        except BadCrawl as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(EXIT_USAGE)

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        crawler = super()._create_crawler(spidercls)
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)
        return crawler

    def _spider_closed(self, spider: Spider) -> None:
        # Before the stats are dumped, so the job's log has the line and the stat just above them.
        stats = spider.crawler.stats
        assert stats is not None
        self.outcome, why = crawl_outcome(stats.get_stats())
        stats.set_value("tiktok/exit_code", self.outcome)
        if why is not None:
            spider.logger.error("crawl failed: %s (exit %d)", why, self.outcome)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(args, opts)  # exit status 1 when the crawl could not start
        if self.exitcode == EXIT_OK:
            # No outcome: the crawl never closed its spider (a forced shutdown, say).
            self.exitcode = EXIT_INTERNAL if self.outcome is None else self.outcome
