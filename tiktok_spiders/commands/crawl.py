"""``scrapy crawl``, with spider arguments checked first: a bad ``-a`` stops with one line, exit 2.

The check runs while options are processed, before Scrapy configures logging and starts a crawler,
so the user sees only the error line.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.spiderloader import get_spider_loader

from tiktok_spiders.params import InvalidParameter

if TYPE_CHECKING:
    import argparse


class Command(ScrapyCrawl):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if len(args) != 1:
            return  # Scrapy's own usage error follows
        assert self.settings is not None
        try:
            spider_class = get_spider_loader(self.settings).load(args[0])
        except KeyError:
            _stop(f"no spider named {args[0]!r} (see: scrapy list)")
        check = getattr(spider_class, "check_arguments", None)
        if check is not None:
            try:
                check(opts.spargs)
            except InvalidParameter as error:
                _stop(str(error))


def _stop(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)
