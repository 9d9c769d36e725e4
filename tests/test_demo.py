"""``make demo`` (scripts/demo.sh): the emulator and the service together, or neither.

Each run carries a mark of its own in its environment, which every process it starts inherits
(Chromium, in a session of its own, included): none may be left with it afterwards."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from harness import ROOT
from harness.http import http_request
from harness.processes import first_matching_line, free_port
from harness.service import SERVING

DEMO = ROOT / "scripts" / "demo.sh"
EMULATOR_UP = re.compile(r"^demo: emulator listening on \S+ \(pid (\d+)\)$")
SERVICE_PID = re.compile(r"^demo: service pid (\d+);")


@dataclass
class Demo:
    proc: subprocess.Popen[str]
    mark: str

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        match = first_matching_line(self.proc, pattern, timeout)
        if match is None:
            self.kill_all()
            raise AssertionError(f"the demo never printed {pattern.pattern!r}")
        return match

    def finish(self, timeout: float = 60.0) -> tuple[int, str]:
        """The demo's exit status and stderr; on a timeout, everything it started is killed first."""
        try:
            _, stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_all()
            raise
        return self.proc.returncode, stderr

    def processes(self) -> list[int]:
        """The live processes (not zombies) this demo run started, found by the mark."""
        needle = f"DEMO_TEST_MARK={self.mark}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                environ = (entry / "environ").read_bytes()
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue  # gone meanwhile
            if needle in environ.split(b"\0") and state != "Z":
                found.append(int(entry.name))
        return found

    def remaining(self, timeout: float = 20.0) -> list[int]:
        """Its processes once none is left, or those still there after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        found = self.processes()
        while found and time.monotonic() < deadline:
            time.sleep(0.1)  # poll interval of a bounded wait
            found = self.processes()
        return found

    def kill_all(self) -> None:
        for pid in self.processes():  # only what this test's demo run started
            os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


def start_demo(emulator_port: int, service_port: int) -> Demo:
    mark = uuid.uuid4().hex
    env = {
        **os.environ,
        "EMULATOR_PORT": str(emulator_port),
        "HOST": "127.0.0.1",
        "PORT": str(service_port),
        "DEMO_TEST_MARK": mark,
    }
    proc = subprocess.Popen(
        ["bash", str(DEMO)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return Demo(proc, mark)


def test_an_emulator_port_in_use_stops_the_demo() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        demo = start_demo(taken.getsockname()[1], free_port())
        status, stderr = demo.finish()
    assert status != 0
    assert stderr.strip().splitlines()[-1].startswith("demo: the emulator did not start (exit 2); is port")
    assert demo.remaining() == []  # no service running alone


def test_when_the_emulator_exits_the_service_is_stopped() -> None:
    demo = start_demo(free_port(), free_port())
    emulator_pid = int(demo.wait_for(EMULATOR_UP, 60).group(1))
    demo.wait_for(SERVICE_PID, 10)
    demo.wait_for(SERVING, 60)
    os.kill(emulator_pid, signal.SIGTERM)  # the emulator this test's demo started
    status, stderr = demo.finish()
    assert status != 0
    assert "demo: the emulator exited (status 0); stopping the service" in stderr
    assert demo.remaining() == []


def test_when_the_service_cannot_start_the_emulator_is_stopped() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        demo = start_demo(free_port(), taken.getsockname()[1])
        demo.wait_for(EMULATOR_UP, 60)
        status, stderr = demo.finish()
    assert status != 0
    assert "demo: the service exited (status 2); stopping the emulator" in stderr
    assert demo.remaining() == []


def _counters(base_url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape of ``/metrics``, read with the Prometheus client's own parser."""
    answer = http_request(base_url + "/metrics")
    assert answer.status == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.body.decode())
        for sample in family.samples
    }


def test_a_prometheus_scrape_of_the_demo_shows_its_counters_moving() -> None:
    service_port = free_port()
    demo = start_demo(free_port(), service_port)
    base = f"http://127.0.0.1:{service_port}"
    try:
        demo.wait_for(SERVING, 90)
        before = _counters(base)
        for path in ("/category?hashtag=food&count=3", "/category?hashtag=food&count=3", "/users/creator_3"):
            assert http_request(base + path, timeout=60).status == 200
        after = _counters(base)
    finally:
        demo.proc.send_signal(signal.SIGINT)  # Ctrl-C, as the README says to stop it
        demo.finish()
    assert demo.remaining() == []

    def moved(name: str, **labels: str) -> float:
        key = (name, frozenset(labels.items()))
        return after.get(key, 0.0) - before.get(key, 0.0)

    requests = "tiktok_fetch_http_requests_total"
    assert moved(requests, route="/category", status="200") == 2
    assert moved(requests, route="/users/{uniqueId}", status="200") == 1
    assert moved("tiktok_fetch_cache_answers_total", state="hit") == 1
    assert moved("tiktok_fetch_cache_answers_total", state="miss") == 2
    calls = "tiktok_fetch_upstream_calls_total"
    assert moved(calls, endpoint="/api/user/detail/", via="api", outcome="ok") == 1
    assert not any("food" in str(labels) for _, labels in after)  # a hashtag is never a label
