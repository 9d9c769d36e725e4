"""``python -m bridge``: the HTTP service on HOST:PORT (see the README for the environment)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TYPE_CHECKING, Any, cast

from settings.env import ConfigError, load_config

if TYPE_CHECKING:
    from twisted.internet.error import CannotListenError

DESCRIPTION = """\
Serves TikTok videos as JSON: GET /trending, /category?hashtag=NAME, /search?q=TEXT, /videos/ID, /health,
/openapi.json.
Configured by environment variables (HOST, PORT, TIKTOK_BASE_URL, CHROMIUM_PATH, TIKTOK_PROXY,
TIKTOK_MS_TOKEN, CACHE_URL, CACHE_TTL_TRENDING, CACHE_TTL_HASHTAG, CACHE_STALE_MAX, RATE_LIMIT,
MAX_CONCURRENT_CRAWLS, MAX_QUEUED_CRAWLS, UPSTREAM_TIMEOUT, PUBLIC_BASE_URL, TRUSTED_PROXIES, CORS_ORIGINS); see the
README's Configuration table. Prints 'serving on http://HOST:PORT' once listening (PORT=0 picks a
free port); a bad setting, or an address it cannot listen on, is one line on stderr and exit status 2."""

logger = logging.getLogger("bridge")


def configure_logging() -> None:
    # One access line per request: a record without what the format never shows (the caller's file
    # and line, the thread, the process) costs 8 us where a full one costs 28 (the logging HOWTO's
    # "Optimization" section names these switches).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Crawls are many and short: only their warnings and errors reach the log.
    for noisy in ("scrapy", "scrapyrt", "twisted", "py.warnings", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from twisted.python import log as twisted_log

    twisted_log.PythonLoggingObserver("twisted").start()


def cannot_listen(error: CannotListenError) -> str:
    """One line for a socket that cannot listen: a port in use, an address that is not ours, a host
    name that does not resolve."""
    host = f"[{error.interface}]" if ":" in str(error.interface) else error.interface
    reason = getattr(error.socketError, "strerror", None) or str(error.socketError)
    return f"cannot listen on {host}:{error.port}: {reason[:1].lower()}{reason[1:]}"


def main() -> None:
    argparse.ArgumentParser(prog="python -m bridge", description=DESCRIPTION).parse_args()
    try:
        config = load_config()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        sys.exit(2)

    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")

    from scrapyrt.conf import app_settings
    from twisted.internet import reactor
    from twisted.internet.error import CannotListenError

    from bridge.routes import Root
    from bridge.site import Site
    from bridge.state import ServiceState
    from bridge.warmup import open_session, preload_crawl_machinery
    from tiktok_spiders.client import ClientOptions, TikTokClient

    app_settings.setmodule("settings.service")
    app_settings.freeze()
    configure_logging()

    # The crawls' middleware finds this same client: their settings carry the same configuration.
    client = TikTokClient.shared(ClientOptions.from_config(config))
    state = ServiceState(config, client)
    # Connections that say nothing for HTTP_IDLE_TIMEOUT seconds are closed (slow clients hold no slot).
    site = Site(Root(state), timeout=config.http_idle_timeout)
    site.log = lambda request: None  # type: ignore[method-assign]  # bridge.access logs one line instead
    twisted_reactor = cast("Any", reactor)
    try:
        port = twisted_reactor.listenTCP(config.port, site, interface=config.host)
    except CannotListenError as error:
        print(f"error: {cannot_listen(error)}", file=sys.stderr)
        sys.exit(2)
    address = port.getHost()
    print(f"serving on http://{address.host}:{address.port}", flush=True)

    background: list[asyncio.Future[Any]] = []  # asyncio keeps only weak references to tasks

    def warm_up() -> None:
        # Chromium launches in its own processes while a thread imports the crawl machinery, so the
        # first caller waits for neither in turn.
        background.append(asyncio.ensure_future(open_session(client)))
        background.append(asyncio.ensure_future(asyncio.to_thread(preload_crawl_machinery)))

    async def close() -> None:
        await TikTokClient.close_all()

    from twisted.internet.defer import Deferred

    twisted_reactor.callWhenRunning(warm_up)
    twisted_reactor.addSystemEventTrigger(
        "before", "shutdown", lambda: Deferred.fromFuture(asyncio.ensure_future(close()))
    )
    twisted_reactor.run()


if __name__ == "__main__":
    main()
