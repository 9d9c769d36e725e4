"""Request ids and log lines (issue 19): ``X-Request-ID`` taken when sane, else made; on every answer and
in every problem document (``requestId``); in every log line about the request, its crawl's warnings
included; and ``LOG_FORMAT=json``, one JSON object per line."""

from __future__ import annotations

import http.client
import json
import logging
import re
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from bridge import logs, request_ids
from bridge.openapi import openapi_document
from harness.service import ServiceProcess
from settings.env import ConfigError, load_config

if TYPE_CHECKING:
    from collections.abc import Iterator

    from harness.emulator import EmulatorProcess

MADE = re.compile(r"[0-9a-f]{32}")
#: every JSON line's keys, and an access line's besides
KEYS = {"time", "level", "logger", "message", "requestId"}
ACCESS_KEYS = {"method", "route", "target", "status", "ms", "cache"}


# --- the token and the log records, in process --------------------------------------------------------


@pytest.mark.parametrize(
    "given", ["abc", "4bf92f3577b34da6a3ce929d0e0e4736", "00-4bf92f35-01", "a.b_c:d-e", "x" * 128]
)
def test_a_sane_token_is_kept(given: str) -> None:
    assert request_ids.of([given.encode()]) == given


@pytest.mark.parametrize(
    "given",
    [[b""], [b"x" * 129], [b"two words"], [b"tab\there"], [b"bell\x07"], [b'"quoted"'], ["caf\xe9".encode("latin-1")],
     [b"a", b"b"], None],
)  # fmt: skip
def test_anything_else_gets_a_new_one(given: list[bytes] | None) -> None:
    made = request_ids.of(given)
    assert MADE.fullmatch(made)
    assert made != request_ids.of(given)


def record_of(message: str, **extra: Any) -> logging.LogRecord:
    record = logging.makeLogRecord(
        {"name": "scrapy.core.engine", "levelname": "WARNING", "msg": message, **extra}
    )
    logs.RequestIds().filter(record)
    return record


def test_a_record_made_while_a_request_is_served_names_it() -> None:
    token = request_ids.current.set("req-1")
    try:
        inside = record_of("upstream blocked: empty body")
    finally:
        request_ids.current.reset(token)
    outside = record_of("browser relaunched")
    plain = logging.Formatter(logs.PLAIN)
    assert plain.format(inside).endswith(" WARNING [req-1] upstream blocked: empty body")
    assert plain.format(outside).endswith(" WARNING browser relaunched")  # today's line
    assert json.loads(logs.JsonLines().format(inside))["requestId"] == "req-1"
    assert json.loads(logs.JsonLines().format(outside))["requestId"] is None


def test_a_json_line_is_one_line_with_its_traceback() -> None:
    try:
        raise ValueError("line one\nline two")
    except ValueError:
        record = record_of("failed", exc_info=sys.exc_info())
    line = logs.JsonLines().format(record)
    assert "\n" not in line
    document = json.loads(line)
    assert set(document) >= KEYS
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", document["time"])
    assert "ValueError: line one\nline two" in document["exception"]


