"""``python -m emulator --port 0 ...`` as a subprocess, and its loopback admin API."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

from emulator.admin import PREFIX as ADMIN_PREFIX
from harness import ROOT
from harness.http import http_request
from harness.processes import first_matching_line, terminate

#: the line ``python -m emulator`` prints once it listens (emulator/__main__.py)
LISTENING = re.compile(r"^emulator listening on (http://\S+)$")


class EmulatorProcess:
    """``python -m emulator --port 0 ...`` in a subprocess, plus its admin API."""

    def __init__(self, *args: str, start_timeout: float = 20.0) -> None:
        self.args = ["--port", "0", *args]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", *self.args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.base_url = self._read_address(start_timeout)

    def _read_address(self, timeout: float) -> str:
        match = first_matching_line(self.proc, LISTENING, timeout)
        if match:
            return match.group(1)
        self.stop()
        raise RuntimeError(f"emulator did not start: {self.stderr_text()}")

    def stderr_text(self) -> str:
        return self.proc.stderr.read() if self.proc.stderr and self.proc.poll() is not None else ""

    def stop(self) -> None:
        terminate(self.proc)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    # admin API

    def admin(self, method: str, path: str, payload: Any = None) -> Any:
        body = json.dumps(payload).encode() if payload is not None else None
        answer = http_request(f"{self.base_url}{ADMIN_PREFIX}/{path}", method=method, body=body)
        assert answer.status == 200, (answer.status, answer.body)
        return answer.json()

    def set_faults(self, faults: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("POST", "faults", faults)
        return result

    def faults(self) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("GET", "faults")
        return result

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("GET", "stats")
        return result

    def reset_stats(self) -> None:
        self.admin("POST", "stats/reset")

    def reset(self) -> None:
        """Faults, counters and clock back to how the process started."""
        self.admin("POST", "reset")

    def corpus(self) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("GET", "corpus")
        return result

    def set_clock_offset(self, seconds: float) -> None:
        self.admin("POST", "clock", {"offset_s": seconds})

    def expire_sessions(self) -> int:
        expired: int = self.admin("POST", "sessions/expire")["expired"]
        return expired

    def hashtag_id(self, title: str) -> str:
        for tag in self.corpus()["hashtags"]:
            if tag["title"] == title:
                return str(tag["id"])
        raise KeyError(title)
