"""Under abuse: schemathesis over the OpenAPI document, hostile input, slow and many clients, leaks.

Marked ``reliability``; ``make reliability`` runs these and the soak (``bench/soak.py``).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from harness import ROOT
from harness.http import http_request
from harness.service import ServiceProcess

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def open_service(emulator_server: EmulatorProcess) -> Iterator[ServiceProcess]:
    """No rate limit and room for many crawls: the tests below hammer it on purpose."""
    service = ServiceProcess(
        emulator_server, MAX_CONCURRENT_CRAWLS="64", TIKTOK_RETRY_BACKOFF="0.02", HTTP_IDLE_TIMEOUT="3"
    )
    try:
        yield service
    finally:
        service.stop()


def address(service: ServiceProcess) -> tuple[str, int]:
    parts = urlsplit(service.base_url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def raw_exchange(service: ServiceProcess, data: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes, read until the server closes or answers one response (bounded)."""
    with socket.create_connection(address(service), timeout=timeout) as connection:
        try:
            connection.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            return b""  # refused while we were still sending
        chunks: list[bytes] = []
        for _ in range(1000):
            try:
                chunk = connection.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks):
                break
        return b"".join(chunks)


def test_schemathesis_finds_no_failures(open_service: ServiceProcess, emulator: EmulatorProcess) -> None:
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{open_service.base_url}/openapi.json",
        "--checks", "all",
        "--phases", "examples,coverage,fuzzing",
        "--workers", "2",
        "--max-examples", "25",
        "--max-time", "75",
        "--generation-deterministic",
        "--suppress-health-check", "all",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    generated = re.search(r"(\d+) generated", output)
    assert generated is not None
    assert int(generated.group(1)) >= 300  # every route, negative cases included


