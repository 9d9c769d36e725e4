"""The routes (DESIGN.md section 1) as Twisted resources for ScrapyRT's server.

Only ``GET`` and ``HEAD``; every other method is 405, every other path 404, a route with a trailing
slash too (``/trending/``: one spelling per route, one cache key). ScrapyRT's generic ``/crawl.json``
is not mounted: it would let any caller make the server fetch any URL.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from twisted.internet.defer import Deferred
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from bridge import answers, problems
from bridge.cache import CachedAnswer
from tiktok_spiders.answer_keys import category_key, feed_body, search_key, trending_key
from tiktok_spiders.params import (
    InvalidParameter,
    parse_count,
    parse_cursor,
    parse_hashtag,
    parse_query,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from twisted.web.server import Request

    from bridge.state import ServiceState

logger = logging.getLogger(__name__)
MAX_QUERY_BYTES = 2048


@dataclass(frozen=True, slots=True)
class FeedRequest:
    """A feed request, normalised: its cache key, the spider's arguments, how to link the next page."""

    key: str
    spider_arguments: dict[str, Any]
    ttl: float
    link_params: dict[str, str] | None = None


class ServiceResource(Resource):
    """Method check, CORS, access log and problem answers for every route."""

    isLeaf = True

    def __init__(self, state: ServiceState) -> None:
        super().__init__()
        self.state = state

    def render(self, request: Request) -> bytes | int:
        answers.log_when_finished(request)
        answers.allow_origin(request, self.state.config.cors_origins)
        try:
            if request.method not in (b"GET", b"HEAD"):
                raise problems.method_not_allowed(request.method.decode("latin-1", "replace")[:20])
            if request.postpath:  # anything below the route, a trailing slash included
                raise problems.not_found("no such route; see /openapi.json")
            return self.answer(request)
        except problems.Problem as problem:
            return answers.send_problem(request, problem)
        except Exception:
            logger.exception("unexpected failure answering %s", request.path[:100])
            return answers.send_problem(request, problems.internal_error())

    def answer(self, request: Request) -> bytes | int:
        raise NotImplementedError

    def base(self, request: Request) -> str:
        return answers.public_base(request, self.state.config.public_base_url)

    def limit_rate(self, request: Request) -> None:
        """Count this request against its client's ``RATE_LIMIT``: RateLimit-* headers, or a 429."""
        verdict = self.state.rate_limit.check(self.state.client_of(request))
        if verdict is not None:
            answers.set_headers(request, verdict.headers())
            if not verdict.allowed:
                raise problems.rate_limited(verdict.reset_in)


class Home(ServiceResource):
    """``/``: a page that shows the feed, for a person to see that the service works."""

    page = (Path(__file__).parent / "static" / "index.html").read_bytes()
    #: its own script and styles, the service's videos, any cover image; nothing else
    policy = (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "connect-src 'self'; media-src 'self'; img-src 'self' https: http:; base-uri 'none'; form-action 'self'"
    )

    def answer(self, request: Request) -> bytes | int:
        request.setHeader(b"Content-Security-Policy", self.policy.encode())
        request.setHeader(b"Cache-Control", b"no-cache")
        return answers.send(request, 200, self.page, "text/html; charset=utf-8")


class NotFound(ServiceResource):
    def render(self, request: Request) -> bytes | int:
        request.postpath = []
        return super().render(request)

    def answer(self, request: Request) -> bytes | int:
        raise problems.not_found("no such route; see /openapi.json")


class Root(Resource):
    def __init__(self, state: ServiceState) -> None:
        super().__init__()
        self.state = state
        from bridge.videos import Videos  # noqa: PLC0415 - videos.py builds on this module

        routes: dict[bytes, Any] = {
            b"trending": Trending(state),
            b"videos": Videos(state),
            b"category": Category(state),
            b"search": Search(state),
            b"health": Health(state),
            b"openapi.json": OpenApi(state),
        }
        for path, route in routes.items():
            self.putChild(path, route)
        self.not_found = NotFound(state)
        self.home = Home(state)

    def getChild(self, path: bytes, request: Request) -> Resource:
        return self.home if path == b"" else self.not_found

    def render(self, request: Request) -> bytes | int:
        return self.home.render(request)


