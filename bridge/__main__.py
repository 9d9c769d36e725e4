"""``python -m bridge``: the HTTP service on HOST:PORT (see the README for the environment)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import textwrap
from typing import TYPE_CHECKING, Any

from settings.env import ConfigError, load_config

if TYPE_CHECKING:
    from twisted.internet.error import CannotListenError
    from twisted.internet.tcp import Port

    from bridge.site import Site
    from settings.env import Config

_START = """\
Prints 'serving on http://HOST:PORT' once it accepts requests (PORT=0 picks a free port); Chromium and
the TikTok session start at once, /health is 503 until they are ready. A bad setting, or an address it
cannot listen on, is one line on stderr and exit status 2."""


def description() -> str:
    """``--help``'s text: every route of the OpenAPI document and every environment variable, with
    its default and meaning (``settings.variables``), so it cannot leave one out."""
    from bridge.openapi import openapi_document
    from settings.variables import plain, variables

    paths = openapi_document()["paths"]
    width = max(map(len, paths))
    routes = [f"  {path.ljust(width)}  {item['get']['summary']}" for path, item in paths.items()]
    settings = [
        textwrap.fill(
            plain(each.meaning),
            width=100,
            initial_indent=plain(f"  {each.name} ({each.default}): "),
            subsequent_indent="      ",
        )
        for each in variables()
    ]
    return "\n".join(
        [
            "Serves TikTok videos, creators, comments and sounds as JSON. Routes (GET and HEAD):",
            *routes,
            "Configured by environment variables (the README's Configuration):",
            *settings,
            _START,
        ]
    )


class _Parser(argparse.ArgumentParser):
    """Builds its description only for ``--help``: the OpenAPI document's imports are not the start's."""

    def format_help(self) -> str:
        self.description = description()
        return super().format_help()


logger = logging.getLogger("bridge")


def configure_logging(config: Config) -> None:
    from bridge import logs

    logs.configure(config.log_format)
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


def install_asyncio_reactor() -> Any:
    """Twisted's asyncio reactor on a new event loop, as Scrapy's ``install_reactor`` installs it,
    without importing Scrapy (some 0.15 s, which the browser's start need not wait for)."""
    from twisted.internet import asyncioreactor

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    asyncioreactor.install(eventloop=loop)
    from twisted.internet import reactor

    return reactor


def listen(twisted_reactor: Any, config: Config) -> tuple[Site, Port]:
    """The service's socket, listening but not accepting yet: an address that cannot be had is one
    line and exit status 2 before anything is started. The site's routes come once they are imported
    (``main``); until then connections wait in the listen backlog, none is accepted."""
    from twisted.internet.error import CannotListenError
    from twisted.web.resource import Resource

    from bridge.site import Site

    # Connections that say nothing for HTTP_IDLE_TIMEOUT seconds are closed (slow clients hold no slot).
    site = Site(Resource(), timeout=config.http_idle_timeout)
    site.log = lambda request: None  # type: ignore[method-assign]  # bridge.access logs one line instead
    try:
        port = twisted_reactor.listenTCP(config.port, site, interface=config.host)
    except CannotListenError as error:
        print(f"error: {cannot_listen(error)}", file=sys.stderr)
        sys.exit(2)
    port.stopReading()
    return site, port


def main() -> None:
    _Parser(prog="python -m bridge", formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    try:
        config = load_config()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        sys.exit(2)

    twisted_reactor = install_asyncio_reactor()
    from twisted.internet.defer import Deferred

    site, port = listen(twisted_reactor, config)
    configure_logging(config)

    from bridge.warmup import import_service, warm_up
    from tiktok_spiders.client import ClientOptions, TikTokClient

    # The crawls' middleware finds this same client: their settings carry the same configuration.
    client = TikTokClient.shared(ClientOptions.from_config(config))
    background: list[asyncio.Future[Any]] = []  # asyncio keeps only weak references to tasks
    exit_status: list[int] = []

    def start() -> None:
        # The Playwright driver and Chromium start now, in their own processes, while a thread
        # imports the routes (Scrapy, ScrapyRT): the first caller joins a session already opening.
        background.append(asyncio.ensure_future(warm_up(client)))
        serving = Deferred.fromFuture(asyncio.ensure_future(asyncio.to_thread(import_service)))
        serving.addCallback(lambda _: serve())
        serving.addErrback(cannot_serve)

    def serve() -> None:
        from scrapyrt.conf import app_settings

        from bridge.routes import Root
        from bridge.state import ServiceState

        app_settings.setmodule("settings.service")
        app_settings.freeze()
        site.resource = Root(ServiceState(config, client))
        port.startReading()
        address = port.getHost()
        print(f"serving on http://{address.host}:{address.port}", flush=True)

    def cannot_serve(failure: Any) -> None:
        print(f"error: the service could not start: {failure.getTraceback()}", file=sys.stderr, flush=True)
        exit_status.append(1)
        twisted_reactor.stop()

    async def close() -> None:
        await TikTokClient.close_all()

    twisted_reactor.callWhenRunning(start)
    twisted_reactor.addSystemEventTrigger(
        "before", "shutdown", lambda: Deferred.fromFuture(asyncio.ensure_future(close()))
    )
    twisted_reactor.run()
    if exit_status:
        sys.exit(exit_status[0])


if __name__ == "__main__":
    main()