@pytest.mark.parametrize(
    ("target", "statuses"),
    [
        # A 100 KB request line: Twisted refuses lines over 16 KB and drops the connection, mid-send.
        ("/trending?count=" + "9" * 100_000, {0, 400, 414}),
        ("/category?hashtag=" + "a" * 10_000, {400}),
        ("/category?hashtag=%zz", {400}),
        ("/category?hashtag=%C3%28", {400}),  # invalid UTF-8
        ("/category?hashtag=%00food", {400}),
        ("/trending?count=%E2%80%AE30", {400}),
        ("/search?q=" + "%F0%9F%8D%9D" * 300, {400}),
        ("/videos/" + "1" * 5000 + "/play", {400}),
        ("/" + "a/" * 2000, {404}),
    ],
)
def test_hostile_requests_get_clear_answers(
    open_service: ServiceProcess, target: str, statuses: set[int]
) -> None:
    answer = raw_exchange(
        open_service, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    assert status in statuses
    assert b"Traceback" not in answer
    assert open_service.get("/health").status == 200


def test_header_floods_are_refused_and_the_service_carries_on(open_service: ServiceProcess) -> None:
    many = "".join(f"X-Flood-{n}: {'v' * 100}\r\n" for n in range(2000))
    answer = raw_exchange(open_service, f"GET /trending HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode())
    assert answer == b"" or answer.startswith((b"HTTP/1.1 400", b"HTTP/1.1 431"))
    huge = raw_exchange(
        open_service, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 100_000 + b"\r\n\r\n"
    )
    assert huge == b"" or huge.startswith((b"HTTP/1.1 400", b"HTTP/1.1 431"))
    assert open_service.get("/health").status == 200


def test_slow_clients_do_not_hold_up_the_others(open_service: ServiceProcess) -> None:
    open_service.get("/trending?count=3")  # cached, so the answers below need no crawl
    slow: list[socket.socket] = []
    try:
        for _ in range(100):  # slowloris: connections that send half a request and stall
            connection = socket.create_connection(address(open_service), timeout=5)
            connection.sendall(b"GET /trending?count=3 HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            slow.append(connection)
        answers = [open_service.get("/trending?count=3") for _ in range(20)]
        assert [answer.status for answer in answers] == [200] * 20
    finally:
        for connection in slow:
            connection.close()


def test_many_parallel_connections_are_all_answered(open_service: ServiceProcess) -> None:
    open_service.get("/trending?count=4")
    with ThreadPoolExecutor(max_workers=64) as pool:
        answers = list(pool.map(lambda _: open_service.get("/trending?count=4", timeout=30), range(500)))
    assert [answer.status for answer in answers] == [200] * 500


def test_no_secret_reaches_an_answer_or_a_log_line(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator, TIKTOK_RETRY_BACKOFF="0.02")
    try:
        bodies: list[bytes] = []
        trending = service.get("/trending?count=5")
        video_id = trending.json()[0]["id"]
        for path in (
            "/trending?count=5",
            "/category?hashtag=food&count=3",
            "/category?hashtag=nosuchhashtagxyz",
            f"/videos/{video_id}",
            "/health",
            "/openapi.json",
            "/trending?count=0",
        ):
            answer = service.get(path)
            bodies.append(answer.body + json.dumps(answer.headers).encode())
        emulator.set_faults({"empty_body": 1.0})
        failed = service.get("/trending?count=6", timeout=60)
        bodies.append(failed.body + json.dumps(failed.headers).encode())
        secrets = http_request(emulator.base_url + "/__emulator__/secrets").json()["secrets"]
        log = service.log()
    finally:
        service.stop()
    assert secrets
    everything = b"\n".join(bodies).decode("utf-8", "replace") + log
    leaked = [secret[:6] + "..." for secret in secrets if secret in everything]
    assert leaked == []


def test_proxy_credentials_never_show(emulator: EmulatorProcess) -> None:
    # A proxy that is not there: the session cannot open, and every way that failure shows must hide the password.
    service = ServiceProcess(
        emulator,
        TIKTOK_PROXY="http://scraper:pa55w0rd-secret@127.0.0.1:9",
        UPSTREAM_TIMEOUT="3",
        TIKTOK_MAX_ATTEMPTS="1",
    )
    try:
        failed = service.get("/trending?count=5", timeout=60)
        assert failed.status in (502, 504)
        health = service.get("/health")
        log = service.log()
    finally:
        service.stop()
    for text in (failed.body.decode(), health.body.decode(), log):
        assert "pa55w0rd-secret" not in text


def test_no_route_lets_a_caller_choose_a_url_a_setting_or_a_spider_method(
    open_service: ServiceProcess, emulator: EmulatorProcess
) -> None:
    attempts = [
        "/crawl.json?spider_name=trending&url=http://127.0.0.1:9/",
        "/trending?url=http://127.0.0.1:9/",
        "/trending?spider_name=video",
        "/trending?callback=parse_page",
        "/trending?crawl_args=%7B%22count%22%3A1%7D",
        "/category?hashtag=food&settings=DOWNLOAD_DELAY%3D0",
        "/category?hashtag=food&start=1",
        "/videos/1/play?url=http://127.0.0.1:9/",
    ]
    before = emulator.stats()["requests"]
    for path in attempts:
        answer = open_service.get(path)
        assert answer.status in (400, 404), path
    after = emulator.stats()["requests"]
    assert after == before  # none of them reached upstream


def test_idle_connections_are_closed(open_service: ServiceProcess) -> None:
    """The server does not keep a silent connection forever (the slowloris budget)."""
    connection = socket.create_connection(address(open_service), timeout=60)
    try:
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # never finished
        started = time.monotonic()
        data = b""
        for _ in range(100):
            chunk = connection.recv(1024)
            if not chunk:
                break
            data += chunk
        assert data == b""  # closed without an answer to a request that never ended
        assert time.monotonic() - started < 30  # by the 3 s idle timeout, not the 60 s socket timeout
    finally:
        connection.close()
