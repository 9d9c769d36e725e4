"""``python -m emulator --port 0 ...`` (``--tls`` too, on request) as a subprocess, and its loopback
admin API."""

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
LISTENING = re.compile(r"^emulator listening on (https?://\S+)$")
#: the line it prints before that one under ``--tls``: the PEM file of the certificate it serves
CERTIFICATE = re.compile(r"^emulator certificate (.+)$")


def run_emulator(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """``python -m emulator ARGS`` to its end, for the command line's own answers (help, errors)."""
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class EmulatorProcess:
    """``python -m emulator --port 0 ...`` in a subprocess, plus its admin API. With ``tls`` it
    serves HTTPS: ``base_url`` is ``https://...`` and ``certificate`` the PEM file to trust (pass it
    as ``cafile`` to ``http_request``); without, ``certificate`` is None."""

    def __init__(self, *args: str, start_timeout: float = 20.0, tls: bool = False) -> None:
        self.args = ["--port", "0", *(["--tls"] if tls and "--tls" not in args else []), *args]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", *self.args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.certificate: str | None = None
        if "--tls" in self.args:
            self.certificate = self._read_address(CERTIFICATE, start_timeout)
        self.base_url = self._read_address(LISTENING, start_timeout)

    def _read_address(self, pattern: re.Pattern[str], timeout: float) -> str:
        if pattern is LISTENING and self.certificate is not None:
            # The emulator prints the listening line right after the certificate line, and the
            # first read may have buffered it already, where a select on the pipe cannot see it:
            # read it directly (an exit is end of file, not a hang).
            assert self.proc.stdout is not None
            match = pattern.match(self.proc.stdout.readline().strip())
        else:
            match = first_matching_line(self.proc, pattern, timeout)
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
        answer = http_request(
            f"{self.base_url}{ADMIN_PREFIX}/{path}", method=method, body=body, cafile=self.certificate
        )
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
