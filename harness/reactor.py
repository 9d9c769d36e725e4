"""One asyncio coroutine run to its end on Twisted's asyncio reactor, for the processes that run
crawls outside the service (``harness.crawl_runner``, ``bench.crawl_worker``). The caller installs
the asyncio reactor before importing this module."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, cast

from twisted.internet import defer, reactor
from twisted.python.failure import Failure


def run_on_reactor(work: Coroutine[Any, Any, Any]) -> bool:
    """Run ``work`` with the reactor, then stop it; whether it failed (its traceback on stderr)."""
    failed: list[bool] = []
    # The installed asyncio reactor; its zope declarations confuse mypy, hence Any.
    twisted_reactor = cast("Any", reactor)

    def finished(result: object) -> None:
        if isinstance(result, Failure):
            failed.append(True)
            print(result.getTraceback(), file=sys.stderr)
        twisted_reactor.stop()

    # An asyncio task, not a Deferred coroutine: the crawls and Playwright await asyncio futures.
    defer.Deferred.fromFuture(asyncio.ensure_future(work)).addBoth(finished)
    twisted_reactor.run()
    return bool(failed)
