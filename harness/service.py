"""``python -m bridge`` (the HTTP service) as a subprocess on a free loopback port, in front of an
emulator; its stderr kept in a log file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import ROOT
from harness.http import Answer, http_request
from harness.processes import first_matching_line, terminate

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess

#: the line ``python -m bridge`` prints once it listens (bridge/__main__.py)
SERVING = re.compile(r"^serving on (http://\S+)$")


def service_environment(emulator: EmulatorProcess, **env: str) -> dict[str, str]:
    """The variables a harnessed service starts with, ``env`` last. Not the service's defaults, on
    purpose: loopback on a port the kernel picks (``PORT=0``), the emulator as TikTok, and no rate
    limit (every test and benchmark sends more than a client would; the limiter has tests of its own)."""
    return {
        "HOST": "127.0.0.1",
        "PORT": "0",
        "TIKTOK_BASE_URL": emulator.base_url,
        "RATE_LIMIT": "off",
        **env,
    }


class ServiceProcess:
    """``python -m bridge`` on a free loopback port, in front of ``emulator``; its stderr is kept."""

    def __init__(self, emulator: EmulatorProcess, start_timeout: float = 30.0, **env: str) -> None:
        self.log_path = Path(tempfile.gettempdir()) / f"bridge-{os.getpid()}-{id(self)}.log"
        self._log = self.log_path.open("w+", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bridge"],
            cwd=ROOT,
            env={**os.environ, **service_environment(emulator, **env)},
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self.base_url = self._read_address(start_timeout)

    def _read_address(self, timeout: float) -> str:
        match = first_matching_line(self.proc, SERVING, timeout)
        if match:
            return match.group(1)
        log = self.log()
        self.stop()
        raise RuntimeError(f"service did not start (exit {self.proc.returncode}): {log[-2000:]}")

    def get(self, path: str, **kwargs: Any) -> Answer:
        return http_request(self.base_url + path, **kwargs)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8")

    def stop(self) -> None:
        terminate(self.proc, grace=15)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()