def test_log_format_is_plain_or_json() -> None:
    assert load_config({}).log_format == "plain"
    assert load_config({"LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ConfigError, match=r"^LOG_FORMAT: one of plain, json, not 'xml'$"):
        load_config({"LOG_FORMAT": "xml"})


# --- the service (plain lines, the default) -----------------------------------------------------------


def test_an_id_given_comes_back(service: ServiceProcess) -> None:
    answer = service.get("/trending?count=2", headers={"X-Request-ID": "client-42.a:b_c"})
    assert answer.status == 200
    assert answer.headers["x-request-id"] == "client-42.a:b_c"
    refused = service.get("/trending?count=0", headers={"X-Request-ID": "client-43"})
    assert refused.status == 400
    assert refused.headers["x-request-id"] == "client-43"
    assert refused.json()["requestId"] == "client-43"
    log = service.log()
    assert any(
        "bridge.access INFO [client-42.a:b_c] GET /trending?count=2 200" in line for line in log.splitlines()
    )


@pytest.mark.parametrize("bad", ["x" * 129, "two words", "bell\x07", "semi;colon", ""])
def test_a_bad_id_is_replaced(service: ServiceProcess, bad: str) -> None:
    answer = service.get("/nowhere", headers={"X-Request-ID": bad})
    assert answer.status == 404
    made = answer.headers["x-request-id"]
    assert MADE.fullmatch(made)
    assert answer.json()["requestId"] == made


def test_each_answer_without_one_gets_a_fresh_one(service: ServiceProcess) -> None:
    videos = service.get("/trending?count=2").json()
    etag = service.get("/trending?count=2").headers["etag"]
    answers = [
        service.get("/trending?count=2"),
        service.get("/trending?count=2", method="HEAD"),
        service.get("/trending?count=2", headers={"If-None-Match": etag}),
        service.get("/trending", method="POST"),
        service.get("/health"),
        service.get("/openapi.json"),
        service.get("/"),
        service.get(f"/videos/{videos[0]['id']}"),
        service.get(f"/videos/{videos[0]['id']}/play", headers={"Range": "bytes=0-99"}),
        service.get("/videos/nope"),
    ]
    assert [answer.status for answer in answers] == [200, 200, 304, 405, 200, 200, 200, 200, 206, 400]
    ids = [answer.headers["x-request-id"] for answer in answers]
    assert all(MADE.fullmatch(each) for each in ids)
    assert len(set(ids)) == len(ids)
    assert answers[3].json()["requestId"] == ids[3]
    assert answers[9].json()["requestId"] == ids[9]


def raw_exchange(service: ServiceProcess, head: bytes) -> tuple[bytes, bytes]:
    """``head`` sent as it is (http.client sends no header twice), then the whole answer's head and body."""
    host, port = service.base_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head + b"Connection: close\r\n\r\n")
        raw = b""
        while chunk := connection.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    return head, body


def test_an_id_given_twice_is_replaced(service: ServiceProcess) -> None:
    head, body = raw_exchange(
        service, b"GET /nowhere HTTP/1.1\r\nHost: x\r\nX-Request-ID: a\r\nX-Request-ID: b\r\n"
    )
    made = re.search(
        rb"\r\nX-Request-ID: ([0-9a-f]{32})\r\n", head, re.IGNORECASE
    )  # Twisted writes X-Request-Id
    assert made is not None, head
    assert json.loads(body)["requestId"] == made.group(1).decode()


def test_a_request_twisted_cannot_read_gets_one_too(service: ServiceProcess) -> None:
    head, body = raw_exchange(service, b"GET /trending HTTP/1.1\r\nHost: x\r\nno colon here\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    made = re.search(rb"\r\nX-Request-ID: ([0-9a-f]{32})\r\n", head, re.IGNORECASE)
    assert made is not None, head
    assert json.loads(body)["requestId"] == made.group(1).decode()


def test_a_crawl_warning_names_its_request(service: ServiceProcess, emulator: EmulatorProcess) -> None:
    emulator.set_faults({"empty_body": 1.0})
    failed = service.get(
        "/category?hashtag=reqidplain", headers={"X-Request-ID": "blocked-plain"}, timeout=150
    )
    assert failed.status == 502
    lines = [line for line in service.log().splitlines() if "[blocked-plain]" in line]
    assert any(" WARNING [blocked-plain] upstream blocked" in line for line in lines), lines
    assert re.search(
        r" bridge\.access INFO \[blocked-plain\] GET /category\?hashtag=reqidplain 502 [\d.]+ms -$", lines[-1]
    )


def test_crawls_at_once_keep_their_own_ids(service: ServiceProcess, emulator: EmulatorProcess) -> None:
    # Twisted runs its delayed calls (Scrapy's engine loop among them) in the context of whatever
    # scheduled the reactor's timer: without the bridge's care, a crawl's records could name another
    # request. One spider per request here, so a warning's logger says whose it is.
    emulator.set_faults({"empty_body": 1.0})
    # Queries no other test asks: the shared service caches, and a hit runs no crawl.
    paths = {"search": "/search?q=reqidboth{}", "hashtag": "/category?hashtag=reqidboth{}"}
    rounds = 1
    with ThreadPoolExecutor(len(paths) * rounds) as pool:
        answers = list(
            pool.map(
                lambda job: service.get(job[1], headers={"X-Request-ID": job[0]}, timeout=150),
                [
                    (f"both-{spider}-{n}", path.format(n))
                    for spider, path in paths.items()
                    for n in range(rounds)
                ],
            )
        )
    assert {answer.status for answer in answers} == {502}, answers[0].body
    warned = re.findall(r" (search|hashtag) WARNING \[both-(\w+)-\d\] upstream blocked", service.log())
    assert {spider for spider, _ in warned} == set(paths)
    assert all(spider == named for spider, named in warned), warned


def test_a_stalled_play_names_its_request(emulator: EmulatorProcess) -> None:
    # The play proxy's idle timer is a Twisted delayed call: Twisted runs those in the context of
    # whatever last set the reactor's timer, so the proxy runs it in the request's own.
    service = ServiceProcess(emulator, UPSTREAM_TIMEOUT="2", BREAKER_THRESHOLD="0")
    try:
        for _ in range(15):  # the first answers may outlive 2 s while the browser starts
            feed = service.get("/trending?count=3", timeout=30)
            if feed.status == 200:
                break
        path = f"/videos/{feed.json()[0]['id']}/play"
        emulator.set_faults({"cdn_stall": {"next": 1, "after_bytes": 1000}})  # then silence for 60 s
        port = int(service.base_url.rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", path, headers={"X-Request-ID": "stalled-play"})
            response = connection.getresponse()
            assert response.getheader("X-Request-ID") == "stalled-play"
            with pytest.raises(http.client.IncompleteRead):
                response.read()
        finally:
            connection.close()
        assert "WARNING [stalled-play] TikTok's CDN sent nothing for 2 s" in service.log()
    finally:
        service.stop()


# --- LOG_FORMAT=json ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def json_service(emulator_server: EmulatorProcess) -> Iterator[ServiceProcess]:
    server = ServiceProcess(
        emulator_server,
        LOG_FORMAT="json",
        BREAKER_THRESHOLD="0",
        TIKTOK_RETRY_BACKOFF="0.05",
        UPSTREAM_TIMEOUT="120",
    )
    try:
        yield server
    finally:
        server.stop()


def json_lines(service: ServiceProcess) -> list[dict[str, Any]]:
    lines = [line for line in service.log().splitlines() if line.strip()]
    documents = [json.loads(line) for line in lines]  # every line is one JSON object
    for document in documents:
        assert set(document) >= KEYS, document
    return documents


def test_json_lines(json_service: ServiceProcess, emulator: EmulatorProcess) -> None:
    assert json_service.get("/trending?count=2", headers={"X-Request-ID": "json-miss"}).status == 200
    assert json_service.get("/trending?count=2", headers={"X-Request-ID": "json-hit"}).status == 200
    assert json_service.get("/videos/nope").status == 400
    emulator.set_faults({"empty_body": 1.0})
    failed = json_service.get(
        "/category?hashtag=reqidjson", headers={"X-Request-ID": "json-blocked"}, timeout=150
    )
    assert failed.status == 502
    assert failed.json()["requestId"] == "json-blocked"

    documents = json_lines(json_service)
    access = [document for document in documents if document["logger"] == "bridge.access"]
    for document in access:
        assert set(document) >= ACCESS_KEYS, document
        assert MADE.fullmatch(document["requestId"]) or document["requestId"].startswith("json-")
    by_id = {document["requestId"]: document for document in access}
    miss, hit, blocked = by_id["json-miss"], by_id["json-hit"], by_id["json-blocked"]
    assert (miss["method"], miss["route"], miss["target"], miss["status"], miss["cache"]) == (
        "GET", "/trending", "/trending?count=2", 200, "MISS",
    )  # fmt: skip
    assert (hit["status"], hit["cache"]) == (200, "HIT")
    assert isinstance(hit["ms"], float) and hit["ms"] >= 0
    assert (blocked["route"], blocked["status"], blocked["cache"]) == ("/category", 502, None)
    bad_video = [document for document in access if document["target"] == "/videos/nope"]
    assert bad_video[0]["route"] == "/videos/{id}"
    assert bad_video[0]["status"] == 400

    warnings = [document for document in documents if document["message"].startswith("upstream blocked")]
    assert warnings, documents[-10:]
    assert {document["requestId"] for document in warnings} == {"json-blocked"}
    assert {document["level"] for document in warnings} == {"WARNING"}
    # lines not about a request (the start) say so
    assert any(document["requestId"] is None for document in documents)


def test_the_openapi_document_declares_the_id_on_every_answer() -> None:
    for path, path_item in openapi_document()["paths"].items():
        for method, operation in path_item.items():
            for status, response in operation["responses"].items():
                assert "X-Request-ID" in response["headers"], (path, method, status)
