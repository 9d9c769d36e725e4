"""What every route does around its answer: only ``GET`` and ``HEAD`` (405 otherwise), nothing below
the route (404, a trailing slash too: one spelling per route, one cache key), CORS, the access log,
the client's rate limit, the query string read strictly, and any failure as a problem document.

A route's ``answer`` returns a ``Reply``, or an awaitable of one (an answer that needs a crawl); or
of None when the route streamed its answer itself (the play proxy).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from twisted.internet.defer import Deferred
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from bridge import problems, writer
from bridge.replies import Reply, problem_reply

if TYPE_CHECKING:
    from twisted.web.server import Request

    from bridge.state import ServiceState

logger = logging.getLogger(__name__)
MAX_QUERY_BYTES = 2048


class ServiceResource(Resource):
    isLeaf = True

    def __init__(self, state: ServiceState) -> None:
        super().__init__()
        self.state = state

    #: the route's template in the access log and /metrics (``route_of``: ``/users/{uniqueId}/videos``,
    #: never a path); None: no route (a 404)
    template: str | None = None

    def render(self, request: Request) -> int:
        writer.log_when_finished(request, self.route_of(request), self.state.observe)
        writer.allow_origin(request, self.state.config.cors_origins)
        try:
            if request.method not in (b"GET", b"HEAD"):
                raise problems.method_not_allowed(request.method.decode("latin-1", "replace")[:20])
            if request.postpath:  # anything below the route, a trailing slash included
                raise problems.not_found("no such route; see /openapi.json")
            answer = self.answer(request)
        except Exception as error:  # every failure becomes a problem document
            writer.send(request, problem_reply(self.problem_of(error), writer.request_id(request)))
            return NOT_DONE_YET
        if isinstance(answer, Reply):
            writer.send(request, answer)
        else:
            deferred = Deferred.fromFuture(asyncio.ensure_future(answer))
            deferred.addCallbacks(
                lambda reply: writer.send(request, reply) if reply is not None else None,
                lambda failure: writer.send_or_cut(
                    request, problem_reply(self.problem_of(failure.value), writer.request_id(request))
                ),
            )
        return NOT_DONE_YET

    def answer(self, request: Request) -> Reply | Awaitable[Reply | None]:
        raise NotImplementedError

    def route_of(self, request: Request) -> str | None:
        """The route's template (``/videos/{id}``) that the access log names: never the caller's path."""
        return self.template

    def problem_of(self, error: BaseException) -> problems.Problem:
        """The problem a caller gets for ``error``: its own, or a 500 for what is our bug."""
        if isinstance(error, problems.Problem):
            return error
        logger.error("%s failed unexpectedly: %r", type(self).__name__, error)
        return problems.internal_error()

    def base(self, request: Request) -> str:
        return writer.public_base(request, self.state.config.public_base_url)

    def client_of(self, request: Request) -> str:
        """Who the rate limit counts: the peer, or the client a trusted proxy names."""
        peer = request.getClientAddress()
        host = getattr(peer, "host", None) or "unknown"
        addresses = self.state.addresses
        if not addresses.trusted:  # no proxy of ours: X-Forwarded-For is whatever the caller wrote
            return host
        return addresses.of(host, writer.header(request, "X-Forwarded-For"))

    def limit_rate(self, request: Request) -> None:
        """Count this request against its client's ``RATE_LIMIT``: RateLimit-* headers, or a 429."""
        verdict = self.state.rate_limit.check(self.client_of(request))
        if verdict is not None:
            writer.set_headers(request, verdict.headers())
            if not verdict.allowed:
                self.state.rate_limit.refused += 1
                raise problems.rate_limited(verdict.reset_in)


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
