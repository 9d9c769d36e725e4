"""``scrapy crawl``, with spider arguments checked first: a bad ``-a`` stops with one line, exit 2.

The check runs while options are processed, before Scrapy configures logging and starts a crawler,
so the user sees only the error line; ``scripts/scrapyd.py schedule`` runs the same check
(``check_crawl``). Scrapy collects ``-a`` into a dict where the last value of a name wins, so a name
given twice is caught on the raw list.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.spiderloader import get_spider_loader

from tiktok_spiders.params import InvalidParameter

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable

    from scrapy.spiderloader import SpiderLoaderProtocol

EXIT_USAGE = 2


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


class Command(ScrapyCrawl):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        given = [argument.partition("=") for argument in opts.spargs]
        super().process_options(args, opts)  # turns -a into a dict, the last value of a name winning
        if len(args) != 1:
            return  # Scrapy's own usage error follows
        assert self.settings is not None
        try:
            check_crawl(
                get_spider_loader(self.settings), args[0], [(name, value) for name, _, value in given]
            )
        except BadCrawl as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(EXIT_USAGE)
