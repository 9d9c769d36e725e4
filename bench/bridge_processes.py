"""The processes ``bench.bridge_latency`` measures: the service in its own process group, stock ScrapyRT
(the baseline), and the checks that an answer is a real crawl's and that a session is open."""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.bridge_plan import COUNT
from bench.procs import ManagedProcess
from harness.emulator import EmulatorProcess
from harness.http import http_request
from harness.processes import free_port
from harness.service import SERVING, service_environment

VENV_BIN = Path(sys.executable).parent
#: the line ``bench.bare_server`` prints once it listens
BARE_LISTENING = re.compile(r"^bare server listening on (http://127\.0\.0\.1:\d+)$")


def start_service(emulator: EmulatorProcess, **env: str) -> tuple[ManagedProcess, str]:
    """``python -m bridge`` as ``harness.service`` starts it, but in its own process group (so its whole
    tree is measured and stopped); the process and its address."""
    service = ManagedProcess(
        [sys.executable, "-m", "bridge"], env=service_environment(emulator, **env), name="bridge"
    )
    try:
        return service, service.wait_line(SERVING, timeout=30).group(1)
    except BaseException:
        service.stop()
        raise


class StockScrapyRT:
    """``scrapyrt -p PORT -i 127.0.0.1`` in the repository (bench.scrapyrt_settings), its per-crawl
    DEBUG log files in a temporary LOG_DIR that is removed on stop."""

    def __init__(self, emulator: EmulatorProcess, textbook: bool = False) -> None:
        self.logs = Path(tempfile.mkdtemp(prefix="bench-scrapyrt-logs-"))
        self.port = free_port()
        argv = [
            str(VENV_BIN / "scrapyrt"),
            "-p",
            str(self.port),
            "-i",
            "127.0.0.1",
            "-s",
            f"LOG_DIR={self.logs}",
        ]
        # The project's settings with the environment's configuration (TIKTOK_BASE_URL) applied, plus
        # bench.baseline_spider among the spider modules.
        argv += ["-s", "PROJECT_SETTINGS=bench.scrapyrt_settings"]
        self.spider = "baseline_trending" if textbook else "trending"
        self.process = ManagedProcess(
            argv, env={"TIKTOK_BASE_URL": emulator.base_url}, read_stdout=False, name="scrapyrt"
        )
        self.base_url = f"http://127.0.0.1:{self.port}"
        try:
            self.process.wait_port(self.port, timeout=30)
        except BaseException:
            self.stop()
            raise

    def path(self, count: int = COUNT) -> str:
        query = {
            "spider_name": self.spider,
            "spider_start": "true",
            "crawl_args": json.dumps({"count": count}),
        }
        return "/crawl.json?" + urlencode(query)

    def stop(self) -> None:
        try:
            self.process.stop()
        finally:
            shutil.rmtree(self.logs, ignore_errors=True)


def check_crawl_answer(status: int, body: bytes, what: str) -> None:
    if status != 200:
        raise RuntimeError(f"{what}: HTTP {status}: {body[:300]!r}")
    if body.startswith(b"{"):  # ScrapyRT's envelope
        answer = json.loads(body)
        if answer.get("status") != "ok" or not answer.get("items"):
            raise RuntimeError(f"{what}: {str(answer)[:300]}")
    elif body == b"[]":
        raise RuntimeError(f"{what}: no videos")


def wait_session(base_url: str, timeout: float = 30.0) -> None:
    """Until the service's /health says its browser session is open."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = http_request(base_url + "/health")
        health = answer.json() if answer.status == 200 else {}
        # {"session": {"open": true}} before #7, {"sessions": {"open": 1, ...}} (a pool) since
        if any(
            isinstance(part, dict) and part.get("open")
            for part in (health.get("session"), health.get("sessions"))
        ):
            return
        time.sleep(0.05)
    raise RuntimeError("the service opened no TikTok session in time")
