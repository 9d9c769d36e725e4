"""This tree's service against another checkout's, alternating on one emulator: the uncached
``/trending?count=30`` latency of each (``CACHE_TTL_TRENDING=0``, so every request is a crawl), p50 and
p95 and their ratio. For refactorings that must not change a figure.

    git worktree add /tmp/baseline 3169d49
    .venv/bin/python -m bench.versus --baseline /tmp/baseline --requests 300
    git worktree remove /tmp/baseline

Both services run with this venv's Python (the baseline's dependencies must be the same pins).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench.procs import KeepAliveClient
from harness import ROOT
from harness.emulator import EmulatorProcess
from harness.processes import first_matching_line, terminate
from harness.service import SERVING, service_environment

PATH = "/trending?count=30"
WARMUP = 10


def start(root: Path, emulator: EmulatorProcess) -> tuple[subprocess.Popen[str], KeepAliveClient]:
    env = {**os.environ, **service_environment(emulator, CACHE_TTL_TRENDING="0", CACHE_STALE_MAX="0")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    match = first_matching_line(proc, SERVING, 60)
    if match is None:
        terminate(proc)
        raise SystemExit(f"the service in {root} did not start")
    return proc, KeepAliveClient(match.group(1))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout of the project")
    parser.add_argument("--requests", type=int, default=300, help="uncached requests to each (default 300)")
    options = parser.parse_args()
    emulator = EmulatorProcess("--seed", "1")
    started: list[subprocess.Popen[str]] = []
    clients: dict[str, KeepAliveClient] = {}
    try:
        for name, root in (("this tree", ROOT), ("baseline", options.baseline.resolve())):
            proc, clients[name] = start(root, emulator)
            started.append(proc)
            for _ in range(WARMUP):  # the session opened, the crawl machinery imported
                clients[name].get(PATH)
        times: dict[str, list[float]] = {name: [] for name in clients}
        for number in range(options.requests):
            order = list(clients) if number % 2 else list(reversed(clients))  # alternating who goes first
            for name in order:
                status, _, seconds = clients[name].get(PATH)
                if status != 200:
                    raise SystemExit(f"{name}: {PATH} answered {status}")
                times[name].append(seconds * 1000)
        for name, values in times.items():
            print(
                f"{name:10} p50 {statistics.median(values):6.1f} ms  p95 {percentile(values, 0.95):6.1f} ms"
            )
        ratio = statistics.median(times["this tree"]) / statistics.median(times["baseline"])
        print(f"this tree / baseline, p50: {ratio:.3f} ({options.requests} requests each)")
    finally:
        for client in clients.values():
            client.close()
        for proc in started:
            terminate(proc)
        emulator.stop()


if __name__ == "__main__":
    main()
