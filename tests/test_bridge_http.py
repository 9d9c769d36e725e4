"""The HTTP layer under the routes (bridge/site.py, bridge/writer.py, bridge/replies.py): request lines as clients send
them, Host, reason phrases, conditional requests; raw bytes on a socket where http.client would
refuse to send them."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from harness.service import ServiceProcess

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess


@dataclass
class RawAnswer:
    status: int
    reason: str
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def json(self) -> Any:
        return json.loads(self.body)


def exchange(service: ServiceProcess, head: bytes, timeout: float = 150) -> RawAnswer:
    """Send ``head`` (a request line and headers, no end) with Connection: close; read the whole answer."""
    parts = urlsplit(service.base_url)
    assert parts.hostname == "127.0.0.1" and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as connection:
        connection.sendall(head + b"\r\nConnection: close\r\n\r\n")
        chunks: list[bytes] = []
        for _ in range(10_000):  # bounded; each recv is bounded by the timeout
            chunk = connection.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    data = b"".join(chunks)
    header_block, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = header_block.decode("latin-1").split("\r\n")
    _, status, reason = status_line.split(" ", 2)
    headers: dict[str, list[str]] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return RawAnswer(int(status), reason, headers, body)


def get(service: ServiceProcess, target: bytes, *headers: bytes) -> RawAnswer:
    return exchange(service, b"\r\n".join([b"GET " + target + b" HTTP/1.1", b"Host: 127.0.0.1", *headers]))


# --- the request line as curl sends it -----------------------------------------------------------


def test_raw_utf8_in_the_query_is_read_as_utf8(service: ServiceProcess) -> None:
    encoded = get(service, b"/category?hashtag=%E7%BE%8E%E9%A3%9F&count=4")
    assert encoded.status == 200
    raw = get(service, "/category?hashtag=美食&count=4".encode())
    assert (raw.status, raw.header("x-cache")) == (200, "HIT")  # the same request, so the same key
    assert raw.body == encoded.body


def test_raw_utf8_in_the_second_request_of_a_connection(service: ServiceProcess) -> None:
    # Two pipelined requests: the channel must know the second one's first line is a request line.
    parts = urlsplit(service.base_url)
    assert parts.hostname == "127.0.0.1" and parts.port is not None
    first = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Note: caf\xc3\xa9\r\n\r\n"
    second = "GET /category?hashtag=美食&count=4 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    with socket.create_connection((parts.hostname, parts.port), timeout=150) as connection:
        connection.sendall(first + second.encode())
        chunks: list[bytes] = []
        for _ in range(10_000):
            chunk = connection.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    # the second status line follows the first answer's body directly
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", b"".join(chunks))
    assert statuses == [b"200", b"200"]


def test_raw_bytes_that_are_not_utf8_are_a_400_problem(service: ServiceProcess) -> None:
    answer = get(service, b"/category?hashtag=caf\xe9")  # Latin-1, not UTF-8
    assert answer.status == 400
    assert answer.header("content-type") == "application/problem+json"
    assert (answer.json()["code"], answer.json()["parameter"]) == ("invalid_parameter", "query")


@pytest.mark.parametrize(
    "request_line",
    [b"GET /trending extra HTTP/1.1", b"GET /tren\x01ding HTTP/1.1", b"GET /trending HTTP/9.9"],
)
def test_what_twisted_cannot_parse_is_a_400_problem(service: ServiceProcess, request_line: bytes) -> None:
    answer = exchange(service, request_line + b"\r\nHost: 127.0.0.1")
    assert (answer.status, answer.reason) == (400, "Bad Request")
    assert answer.header("content-type") == "application/problem+json"
    assert answer.header("content-length") == str(len(answer.body))
    assert answer.json()["code"] == "bad_request"
    assert service.get("/health").status == 200


# --- Host ----------------------------------------------------------------------------------------


def test_two_host_headers_are_a_400_problem(service: ServiceProcess) -> None:
    answer = get(service, b"/health", b"Host: videos.example.org")
    assert answer.status == 400
    assert answer.header("content-type") == "application/problem+json"
    problem = answer.json()
    assert (problem["code"], problem["status"]) == ("bad_request", 400)
    assert "Host" in problem["detail"]
    assert get(service, b"/health").status == 200  # one Host is fine


# --- reason phrases ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited_service(emulator_server: EmulatorProcess) -> Iterator[ServiceProcess]:
    service = ServiceProcess(emulator_server, RATE_LIMIT="1/minute")
    try:
        yield service
    finally:
        service.stop()


def test_429_says_too_many_requests(limited_service: ServiceProcess) -> None:
    assert get(limited_service, b"/trending?count=0").status == 400  # counted, and costs no crawl
    limited = get(limited_service, b"/trending?count=0")
    assert (limited.status, limited.reason) == (429, "Too Many Requests")


def test_each_status_line_has_its_rfc_9110_reason(service: ServiceProcess) -> None:
    first = get(service, b"/trending?count=8")
    assert (first.status, first.reason) == (200, "OK")
    etag = first.header("etag")
    assert etag is not None
    cases = [
        (get(service, b"/trending?count=8", b"If-None-Match: " + etag.encode()), 304, "Not Modified"),
        (get(service, b"/trending?count=0"), 400, "Bad Request"),
        (get(service, b"/nowhere"), 404, "Not Found"),
        (exchange(service, b"DELETE /trending HTTP/1.1\r\nHost: x"), 405, "Method Not Allowed"),
    ]
    video = first.json()[0]["id"]
    play = f"/videos/{video}/play".encode()
    cases.append((get(service, play, b"Range: bytes=0-9"), 206, "Partial Content"))
    cases.append((get(service, play, b"Range: bytes=99999999-"), 416, "Range Not Satisfiable"))
    assert [(answer.status, answer.reason) for answer, _, _ in cases] == [
        (status, reason) for _, status, reason in cases
    ]


def test_the_reason_table_covers_the_server_errors_we_send() -> None:
    from bridge.site import REASONS

    assert REASONS[500] == b"Internal Server Error"
    assert REASONS[502] == b"Bad Gateway"
    assert REASONS[503] == b"Service Unavailable"
    assert REASONS[504] == b"Gateway Timeout"  # Twisted: "Gateway Time-out"
    assert REASONS[429] == b"Too Many Requests"  # Twisted: none, so "Unknown Status"
    assert REASONS[416] == b"Range Not Satisfiable"  # Twisted: "Requested Range not satisfiable"


# --- If-None-Match -------------------------------------------------------------------------------


def test_if_none_match_compares_weakly_and_takes_a_star_or_a_list(service: ServiceProcess) -> None:
    first = service.get("/trending?count=9", timeout=150)  # longer than the shared deadline: a crawl
    etag = first.headers["etag"]
    for if_none_match in (f"W/{etag}", "*", f'"other", W/{etag}', f'"x,y" ,, {etag}'):
        again = service.get("/trending?count=9", headers={"If-None-Match": if_none_match})
        assert (again.status, again.body, again.headers["etag"]) == (304, b"", etag), if_none_match
    for if_none_match in ('W/"other"', '"other", "another"', etag.strip('"')):
        assert service.get("/trending?count=9", headers={"If-None-Match": if_none_match}).status == 200


@pytest.mark.parametrize(
    ("if_none_match", "matches"),
    [
        ('"abc"', True),
        ('W/"abc"', True),  # weak comparison: W/ is ignored on both sides
        (" * ", True),
        ('"x", W/"abc"', True),
        ('"a,b", "abc"', True),  # a comma inside an opaque tag is not a separator
        (', "abc",', True),  # empty list elements are allowed
        ('"x", "y"', False),
        ("abc", False),  # not quoted
        ('"abc', False),
        ('"x" "abc"', False),  # no comma between them
        ("", False),
    ],
)
def test_none_match(if_none_match: str, matches: bool) -> None:
    from bridge.replies import none_match

    assert none_match(if_none_match, '"abc"') is matches
    assert none_match(if_none_match, 'W/"abc"') is matches


# --- If-Range through the play proxy -------------------------------------------------------------


def test_the_play_proxy_passes_if_range_to_the_cdn(service: ServiceProcess) -> None:
    video_id = service.get("/trending?count=10", timeout=150).json()[0]["id"]
    play = f"/videos/{video_id}/play"
    whole = service.get(play)
    assert whole.status == 200
    etag, last_modified = whole.headers["etag"], whole.headers["last-modified"]

    def get(if_range: str) -> tuple[int, bytes]:
        answer = service.get(play, headers={"Range": "bytes=0-9", "If-Range": if_range})
        return answer.status, answer.body

    # the validator the caller has is current: the range
    assert get(etag) == (206, whole.body[:10])
    assert get(last_modified) == (206, whole.body[:10])
    # it is not (the file changed since the caller's first part): the whole file, never a mixed one
    assert get('"an-older-version"') == (200, whole.body)
    assert get("Mon, 01 Jan 2001 00:00:00 GMT") == (200, whole.body)
    # a weak or unreadable validator can never match: the whole file as well
    assert get(f"W/{etag}") == (200, whole.body)
    assert get("yesterday") == (200, whole.body)
