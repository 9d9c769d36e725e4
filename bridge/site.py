"""The HTTP/1.1 layer under the routes: Twisted's site, channel and request, with four corrections.

- Raw UTF-8 in the request target (``GET /category?hashtag=美食``, as curl and many clients send it) is
  read as that UTF-8 percent-encoded, the IRI-to-URI mapping of RFC 3987 section 3.1, so it gets the
  same answer as ``hashtag=%E7%BE%8E%E9%A3%9F``. Twisted alone refuses such a request line with an
  empty 400 before any route sees it. Bytes that are not UTF-8 still get a 400 problem, from the
  route, as ``%FF`` does.
- What Twisted itself refuses (a request line or header it cannot parse) is a 400 problem document,
  not an empty body.
- A request with more than one ``Host`` is a 400 problem (RFC 9112 section 3.2 says a server must
  answer so); Twisted would keep the last one.
- Every status line has its RFC 9110 reason phrase: Twisted's table has no 429 ("Unknown Status"),
  says "Gateway Time-out" and "Requested Range not satisfiable".

Every request gets its id (``bridge.request_ids``) before any route sees it: an ``X-Request-ID`` on
its answer, whatever answers it, and the current id while it is processed.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_from_bytes

from twisted.web import http, server
from twisted.web.resource import Resource

from bridge import request_ids, writer
from bridge.problems import Problem
from bridge.replies import problem_reply

if TYPE_CHECKING:
    from twisted.web.server import Request as TwistedRequest

#: RFC 9110 section 15's reason phrases; Python 3.11's table predates the RFC's four renames
REASONS: dict[int, bytes] = {
    **{status.value: status.phrase.encode("ascii") for status in HTTPStatus},
    413: b"Content Too Large",
    414: b"URI Too Long",
    416: b"Range Not Satisfiable",
    422: b"Unprocessable Content",
}
#: bytes a request target keeps as they are: all of ASCII (Twisted refuses what is not allowed)
_ASCII = bytes(range(0x80))


def bad_request(detail: str) -> Problem:
    return Problem(400, "bad_request", "Bad Request", detail)


MALFORMED = bad_request("the request is not well-formed HTTP/1.1 (RFC 9112): a line could not be read")
DUPLICATE_HOST = bad_request("the request has more than one Host header (RFC 9112 section 3.2)")


def encode_target(request_line: bytes) -> bytes:
    """The request line with each byte above 0x7F of its target percent-encoded; others unchanged."""
    parts = request_line.split(b" ")
    if len(parts) != 3 or parts[1].isascii():
        return request_line
    method, target, version = parts
    return b" ".join((method, quote_from_bytes(target, safe=_ASCII).encode("ascii"), version))


class Channel(http.HTTPChannel):
    def __init__(self) -> None:
        super().__init__()
        #: the next line is a request line: at the start and after each request's blank line (the
        #: bodies arrive in raw mode, never as lines)
        self._request_line_next = True

    def lineReceived(self, line: bytes) -> None:
        if self._request_line_next:
            if line:  # Twisted skips one blank line before a request
                self._request_line_next = False
                line = encode_target(line)
        elif not line:
            self._request_line_next = True
        super().lineReceived(line)

    def _respondToBadRequestAndDisconnect(self) -> None:
        # Twisted's one way of refusing what it cannot parse writes an empty 400; same answer, with
        # a body that says so.
        request_id = request_ids.new()
        body = MALFORMED.body(request_id)
        head = (
            "HTTP/1.1 400 Bad Request\r\n"
            f"X-Request-ID: {request_id}\r\n"
            "Content-Type: application/problem+json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\n"
            "Connection: close\r\n\r\n"
        )
        transport: Any = self.transport  # zope's ITransport.write has no self for mypy
        if transport is not None:
            transport.write(head.encode("ascii") + body)
        self.loseConnection()


class Request(server.Request):
    #: the caller's sane ``X-Request-ID``, else a new one (``bridge.request_ids``)
    request_id = ""

    def process(self) -> None:
        self.request_id = request_id = request_ids.of(self.requestHeaders.getRawHeaders(request_ids.HEADER))
        self.responseHeaders.setRawHeaders(request_ids.HEADER, [request_id.encode("ascii")])
        # While the route answers, and in the tasks it starts (they copy the context): its log lines.
        token = request_ids.current.set(request_id)
        try:
            super().process()
        finally:
            request_ids.current.reset(token)

    def setResponseCode(self, code: int, message: bytes | None = None) -> None:
        super().setResponseCode(code, REASONS.get(code) if message is None else message)


class _Refusal(Resource):
    """Answers one problem, whatever the path and method."""

    isLeaf = True

    def __init__(self, problem: Problem) -> None:
        super().__init__()
        self.problem = problem

    def render(self, request: TwistedRequest) -> int:
        writer.log_when_finished(request, None)
        writer.send(request, problem_reply(self.problem, writer.request_id(request)))
        return server.NOT_DONE_YET


class Site(server.Site):
    protocol = Channel  # type: ignore[assignment]  # HTTP/1.1 only: no TLS, so no h2 to negotiate
    requestFactory = Request

    def __init__(self, resource: Resource, *, timeout: float) -> None:
        super().__init__(resource, timeout=timeout)
        self.duplicate_host = _Refusal(DUPLICATE_HOST)

    def getResourceFor(self, request: TwistedRequest) -> Resource:
        if len(request.requestHeaders.getRawHeaders(b"host") or ()) > 1:
            return self.duplicate_host
        return super().getResourceFor(request)  # type: ignore[no-any-return]
