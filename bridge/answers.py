"""Writing answers: JSON bodies with their caching headers, problems, CORS, the access log line."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from typing import TYPE_CHECKING

from twisted.web.server import NOT_DONE_YET

from tiktok_spiders.answer_keys import BASE_PLACEHOLDER

if TYPE_CHECKING:
    from twisted.web.server import Request

    from bridge.cache import CachedAnswer
    from bridge.problems import Problem

access_log = logging.getLogger("bridge.access")
JSON = "application/json; charset=utf-8"


def header(request: Request, name: str) -> str | None:
    value = request.getHeader(name)
    return value.decode("latin-1") if isinstance(value, bytes) else value


def set_headers(request: Request, headers: dict[str, str]) -> None:
    for name, value in headers.items():
        request.setHeader(name.encode("latin-1"), value.encode("latin-1"))


def send(request: Request, status: int, body: bytes, content_type: str = JSON) -> bytes:
    """The synchronous path: Twisted writes what ``render`` returns (and drops the body for HEAD)."""
    request.setResponseCode(status)
    request.setHeader(b"Content-Type", content_type.encode("latin-1"))
    request.setHeader(b"Content-Length", str(len(body)).encode())
    return body


def send_later(request: Request, status: int, body: bytes, content_type: str = JSON) -> None:
    """The asynchronous path, for answers that come after a crawl."""
    if request.finished or getattr(request, "_disconnected", False):
        return  # the caller went away; the crawl's answer is cached for the next one
    send(request, status, body, content_type)
    if request.method != b"HEAD":
        request.write(body)
    request.finish()


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


def personalise(answer: CachedAnswer, base: str) -> tuple[bytes, str]:
    """The body with this caller's base URL in its play links, and an ETag that covers it."""
    placeholder = BASE_PLACEHOLDER.encode()
    if placeholder not in answer.body:
        return answer.body, answer.etag
    digest = hashlib.blake2b(base.encode(), digest_size=4).hexdigest()
    return answer.body.replace(placeholder, base.encode()), f'{answer.etag[:-1]}-{digest}"'


def send_answer(
    request: Request, answer: CachedAnswer, cache_state: str, link: str | None, base: str
) -> bytes:
    remaining = max(0, int(answer.ttl - answer.age())) if cache_state != "STALE" else 0
    body, etag = personalise(answer, base)
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={remaining}",
        "X-Cache": cache_state,
    }
    if link:
        headers["Link"] = link
    set_headers(request, headers)
    if none_match(header(request, "If-None-Match"), etag):
        request.setResponseCode(304)
        return b""
    return send(request, 200, body)


#: one entity-tag of a list (RFC 9110 section 8.8.3): an optional W/, then the opaque tag, quotes
#: included (a comma may sit inside them), then the end of the list element
_ENTITY_TAG = re.compile(r'(?:W/)?("[\x21\x23-\x7e\x80-\xff]*")[ \t]*(?=,|$)')
#: white space and empty list elements, which a recipient accepts (RFC 9110 section 5.6.1)
_SEPARATORS = re.compile(r"[ \t,]*")


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag``: ``*``, or a list of tags compared weakly (RFC 9110
    section 13.1.2: ``W/"x"`` matches ``"x"``). A list that cannot be read matches nothing."""
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    tags: list[str] = []
    position = 0
    while True:
        separators = _SEPARATORS.match(if_none_match, position)
        position = separators.end() if separators else position
        if position == len(if_none_match):
            break
        match = _ENTITY_TAG.match(if_none_match, position)
        if match is None:
            return False
        tags.append(match.group(1))
        position = match.end()
    return etag.removeprefix("W/") in tags


def problem_headers(request: Request, problem: Problem) -> None:
    set_headers(request, {"Cache-Control": "no-store", **problem.headers})


def send_problem(request: Request, problem: Problem) -> bytes:
    problem_headers(request, problem)
    return send(request, problem.status, problem.body(), "application/problem+json")


def send_problem_later(request: Request, problem: Problem) -> None:
    problem_headers(request, problem)
    send_later(request, problem.status, problem.body(), "application/problem+json")


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


def log_when_finished(request: Request) -> None:
    started = time.perf_counter()

    def log(_: object) -> None:
        elapsed = (time.perf_counter() - started) * 1000
        uri = request.uri.decode("utf-8", "replace")
        cache_state = header_out(request, b"X-Cache") or "-"
        access_log.info(
            "%s %s %d %.1fms %s",
            request.method.decode("latin-1"),
            uri if len(uri) <= 200 else uri[:200] + "...",
            request.code,
            elapsed,
            cache_state,
        )

    request.notifyFinish().addBoth(log)


def header_out(request: Request, name: bytes) -> str | None:
    values = request.responseHeaders.getRawHeaders(name)
    return values[0].decode("latin-1") if values else None


__all__ = ["NOT_DONE_YET"]
