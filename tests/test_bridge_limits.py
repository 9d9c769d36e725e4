"""Upstream failures, the deadline, the cap on crawls in flight and the per-client rate limit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from harness.service import ServiceProcess
from tests.test_bridge_cache import wait_until_crawling, wait_until_idle

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess


@pytest.mark.parametrize(
    ("faults", "code", "count"),
    [
        ({"empty_body": 1.0}, "upstream_blocked", 21),
        ({"captcha": 1.0}, "upstream_blocked", 22),
        ({"http_5xx": 1.0}, "upstream_error", 23),
        ({"malformed_json": 1.0}, "upstream_error", 24),
    ],
)
def test_upstream_failures_are_502_problems(
    service: ServiceProcess, emulator: EmulatorProcess, faults: dict[str, Any], code: str, count: int
) -> None:
    emulator.set_faults(faults)
    # Four attempts, each with a new session for the blocked ones: 18 s on a loaded machine. The
    # shared service's deadline (120 s) is far above that, and the client waits longer still, so
    # the answer is the 502 however slow the machine (at the default 10 s it became a 504).
    answer = service.get(f"/category?hashtag=funny&count={count}", timeout=150)
    assert answer.status == 502
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == code
    assert answer.headers["cache-control"] == "no-store"
    emulator.set_faults({})
    recovered = service.get(f"/category?hashtag=funny&count={count}", timeout=150)
    assert recovered.status == 200


def test_deadline_answers_504_and_the_service_carries_on(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator, UPSTREAM_TIMEOUT="3")
    try:
        emulator.set_faults({"latency_ms": 8000})
        answer = service.get("/trending?count=5", timeout=30)
        assert answer.status == 504
        assert answer.json()["code"] == "upstream_timeout"
        wait_until_idle(service, timeout=45)  # the stopped crawl winds down behind the answer
        emulator.set_faults({})
        assert service.get("/trending?count=5", timeout=30).status == 200
    finally:
        service.stop()


def test_too_many_crawls_in_flight_is_503_with_retry_after_with_no_queue(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(
        emulator, MAX_CONCURRENT_CRAWLS="1", MAX_QUEUED_CRAWLS="0", UPSTREAM_TIMEOUT="120"
    )
    try:
        emulator.set_faults({"latency_ms": 1500})
        with ThreadPoolExecutor(max_workers=1) as pool:
            first = pool.submit(service.get, "/trending?count=11", timeout=150)  # 3 s of latency, slow or not
            wait_until_crawling(service)
            second = service.get("/trending?count=12")
            assert second.status == 503
            assert second.json()["code"] == "overloaded"
            assert int(second.headers["retry-after"]) >= 1
            assert first.result().status == 200
    finally:
        service.stop()


def test_misses_beyond_the_crawl_slots_wait_their_turn_and_are_served(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator, MAX_CONCURRENT_CRAWLS="1", UPSTREAM_TIMEOUT="60")
    try:
        emulator.set_faults({"latency_ms": 300})
        paths = [f"/category?hashtag={tag}&count=3" for tag in ("food", "cats", "dance", "travel")]
        with ThreadPoolExecutor(max_workers=4) as pool:
            first = pool.submit(service.get, paths[0], timeout=60)
            wait_until_crawling(service)
            others = [pool.submit(service.get, path, timeout=60) for path in paths[1:]]
            answers = [first.result(), *(future.result() for future in others)]
        assert [answer.status for answer in answers] == [200] * 4
        assert [answer.headers["x-cache"] for answer in answers] == ["MISS"] * 4
        assert service.get("/health").json()["crawls"]["queued"] == 0
    finally:
        service.stop()


def test_rate_limit_per_client(emulator: EmulatorProcess) -> None:
    # An hour's window: requests either side of a window's edge count the earlier ones as a fraction
    # (the sliding window counter), which a minute's window would let three requests straddle.
    service = ServiceProcess(emulator, RATE_LIMIT="3/hour")
    try:
        answers = [service.get("/trending?count=3") for _ in range(3)]
        assert [answer.status for answer in answers] == [200, 200, 200]
        assert [answer.headers["ratelimit-remaining"] for answer in answers] == ["2", "1", "0"]
        limited = service.get("/trending?count=3", headers={"X-Forwarded-For": "198.51.100.7"})
        assert limited.status == 429  # X-Forwarded-For is not believed from an untrusted peer
        assert limited.json()["code"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 3600
        assert limited.headers["ratelimit-limit"] == "3"
    finally:
        service.stop()


def test_forwarded_client_address_only_from_trusted_proxies(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator, RATE_LIMIT="2/hour", TRUSTED_PROXIES="127.0.0.1")
    try:
        for client in ("198.51.100.1", "198.51.100.2"):
            statuses = [
                service.get("/trending?count=3", headers={"X-Forwarded-For": client}).status for _ in range(3)
            ]
            assert statuses == [200, 200, 429]  # each forwarded client has its own budget
    finally:
        service.stop()


def test_the_client_is_the_right_most_forwarded_address_not_a_trusted_proxy() -> None:
    from bridge.ratelimit import ClientAddress

    addresses = ClientAddress(("127.0.0.1", "10.0.0.0/8"))
    # The caller wrote the first entry itself; nginx appended the real peer; 10.0.0.5 is our own proxy.
    forwarded = "203.0.113.66, 198.51.100.9, 10.0.0.5"
    assert addresses.of("127.0.0.1", forwarded) == "198.51.100.9"
    assert addresses.of("192.0.2.1", forwarded) == "192.0.2.1"  # an untrusted peer's header is ignored
