"""Sending replies (``bridge.replies.Reply``) on Twisted's requests, in one place: the status, the
headers and ``Content-Length``, no body for ``HEAD`` or ``304``, nothing for a caller that went away,
and a cut connection for a stream that broke after its first byte. Also what routes read off a
request (a header, the public base URL, its id) and the access log line and CORS headers every answer
gets."""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from twisted.web.server import Request

    from bridge.replies import Reply

    #: what is told of each finished request: its route, status, X-Cache and seconds
    Observe = Callable[[str, int, str | None, float], None]

access_log = logging.getLogger("bridge.access")


def header(request: Request, name: str) -> str | None:
    value = request.getHeader(name)
    return value.decode("latin-1") if isinstance(value, bytes) else value


def set_headers(request: Request, headers: dict[str, str]) -> None:
    for name, value in headers.items():
        request.setHeader(name.encode("latin-1"), value.encode("latin-1"))


def gone(request: Request) -> bool:
    """Whether the request is answered already, or its caller went away."""
    return bool(request.finished or getattr(request, "_disconnected", False))


def send(request: Request, reply: Reply) -> None:
    """Write ``reply`` and finish the request. A caller that went away gets nothing (an answer a
    crawl brought is cached for the next one); a ``HEAD`` gets the headers a ``GET`` would."""
    if gone(request):
        return
    request.setResponseCode(reply.status)
    set_headers(request, reply.headers)
    if reply.content_type is not None:
        request.setHeader(b"Content-Type", reply.content_type.encode("latin-1"))
        request.setHeader(b"Content-Length", str(len(reply.body)).encode())
    if request.method != b"HEAD" and reply.body:
        request.write(reply.body)
    request.finish()


def start(request: Request, status: int, headers: dict[str, str]) -> None:
    """The status and headers of a streamed answer, whose body the caller of this writes."""
    request.setResponseCode(status)
    set_headers(request, headers)


def send_or_cut(request: Request, reply: Reply) -> None:
    """``send``, unless part of another answer went out already (a stream that broke mid-way): that
    cannot become a problem document, so the connection is cut and the caller sees it incomplete."""
    if request.startedWriting:
        cut(request)
    else:
        send(request, reply)


def cut(request: Request) -> None:
    if not gone(request):
        request.loseConnection()


_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def public_base(request: Request, configured: str | None) -> str:
    """Where callers reach this service: ``PUBLIC_BASE_URL``, else the request's own Host."""
    if configured:
        return configured
    host = header(request, "Host")
    if host is None or not _HOST.fullmatch(host):
        address = request.getHost()
        host = f"{address.host}:{address.port}"
    return f"http://{host}"


def allow_origin(request: Request, origins: tuple[str, ...]) -> None:
    if not origins:
        return
    if "*" in origins:
        request.setHeader(b"Access-Control-Allow-Origin", b"*")
        return
    origin = header(request, "Origin")
    if origin in origins:
        request.setHeader(b"Access-Control-Allow-Origin", origin.encode("latin-1"))
    request.setHeader(b"Vary", b"Origin")


#: the /metrics route label of a request no route has (its path is the caller's: never a label)
UNMATCHED = "unmatched"


def request_id(request: Request) -> str | None:
    """The request's id (``bridge.site.Request``; a request made elsewhere, as a test's, has none)."""
    return getattr(request, "request_id", None) or None


def log_when_finished(request: Request, route: str | None, observe: Observe | None = None) -> None:
    """One access line once the request is answered (or its caller went away), and
    ``observe(route, status, X-Cache, seconds)`` (``bridge.metrics``) from the same callback. ``route``
    is the route's template (``/videos/{id}``; None for no route), never the caller's path: a bounded set."""
    started = time.perf_counter()

    def log(_: object) -> None:
        seconds = time.perf_counter() - started
        elapsed = seconds * 1000
        uri = request.uri.decode("utf-8", "replace")
        target = uri if len(uri) <= 200 else uri[:200] + "..."
        cache_state = header_out(request, b"X-Cache")
        if observe is not None:
            observe(route or UNMATCHED, request.code, cache_state, seconds)
        method = request.method.decode("latin-1")
        access_log.info(
            "%s %s %d %.1fms %s",
            method,
            target,
            request.code,
            elapsed,
            cache_state or "-",
            # Two attributes, not six: each costs the record (bridge.logs.ACCESS_FIELDS names them).
            extra={
                "request_id": request_id(request),
                "access": (method, route, target, request.code, round(elapsed, 2), cache_state),
            },
        )

    request.notifyFinish().addBoth(log)


def header_out(request: Request, name: bytes) -> str | None:
    values = request.responseHeaders.getRawHeaders(name)
    return values[0].decode("latin-1") if values else None
