"""When TikTok pushes back: the fault matrix against the real service, the circuit breaker, leaks.

Each fault is injected on the emulator, one request is made, and the answer (status, items, X-Cache),
the upstream calls it cost (the emulator's counters) and the browser's open contexts and pages are
asserted; then the fault is lifted and the same request must succeed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from harness.service import ServiceProcess

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess

RECOMMEND = "/api/recommend/item_list/"


def start_pushback_service(emulator_server: EmulatorProcess, deadline: str) -> ServiceProcess:
    return ServiceProcess(
        emulator_server,
        TIKTOK_RETRY_BACKOFF="0.02",
        TIKTOK_PAGE_STRATEGY_TTL="0",  # every request chooses afresh: the cases do not leak into each other
        BREAKER_THRESHOLD="0",  # the breaker has its own test below
        UPSTREAM_TIMEOUT=deadline,
    )


@pytest.fixture(scope="module")
def pushback_service(emulator_server: EmulatorProcess) -> Iterator[ServiceProcess]:
    # A deadline far above what any case's retries take (new sessions included): a case that expects
    # a 502 or a 200 gets it however slow the machine, never a 504.
    service = start_pushback_service(emulator_server, deadline="120")
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def deadline_service(emulator_server: EmulatorProcess) -> Iterator[ServiceProcess]:
    """For the one case about the deadline: 8 s, far below its 15 s drip; stopped after it, so its
    crawl's wind-down cannot reach into the next case's counts."""
    service = start_pushback_service(emulator_server, deadline="8")
    try:
        yield service
    finally:
        service.stop()


def assert_no_leaks(service: ServiceProcess) -> None:
    health = service.get("/health").json()
    sessions = health["sessions"]["open"]
    assert health["browser"]["contexts"] == sessions  # one context per live session, none left over
    assert health["browser"]["pages"] == sessions  # each session's own page; rendered feeds closed theirs
    assert health["browser"]["launches"] == 1


# fault, expected status, expected code (for errors), the least and most recommend calls it may cost
MATRIX: list[tuple[str, dict[str, Any], int, str | None, int, int]] = [
    ("empty bodies everywhere", {"empty_body": 1.0}, 502, "upstream_blocked", 6, 6),
    ("captcha burst", {"captcha": {"next": 3}}, 200, None, 4, 4),
    ("429 burst", {"http_429": {"next": 2, "retry_after": 0}}, 200, None, 3, 3),
    ("5xx burst", {"http_5xx": {"next": 3}}, 200, None, 4, 4),
    ("5xx always", {"http_5xx": 1.0}, 502, "upstream_error", 4, 6),
    ("malformed JSON", {"malformed_json": {"next": 2}}, 200, None, 3, 3),
    ("reset connections", {"reset": {"next": 2}}, 200, None, 2, 4),  # Chromium retries a reset once itself
    ("slow-drip bodies", {"slow_drip": {"rate": 1.0, "duration_ms": 15000}}, 504, "upstream_timeout", 1, 4),
    ("API blocked entirely", {"block_api": True}, 200, None, 5, 7),  # 4 refused, then the page loads its own
]


@pytest.mark.parametrize(
    ("name", "faults", "status", "code", "least_calls", "most_calls"),
    MATRIX,
    ids=[case[0] for case in MATRIX],
)
def test_fault_matrix(
    request: pytest.FixtureRequest,
    emulator: EmulatorProcess,
    name: str,
    faults: dict[str, Any],
    status: int,
    code: str | None,
    least_calls: int,
    most_calls: int,
) -> None:
    service: ServiceProcess = request.getfixturevalue(
        "deadline_service" if status == 504 else "pushback_service"
    )
    path = f"/trending?count={20 + [case[0] for case in MATRIX].index(name)}"  # one feed page each
    emulator.set_faults(faults)
    answer = service.get(path, timeout=150)
    assert answer.status == status, answer.body[:300]
    if code is None:
        assert len(answer.json()) == int(path.rsplit("=", 1)[1])
        assert answer.headers["x-cache"] == "MISS"
    else:
        assert answer.json()["code"] == code
    calls = emulator.stats()["requests"][RECOMMEND]
    assert least_calls <= calls <= most_calls
    # Let a crawl stopped at its deadline wind down before counting what it left open.
    deadline = time.monotonic() + 20
    while service.get("/health").json()["crawls"]["in_flight"] and time.monotonic() < deadline:
        pass
    assert_no_leaks(service)

    emulator.set_faults({})
    recovered = service.get(path, timeout=150)
    assert recovered.status == 200
    assert_no_leaks(service)


def test_expired_sessions_are_renewed(pushback_service: ServiceProcess, emulator: EmulatorProcess) -> None:
    assert pushback_service.get("/trending?count=31").status == 200
    opened = pushback_service.get("/health").json()["sessions"]["opened"]
    emulator.expire_sessions()
    answer = pushback_service.get("/trending?count=32", timeout=60)
    assert answer.status == 200
    assert pushback_service.get("/health").json()["sessions"]["opened"] == opened + 1
    assert_no_leaks(pushback_service)


def test_block_api_serves_category_through_the_tag_page(
    pushback_service: ServiceProcess, emulator: EmulatorProcess
) -> None:
    emulator.set_faults({"block_api": True})
    answer = pushback_service.get("/category?hashtag=cats&count=33", timeout=60)
    assert answer.status == 200
    videos = answer.json()
    assert len(videos) == 33
    assert all(any(tag["title"] == "cats" for tag in video["hashtags"]) for video in videos)
    assert "link" in answer.headers
    assert emulator.stats()["requests"]["/tag/<name>"] >= 1


def test_circuit_breaker_pauses_upstream_and_recovers(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(
        emulator,
        TIKTOK_STRATEGY="api",
        TIKTOK_MAX_ATTEMPTS="1",
        UPSTREAM_TIMEOUT="120",  # the refusals are 502s, never 504s, however slow the machine
        BREAKER_THRESHOLD="2",
        BREAKER_COOLDOWN="2",
        CACHE_TTL_TRENDING="0",
    )
    try:
        good = service.get("/trending?count=5")  # cached, and stale at once (TTL 0)
        assert good.status == 200
        emulator.set_faults({"empty_body": 1.0})
        assert service.get("/trending?count=6").status == 502
        assert service.get("/trending?count=7").status == 502
        calls = emulator.stats()["requests"][RECOMMEND]
        paused = service.get("/trending?count=8")
        assert paused.status == 503
        assert paused.json()["code"] == "upstream_paused"
        assert 1 <= int(paused.headers["retry-after"]) <= 2
        stale = service.get("/trending?count=5")
        assert (stale.status, stale.headers["x-cache"]) == (200, "STALE")
        assert emulator.stats()["requests"][RECOMMEND] == calls  # nothing reached TikTok while open
        health = service.get("/health").json()
        assert health["breaker"]["state"] == "open"
        assert health["status"] == "degraded"

        emulator.set_faults({})
        deadline = time.monotonic() + 10
        while service.get("/health").json()["breaker"]["retry_in_s"] > 0 and time.monotonic() < deadline:
            pass  # the cool-down is the breaker's own clock; poll it, bounded
        probe = service.get("/trending?count=8")
        assert probe.status == 200
        assert service.get("/health").json()["breaker"]["state"] == "closed"
    finally:
        service.stop()
