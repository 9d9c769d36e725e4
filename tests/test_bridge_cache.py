"""The cache in front of the crawls: hits, normalised keys, validators, single-flight, stale answers."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from harness.service import ServiceProcess

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess

RECOMMEND = "/api/recommend/item_list/"
ITEMS = "/api/challenge/item_list/"


def wait_until_idle(service: ServiceProcess, timeout: float = 20.0) -> None:
    """Poll /health (bounded) until no crawl is in flight."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        crawls = service.get("/health").json()["crawls"]
        if crawls["in_flight"] == 0 and crawls.get("winding_down", 0) == 0:
            return
    raise AssertionError("a crawl stayed in flight")


def wait_until_crawling(service: ServiceProcess, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.get("/health").json()["crawls"]["in_flight"] > 0:
            return
    raise AssertionError("no crawl started")


def test_second_identical_request_is_a_hit_without_upstream_calls(
    service: ServiceProcess, emulator: EmulatorProcess
) -> None:
    first = service.get("/trending?count=14")
    calls = emulator.stats()["requests"][RECOMMEND]
    second = service.get("/trending?count=14")
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "HIT")
    assert second.body == first.body
    assert emulator.stats()["requests"][RECOMMEND] == calls
    assert second.headers["cache-control"].startswith("public, max-age=")


def test_hashtag_keys_are_normalised(service: ServiceProcess, emulator: EmulatorProcess) -> None:
    first = service.get("/category?hashtag=cats&count=5")
    for spelling in ("%23cats", "Cats", "%23CATS"):
        again = service.get(f"/category?hashtag={spelling}&count=5")
        assert again.headers["x-cache"] == "HIT"
        assert again.body == first.body
    assert emulator.stats()["requests"][ITEMS] == 1


def test_if_none_match_gets_304(service: ServiceProcess) -> None:
    first = service.get("/trending?count=15")
    etag = first.headers["etag"]
    again = service.get("/trending?count=15", headers={"If-None-Match": etag})
    assert again.status == 304
    assert again.body == b""
    assert again.headers["etag"] == etag
    other = service.get("/trending?count=15", headers={"If-None-Match": '"something-else"'})
    assert other.status == 200


def test_hundred_concurrent_identical_misses_cause_one_upstream_fetch(
    service: ServiceProcess, emulator: EmulatorProcess
) -> None:
    emulator.set_faults({"latency_ms": 500})  # keep the crawl in flight while the others arrive
    with ThreadPoolExecutor(max_workers=100) as pool:
        answers = list(pool.map(lambda _: service.get("/trending?count=16", timeout=30), range(100)))
    assert [answer.status for answer in answers] == [200] * 100
    assert len({answer.body for answer in answers}) == 1
    assert emulator.stats()["requests"][RECOMMEND] == 1


def test_a_client_that_disconnects_mid_crawl_does_not_lose_the_answer(
    service: ServiceProcess, emulator: EmulatorProcess
) -> None:
    emulator.set_faults({"latency_ms": 800})
    address = urlsplit(service.base_url)
    with socket.create_connection((address.hostname, address.port), timeout=5) as connection:
        connection.sendall(b"GET /trending?count=17 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        wait_until_crawling(service)
    wait_until_idle(service)
    answer = service.get("/trending?count=17")
    assert answer.status == 200
    assert answer.headers["x-cache"] == "HIT"
    assert emulator.stats()["requests"][RECOMMEND] == 1


def test_stale_answer_when_tiktok_fails(emulator: EmulatorProcess) -> None:
    # A deadline far above what the four refused attempts take, so the failure recorded is the
    # refusal (upstream_blocked), not a 504 on a slow machine.
    service = ServiceProcess(emulator, CACHE_TTL_TRENDING="0", CACHE_STALE_MAX="3600", UPSTREAM_TIMEOUT="120")
    try:
        fresh = service.get("/trending?count=5")
        assert (fresh.status, fresh.headers["x-cache"]) == (200, "MISS")
        emulator.set_faults({"empty_body": 1.0})
        stale = service.get("/trending?count=5", timeout=150)
        assert stale.status == 200
        assert stale.headers["x-cache"] == "STALE"
        assert stale.body == fresh.body
        assert stale.headers["cache-control"] == "public, max-age=0"
        health = service.get("/health").json()
        assert health["status"] == "degraded"
        assert health["upstream"]["last_failed_answer"].startswith("upstream_blocked")
        assert health["upstream"]["last_error"].startswith("blocked")
    finally:
        service.stop()


def test_no_stale_answer_past_the_stale_window(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator, CACHE_TTL_TRENDING="0", CACHE_STALE_MAX="0", UPSTREAM_TIMEOUT="120")
    try:
        assert service.get("/trending?count=5").status == 200
        emulator.set_faults({"empty_body": 1.0})
        failed = service.get("/trending?count=5", timeout=150)  # a 502 however slow the retries
        assert failed.status == 502
        assert failed.json()["code"] == "upstream_blocked"
    finally:
        service.stop()
