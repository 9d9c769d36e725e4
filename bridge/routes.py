"""The routes (DESIGN.md section 1), as a table: one ``FeedRoute`` per feed of the catalogue
(``tiktok_spiders.feeds``: ``/trending``, ``/users/{uniqueId}/videos``, ...), the video routes
(``bridge.videos``), ``/health``, ``/openapi.json``, ``/metrics`` and the home page. Every other path is 404. ScrapyRT's generic ``/crawl.json`` is not mounted: it would
let any caller make the server fetch any URL."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, cast
from urllib.parse import unquote_to_bytes

from cachetools import LRUCache
from twisted.web.resource import IResource, Resource

from bridge import problems, writer
from bridge.policy import FeedRequest
from bridge.replies import Reply, answer_reply, json_reply
from bridge.shell import ServiceResource, query_of
from bridge.videos import Videos
from tiktok_spiders.feeds import FEEDS
from tiktok_spiders.params import InvalidParameter

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from twisted.web.server import Request

    from bridge.policy import Served
    from bridge.state import ServiceState
    from tiktok_spiders.feeds import Feed


def route_table(state: ServiceState) -> dict[bytes, Resource]:
    """The routes that are not feeds, by their first path segment."""
    routes: dict[bytes, Resource] = {
        b"videos": Videos(state),
        b"health": Health(state),
        b"openapi.json": OpenApi(state),
    }
    if state.metrics is not None:  # METRICS=off: /metrics is 404, as any path no route has
        routes[b"metrics"] = Metrics(state)
    return routes


def feed_routes(state: ServiceState, feeds: tuple[Feed, ...] = FEEDS) -> dict[str, FeedRoute]:
    """A route per feed, by the feed's name."""
    return {feed.name: FeedRoute(state, feed) for feed in feeds}


def path_parts(request: Request) -> tuple[str, ...]:
    """The request's path, split and percent-decoded (what is not UTF-8 becomes U+FFFD, which no
    parameter accepts: a 400 naming it)."""
    return tuple(unquote_to_bytes(part).decode("utf-8", "replace") for part in request.path[1:].split(b"/"))


class Root(Resource):
    def __init__(self, state: ServiceState, feeds: tuple[Feed, ...] = FEEDS) -> None:
        super().__init__()
        for path, route in route_table(state).items():
            self.putChild(path, cast("IResource", route))  # zope's declaration is lost on mypy
        #: the feeds' routes by their path's first segment (``/videos/{video}/comments`` under videos)
        self.feeds: dict[bytes, list[FeedRoute]] = {}
        for route in feed_routes(state, feeds).values():
            self.feeds.setdefault(route.feed.segments[0].encode(), []).append(route)
        self.not_found = NotFound(state)
        self.home = Home(state)

    def getChildWithDefault(self, path: bytes, request: Request) -> Resource:
        routes = self.feeds.get(path)
        if routes is not None:
            parts = path_parts(request) if len(routes) > 1 or request.postpath else (path.decode(),)
            for route in routes:
                if route.feed.match(parts) is not None:
                    request.postpath = []
                    return route
        return super().getChildWithDefault(path, request)  # type: ignore[no-any-return]

    def getChild(self, path: bytes, request: Request) -> Resource:
        if path in self.feeds:  # a feed's first segment, but none of their paths: ``/trending/``
            return self.not_found
        return self.home if path == b"" else self.not_found

    def render(self, request: Request) -> int:
        return self.home.render(request)


class FeedRoute(ServiceResource):
    """``GET /{feed}`` (or the feed's path, ``/users/{uniqueId}/videos``): the feed's parameters
    checked, the path's among them, then the answer policy's answer."""

    def __init__(self, state: ServiceState, feed: Feed) -> None:
        super().__init__(state)
        self.feed = feed
        self.template = feed.route
        # A hit is mostly the same few URLs again: what they parse to (the arguments, the cache key)
        # and each answer's Link are pure functions of the path and query, kept for the recent ones.
        self.requests: LRUCache[bytes, FeedRequest] = LRUCache(maxsize=1024)
        self.links: LRUCache[tuple[bytes, int | str | None], str | None] = LRUCache(maxsize=1024)

    def answer(self, request: Request) -> Reply | Awaitable[Reply]:
        self.limit_rate(request)
        query = request.uri
        feed_request = self.requests.get(query)
        if feed_request is None:
            raw: dict[str, object] = dict(query_of(request, self.feed.query_names))
            if self.feed.path_names:
                raw.update(self.feed.match(path_parts(request)) or {})
            try:
                arguments = self.feed.parse(raw)
            except InvalidParameter as error:
                raise problems.invalid_parameter(error.name, error.problem) from None
            feed_request = self.requests[query] = FeedRequest.of(self.feed, MappingProxyType(arguments))
        served = self.state.policy.fresh(feed_request)
        if served is not None:  # answered at once, with no task to schedule
            return self.reply(request, query, feed_request, served)
        return self.answer_later(request, query, feed_request)

    async def answer_later(self, request: Request, query: bytes, feed_request: FeedRequest) -> Reply:
        served = await self.state.policy.feed(feed_request, self.client_of(request))
        return self.reply(request, query, feed_request, served)

    def reply(self, request: Request, query: bytes, feed_request: FeedRequest, served: Served) -> Reply:
        next_cursor = served.answer.next_cursor
        try:
            link = self.links[query, next_cursor]
        except KeyError:
            link = self.links[query, next_cursor] = self.feed.link(feed_request.arguments, next_cursor)
        return answer_reply(served, link, self.base(request), writer.header(request, "If-None-Match"))


class Health(ServiceResource):
    """``/health``: 200 ``ok`` or ``degraded``, 503 ``down`` (a load balancer takes the instance out)."""

    template = "/health"

    def answer(self, request: Request) -> Awaitable[Reply]:
        query_of(request, ())
        return self.report()

    async def report(self) -> Reply:
        status, health = await self.state.health()
        headers = {"Cache-Control": "no-store"}
        if status == 503:
            headers["Retry-After"] = "1"
        return json_reply(status, health, headers)


class OpenApi(ServiceResource):
    template = "/openapi.json"

    def answer(self, request: Request) -> Reply:
        query_of(request, ())
        return Reply(200, self.state.openapi_body)


class Metrics(ServiceResource):
    """``/metrics``: Prometheus' text format (``bridge.metrics``); not rate-limited, never cached."""

    template = "/metrics"

    def answer(self, request: Request) -> Reply:
        query_of(request, ())
        metrics = self.state.metrics
        assert metrics is not None  # mounted only with METRICS on
        return Reply(200, metrics.exposition(), {"Cache-Control": "no-store"}, metrics.content_type)


class Home(ServiceResource):
    """``/``: a page that shows the feed, for a person to see that the service works."""

    template = "/"

    page = (Path(__file__).parent / "static" / "index.html").read_bytes()
    #: its own script and styles, the service's videos, any cover image; nothing else
    policy = (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "connect-src 'self'; media-src 'self'; img-src 'self' https: http:; base-uri 'none'; form-action 'self'"
    )

    def answer(self, request: Request) -> Reply:
        headers = {"Content-Security-Policy": self.policy, "Cache-Control": "no-cache"}
        return Reply(200, self.page, headers, "text/html; charset=utf-8")


class NotFound(ServiceResource):
    def render(self, request: Request) -> int:
        request.postpath = []
        return super().render(request)

    def answer(self, request: Request) -> Reply:
        raise problems.not_found("no such route; see /openapi.json")
