"""The start: ``python -m bridge`` launches Chromium and opens the TikTok session by itself, while it
imports the rest, so the first caller joins work already under way; ``/health`` says ``down`` until
that worked; a browser that cannot start is a 503 problem for the first caller, never a crash."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from harness.service import ServiceProcess
from tiktok_spiders.spiders.trending import RECOMMEND

if TYPE_CHECKING:
    from pathlib import Path

    from harness.emulator import EmulatorProcess

BOUND = 60.0  # seconds a state may take to show, on a loaded machine


def until(what: str, check: Any) -> Any:
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)  # poll interval of a bounded wait
    raise AssertionError(f"never: {what}")


def test_the_session_opens_at_start_and_the_first_caller_joins_it(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator)
    try:
        # Nobody has asked the service anything, not even /health (whose probe would open one too).
        until("the service opened a session", lambda: emulator.stats()["requests"].get("/", 0) == 1)
        assert emulator.stats()["requests"].get(RECOMMEND, 0) == 0
        answer = service.get("/trending?count=5", timeout=60)
        assert answer.status == 200, answer.body
        stats = emulator.stats()["requests"]
        assert stats["/"] == 1  # the first caller's crawl used the session opened at start
        assert stats[RECOMMEND] == 1
    finally:
        log = service.log()
        service.stop()
    assert "browser and TikTok session ready" in log
    assert "Traceback" not in log, log[-3000:]


def test_health_is_down_while_the_browser_is_still_starting(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    held = tmp_path / "hold"
    held.touch()
    wrapper = tmp_path / "chromium"
    wrapper.write_text(
        f'#!/bin/sh\nwhile [ -e "{held}" ]; do sleep 0.05; done\nexec /usr/bin/chromium "$@"\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    service = ServiceProcess(emulator, CHROMIUM_PATH=str(wrapper))
    try:
        health = service.get("/health")
        assert health.status == 503  # listening, answering, and not ready: a load balancer waits
        assert health.json()["status"] == "down"
        assert health.json()["browser"]["running"] is False
        held.unlink()  # Chromium may start now; nobody asks for a feed
        until("/health said ok", lambda: service.get("/health").json()["status"] == "ok")
        assert emulator.stats()["requests"].get(RECOMMEND, 0) == 0
    finally:
        held.unlink(missing_ok=True)
        log = service.log()
        service.stop()
    assert "Traceback" not in log, log[-3000:]


def test_health_is_down_until_the_first_session_is_open(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"latency_ms": 1500})  # the session's page loads slowly: Chromium runs meanwhile
    service = ServiceProcess(emulator)
    deadline = time.monotonic() + BOUND
    seen_opening = 0
    try:
        while True:
            health = service.get("/health", timeout=30)
            body = health.json()
            if body["sessions"]["answering"]:
                break
            # Not ready: Chromium may already run, but no session has opened yet.
            assert health.status == 503, body
            assert body["status"] == "down"
            if body["browser"]["running"]:
                seen_opening += 1
                assert body["reasons"] == ["the first TikTok session is not open yet"]
            assert time.monotonic() < deadline, body
            time.sleep(0.05)  # poll interval of a bounded wait
        assert seen_opening > 0  # the page took 1.5 s to load: /health was asked meanwhile
        assert health.status == 200
    finally:
        log = service.log()
        service.stop()
    assert "Traceback" not in log, log[-3000:]


def test_a_browser_that_cannot_start_is_a_clear_503_not_a_crash(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    broken.chmod(0o755)
    service = ServiceProcess(emulator, CHROMIUM_PATH=str(broken))
    try:
        until("the start-up launch failed", lambda: "could not open a TikTok session yet" in service.log())
        answer = service.get("/trending?count=5", timeout=60)
        assert answer.status == 503, answer.body
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "browser_unavailable"
        assert int(answer.headers["retry-after"]) >= 1
        health = service.get("/health")
        assert health.status == 503
        assert health.json()["browser"]["failed_launches"] >= 1
        assert service.proc.poll() is None  # still serving
    finally:
        log = service.log()
        service.stop()
    assert "Traceback" not in log, log[-3000:]
