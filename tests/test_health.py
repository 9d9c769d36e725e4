"""``/health`` tells the truth: ``down`` (HTTP 503) while nothing can be fetched, ``degraded`` after
failures (timeouts included), ``ok`` only with a session that answers; and problems say what failed in
the service's own words, never Playwright's text or an internal address."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from harness.emulator import EmulatorProcess
from harness.processes import free_port
from harness.service import ServiceProcess

if TYPE_CHECKING:
    from harness.http import Answer

BOUND = 60.0  # seconds any of these states may take to show, on a loaded machine


def wait_for(service: ServiceProcess, status: str, reason: str = "") -> Answer:
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        answer = service.get("/health")
        if answer.json()["status"] == status and reason in " ".join(answer.json()["reasons"]):
            return answer
        time.sleep(0.1)  # poll interval of a bounded wait
    raise AssertionError(f"/health never said {status!r}: {service.get('/health').body[:500]!r}")


def assert_says_nothing_internal(problem: dict[str, Any]) -> None:
    for word in ("127.0.0.1", "localhost", "Page.", "net::", "Target ", "playwright"):
        assert word not in problem["detail"], problem


def test_down_while_no_session_can_be_opened_then_ok_when_tiktok_answers(emulator: EmulatorProcess) -> None:
    port = free_port()  # nothing listens there yet: TikTok is unreachable from the start
    service = ServiceProcess(emulator, TIKTOK_BASE_URL=f"http://127.0.0.1:{port}", BREAKER_THRESHOLD="0")
    late: EmulatorProcess | None = None
    try:
        down = wait_for(service, "down", reason="no TikTok session could be opened")
        assert down.status == 503  # a load balancer takes the instance out
        assert down.headers["retry-after"] == "1"
        assert down.json()["browser"]["running"] is True  # the browser is fine; TikTok is not
        answer = service.get("/trending?count=3", timeout=60)
        assert answer.status in (502, 503), answer.body
        assert_says_nothing_internal(answer.json())
        late = EmulatorProcess("--seed", "1", "--port", str(port))  # TikTok comes back
        # Healed by /health's own probing, no caller needed; degraded for a while after the failures.
        healed = wait_for(service, "degraded", reason="an upstream failure")
        assert healed.status == 200
        assert healed.json()["sessions"]["answering"] is True
        assert service.get("/trending?count=3", timeout=60).status == 200
    finally:
        service.stop()
        if late is not None:
            late.stop()


def test_ok_once_a_session_answers(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator)  # its own: the shared one has seen other tests' failures
    try:
        assert service.get("/trending?count=4", timeout=60).status == 200
        health = wait_for(service, "ok")
        assert health.status == 200
        assert health.json()["reasons"] == []
        assert health.json()["sessions"]["answering"] is True
    finally:
        service.stop()


def test_timeouts_count_as_failures(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator, UPSTREAM_TIMEOUT="2", BREAKER_THRESHOLD="0")
    try:
        assert wait_for(service, "ok").status == 200
        emulator.set_faults({"latency_ms": 6000})
        answer = service.get("/trending?count=6", timeout=30)
        assert answer.status == 504
        emulator.set_faults({})
        health = service.get("/health")
        assert health.status == 200
        assert health.json()["status"] == "degraded"
        assert health.json()["upstream"]["last_failed_answer"].startswith("upstream_timeout")
    finally:
        service.stop()


def test_an_unreachable_tiktok_is_described_without_internal_addresses(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator, TIKTOK_MAX_ATTEMPTS="2", TIKTOK_RETRY_BACKOFF="0.02")
    try:
        assert service.get("/trending?count=5", timeout=30).status == 200
        emulator.set_faults({"reset": 1.0})  # every API call's connection is cut
        answer = service.get("/trending?count=7", timeout=60)
        assert answer.status == 502, answer.body
        assert_says_nothing_internal(answer.json())
    finally:
        emulator.set_faults({})
        service.stop()


def test_a_private_or_unknown_video_is_an_answer_not_a_failure(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator)
    try:
        assert wait_for(service, "ok").status == 200
        private = emulator.corpus()["private_item_ids"][0]
        assert service.get(f"/videos/{private}", timeout=60).status == 404
        assert service.get("/videos/7300001999999999999", timeout=60).status == 404
        health = service.get("/health").json()
        assert health["status"] == "ok", health["reasons"]
        assert health["crawls"]["total"] == 2  # both lookups were crawls, and both were answers
    finally:
        service.stop()