def query_of(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query as text, each parameter at most once, only ``allowed`` names; else a 400."""
    raw = request.uri.partition(b"?")[2]
    if len(raw) > MAX_QUERY_BYTES:
        raise problems.invalid_parameter("query", f"longer than {MAX_QUERY_BYTES} bytes")
    try:
        pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise problems.invalid_parameter("query", "is not valid percent-encoded UTF-8") from None
    query: dict[str, str] = {}
    for name, value in pairs:
        if name not in allowed:
            raise problems.invalid_parameter(name[:40], f"unknown parameter (allowed: {', '.join(allowed)})")
        if name in query:
            raise problems.invalid_parameter(name, "given more than once")
        query[name] = value
    return query


class FeedResource(ServiceResource):
    spider: str
    parameters: tuple[str, ...]

    def feed_request(self, query: dict[str, str]) -> FeedRequest:
        raise NotImplementedError

    def answer(self, request: Request) -> bytes | int:
        self.limit_rate(request)
        try:
            feed = self.feed_request(query_of(request, self.parameters))
        except InvalidParameter as error:
            raise problems.invalid_parameter(error.name, error.problem) from None
        if self.state.shared_cache is not None:  # a shared cache answers asynchronously
            return self.later(request, feed, self.shared_lookup(feed))
        cached = self.state.cache.lookup(feed.key)
        if cached is not None and cached.fresh():
            return answers.send_answer(request, cached, "HIT", self.link(feed, cached), self.base(request))
        return self.later(request, feed, self.miss(feed, cached))

    def later(self, request: Request, feed: FeedRequest, work: Awaitable[tuple[CachedAnswer, str]]) -> int:
        deferred = Deferred.fromFuture(asyncio.ensure_future(work))
        deferred.addCallbacks(
            lambda result: self.finish(request, feed, *result),
            lambda failure: self.fail(request, failure.value),
        )
        return NOT_DONE_YET

    async def shared_lookup(self, feed: FeedRequest) -> tuple[CachedAnswer, str]:
        assert self.state.shared_cache is not None
        cached = await self.state.shared_cache.lookup(feed.key)
        if cached is not None and cached.fresh():
            return cached, "HIT"
        return await self.miss(feed, cached)

    async def miss(self, feed: FeedRequest, stale: CachedAnswer | None) -> tuple[CachedAnswer, str]:
        state = self.state
        if feed.key not in state.flights and len(state.flights) >= state.config.max_concurrent_crawls:
            if stale is not None:
                state.served_stale()
                return stale, "STALE"
            raise problems.overloaded(retry_after=1)
        try:
            shared = state.shared_cache
            if shared is not None:  # one crawl per key across the instances sharing the cache
                return await state.flights.run(
                    feed.key, lambda: shared.exclusive(feed.key, lambda: self.fetch(feed))
                ), "MISS"
            return await state.flights.run(feed.key, lambda: self.fetch(feed)), "MISS"
        except problems.Problem as problem:
            if stale is not None and problem.status >= 500:
                state.served_stale()
                return stale, "STALE"
            raise

    async def fetch(self, feed: FeedRequest) -> CachedAnswer:
        outcome = await self.state.crawl(self.spider, feed.spider_arguments)
        problem = outcome.problem()
        self.state.record_outcome(problem)
        self.state.videos.add_all(outcome.videos)
        partial = problem is not None and problem.status >= 500 and bool(outcome.videos)
        if problem is not None and not partial:
            raise problem
        body = feed_body(outcome.videos)
        answer = CachedAnswer.build(body, feed.ttl, outcome.next_cursor)
        if not partial and self.state.shared_cache is not None:
            await self.state.shared_cache.store(feed.key, answer)
        elif not partial:  # a page cut short by an upstream failure is served once, never cached
            self.state.cache.store(feed.key, answer)
        return answer

    def finish(self, request: Request, feed: FeedRequest, answer: CachedAnswer, cache_state: str) -> None:
        body = answers.send_answer(request, answer, cache_state, self.link(feed, answer), self.base(request))
        if request.code == 304:
            answers.send_later(request, 304, b"")
        else:
            answers.send_later(request, 200, body)

    def fail(self, request: Request, error: BaseException | None) -> None:
        if not isinstance(error, problems.Problem):
            logger.error("crawl failed unexpectedly: %r", error)
            error = problems.internal_error()
        answers.send_problem_later(request, error)

    def link(self, feed: FeedRequest, answer: CachedAnswer) -> str | None:
        if feed.link_params is None or answer.next_cursor is None:
            return None
        query = urlencode({**feed.link_params, "cursor": str(answer.next_cursor)})
        return f'</{self.spider_route}?{query}>; rel="next"'

    @property
    def spider_route(self) -> str:
        return type(self).__name__.lower()


class Trending(FeedResource):
    spider = "trending"
    parameters = ("count",)

    def feed_request(self, query: dict[str, str]) -> FeedRequest:
        count = parse_count(query.get("count"))
        return FeedRequest(trending_key(count), {"count": count}, self.state.config.cache_ttl_trending)


class Category(FeedResource):
    spider = "hashtag"
    parameters = ("hashtag", "count", "cursor")

    def feed_request(self, query: dict[str, str]) -> FeedRequest:
        hashtag = parse_hashtag(query.get("hashtag"))
        count = parse_count(query.get("count"))
        cursor = parse_cursor(query.get("cursor"))
        return FeedRequest(
            category_key(hashtag, count, cursor),
            {"hashtag": hashtag, "count": count, "cursor": cursor},
            self.state.config.cache_ttl_hashtag,
            link_params={"hashtag": hashtag, "count": str(count)},
        )


class Search(FeedResource):
    spider = "search"
    parameters = ("q", "count", "cursor")

    def feed_request(self, query: dict[str, str]) -> FeedRequest:
        q = parse_query(query.get("q"))
        count = parse_count(query.get("count"))
        cursor = parse_cursor(query.get("cursor"))
        return FeedRequest(
            search_key(q, count, cursor),  # case-insensitive, like TikTok's search
            {"q": q, "count": count, "cursor": cursor},
            self.state.config.cache_ttl_hashtag,
            link_params={"q": q, "count": str(count)},
        )


class Health(ServiceResource):
    """``/health``: 200 ``ok`` or ``degraded``, 503 ``down`` (a load balancer takes the instance out)."""

    def answer(self, request: Request) -> bytes | int:
        query_of(request, ())
        deferred = Deferred.fromFuture(asyncio.ensure_future(self.state.health()))
        deferred.addCallbacks(
            lambda result: self.send_health(request, *result),
            lambda failure: self.fail(request, failure.value),
        )
        return NOT_DONE_YET

    def send_health(self, request: Request, status: int, health: dict[str, Any]) -> None:
        request.setHeader(b"Cache-Control", b"no-store")
        if status == 503:
            request.setHeader(b"Retry-After", b"1")
        answers.send_later(request, status, json.dumps(health, ensure_ascii=False).encode("utf-8"))

    def fail(self, request: Request, error: BaseException | None) -> None:
        logger.error("health check failed unexpectedly: %r", error)
        answers.send_problem_later(request, problems.internal_error())


class OpenApi(ServiceResource):
    def answer(self, request: Request) -> bytes | int:
        query_of(request, ())
        return answers.send(request, 200, self.state.openapi_body)
