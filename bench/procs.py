"""What only the benchmarks need of processes: start one in its own process group (so that stopping it
stops everything it started), measure the memory of its whole tree (the service plus its Playwright
driver and Chromium children), and one keep-alive HTTP client. The rest (free ports, reading a line,
terminating, descendants) is ``harness.processes``. Loopback only; every wait is bounded in time.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from harness import ROOT
from harness.processes import descendants, first_matching_line, terminate


class ManagedProcess:
    """A child in its own session (process group), its stderr (and stdout unless read) in a temp file.

    ``stop()`` sends SIGTERM to the child, waits, then SIGKILLs whatever is left of its group: a Chromium
    that outlived its parent included.
    """

    def __init__(
        self,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
        read_stdout: bool = True,
        name: str = "process",
    ) -> None:
        self.name = name
        self.log: IO[str] = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in stop())
            "w+", prefix=f"bench-{name}-", suffix=".log", encoding="utf-8"
        )
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE if read_stdout else self.log,
            stderr=self.log,
            text=True,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_line(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        """The first stdout line matching ``pattern``, within ``timeout`` seconds."""
        match = first_matching_line(self.proc, pattern, timeout)
        if match:
            return match
        raise RuntimeError(f"{self.name} did not start: {self.log_tail()}")

    def wait_port(self, port: int, timeout: float) -> None:
        """Until something accepts connections on 127.0.0.1:port (or the child exits)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} is not listening on {port}: {self.log_tail()}")

    def log_tail(self, size: int = 2000) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")[-size:]

    def stop(self) -> None:
        terminate(self.proc, grace=15)
        # Whatever the child started and left behind (it led its own process group).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()


# --- memory of a process tree ----------------------------------------------------------------------


@dataclass(frozen=True)
class TreeMemory:
    rss_bytes: int
    processes: int
    chromium_processes: int
    #: proportional set size: shared pages (Chromium's processes share many) counted once in the sum
    pss_bytes: int = 0

    @property
    def rss_mib(self) -> float:
        return self.rss_bytes / 2**20

    @property
    def pss_mib(self) -> float:
        return self.pss_bytes / 2**20


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    return [pid, *(each for each, _argv in descendants(pid))]


def _proc_kib_field(path: str, field: str) -> int:
    """A ``Field:   N kB`` line of a /proc file, in bytes (0 when the process is gone)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return 0
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) * 1024 if match else 0


def _rss(pid: int) -> int:
    return _proc_kib_field(f"/proc/{pid}/status", "VmRSS")


def _pss(pid: int) -> int:
    return _proc_kib_field(f"/proc/{pid}/smaps_rollup", "Pss")


def _is_chromium(pid: int) -> bool:
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0]
    except OSError:
        return False
    return b"chrom" in os.path.basename(argv0).lower()


def tree_memory(pid: int) -> TreeMemory:
    """The summed RSS (and PSS) of ``pid`` and all its descendants, and how many are Chromium."""
    pids = _descendants(pid)
    return TreeMemory(
        rss_bytes=sum(_rss(each) for each in pids),
        processes=len(pids),
        chromium_processes=sum(1 for each in pids if _is_chromium(each)),
        pss_bytes=sum(_pss(each) for each in pids),
    )


# --- one keep-alive client -------------------------------------------------------------------------


class KeepAliveClient:
    """One HTTP/1.1 connection reused for every request, as one client of the service would."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)", base_url)
        assert match, f"loopback only: {base_url}"
        self.port = int(match.group(1))
        self.timeout = timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def get(self, path: str) -> tuple[int, bytes, float]:
        """Status, body and seconds from sending the request to the end of the body."""
        started = time.perf_counter()
        try:
            self.conn.request("GET", path)
            response = self.conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            self.close()  # the next call reconnects
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            raise
        return response.status, body, time.perf_counter() - started

    def close(self) -> None:
        self.conn.close()
