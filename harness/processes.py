"""Child processes: free ports, waiting for one to listen or to print a line, stopping one, and the
processes below one (the Playwright driver and Chromium's processes under the service among them)."""

from __future__ import annotations

import json
import os
import queue
import re
import selectors
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any


def free_port() -> int:
    """A loopback port that was free a moment ago (for servers that cannot be told ``--port 0``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, proc: subprocess.Popen[Any], timeout: float = 15.0) -> None:
    """Until something accepts connections on 127.0.0.1:``port``; RuntimeError if ``proc`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)  # poll interval of a bounded wait
    raise RuntimeError(f"nothing listens on {port} after {timeout}s")


def first_matching_line(
    proc: subprocess.Popen[str], pattern: re.Pattern[str], timeout: float
) -> re.Match[str] | None:
    """The first line of ``proc``'s stdout that ``pattern`` matches, within ``timeout`` seconds;
    None if the process exits or stays silent first."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            line = proc.stdout.readline()
            if not line:  # exited
                break
            match = pattern.match(line.strip())
            if match:
                return match
    return None


def terminate(proc: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """SIGTERM, ``grace`` seconds to exit, then SIGKILL."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class JsonLinesChild:
    """A child process driven one JSON line at a time: a command on its stdin, its answer one JSON
    line on its stdout (other lines are skipped). Ending its stdin asks it to finish."""

    def __init__(
        self, command: list[str], cwd: Path, stderr: IO[str] | int, env: dict[str, str] | None = None
    ):
        self.proc = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
        self._answers: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                self._answers.put(line)
        self._answers.put("")  # its stdout ended: no answer will come, and waiting for one is over

    def send(self, command: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def answer(self, timeout: float) -> dict[str, Any] | None:
        """Its next answer, or None when none came within ``timeout`` seconds or it exited."""
        try:
            line = self._answers.get(timeout=timeout)
        except queue.Empty:
            return None
        if not line:
            self._answers.put(line)  # for the next caller too
            return None
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stop(self, grace: float = 30.0) -> None:
        """End its stdin, ``grace`` seconds to exit (then ``terminate``), and close its pipes."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            terminate(self.proc)
        self._reader.join(timeout=10)  # it ends at the end of the process's stdout
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def descendants(pid: int) -> list[tuple[int, list[str]]]:
    """Every process below ``pid`` with its argv, read from /proc (bounded to 10,000)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")"
        children.setdefault(int(stat.rpartition(")")[2].split()[1]), []).append(int(entry))
    found: list[tuple[int, list[str]]] = []
    todo = list(children.get(pid, []))
    while todo and len(found) < 10_000:
        current = todo.pop()
        try:
            raw = Path(f"/proc/{current}/cmdline").read_bytes().decode("utf-8", "replace")
            # Chromium rewrites its command line as one space-separated string (its process title).
            argv = [arg for arg in raw.replace("\0", " ").split(" ") if arg]
        except OSError:
            continue
        todo.extend(children.get(current, []))
        if argv:  # a zombie, or a process exiting right now, has no command line any more
            found.append((current, argv))
    return found


@dataclass
class BrowserProcesses:
    """The Playwright driver, Chromium's browser process and its renderers under one process."""

    driver: list[int]
    browser: list[int]
    renderers: list[int]


def browser_processes(pid: int) -> BrowserProcesses:
    tree = descendants(pid)
    driver = [
        each for each, argv in tree if "playwright" in " ".join(argv[:2]) and "driver" in " ".join(argv[:2])
    ]
    chromium = [(each, argv) for each, argv in tree if "chrom" in Path(argv[0]).name]
    return BrowserProcesses(
        driver=driver,
        browser=[each for each, argv in chromium if not any(arg.startswith("--type=") for arg in argv)],
        renderers=[each for each, argv in chromium if "--type=renderer" in argv],
    )
