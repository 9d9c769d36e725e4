"""Process start to the first 200 of uncached ``/trending?count=30``, this tree's service against
other checkouts' (or the same tree with other settings), alternating on one emulator: the median
and spread of each, and the median of the paired differences (each run starts every contender once,
one after the other), for start-up changes (DESIGN.md section 5: at most 1.5 s).

    git worktree add /tmp/baseline d612cc9
    .venv/bin/python -m bench.start_time --runs 15 --against /tmp/baseline
    .venv/bin/python -m bench.start_time --runs 15 --against .:CHROMIUM_PATH=/usr/bin/chromium
    git worktree remove /tmp/baseline

Each sample is a fresh ``python -m bridge`` (this venv's Python, in the checkout's directory, its
own process group, stopped after its answer): timed from just before ``Popen`` to the first 200,
asked as soon as it prints ``serving on`` (also timed), as ``bench.bridge_latency``'s figure 4 does.
Also printed: the CPU seconds the service's process tree (Python, the Playwright driver, Chromium)
had spent by its first answer, a figure a busy machine disturbs less than the wall time. Prints
only; every sample is printed with ``--verbose``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.bridge_processes import check_crawl_answer
from bench.procs import ManagedProcess
from harness import ROOT
from harness.emulator import EmulatorProcess
from harness.http import http_request
from harness.processes import descendants
from harness.service import SERVING, service_environment

PATH = "/trending?count=30"


@dataclass
class Contender:
    """A checkout and the variables its service starts with (beside the harness's own)."""

    name: str
    root: Path
    env: dict[str, str]
    serving: list[float] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @classmethod
    def parse(cls, spec: str) -> Contender:
        """``DIR`` or ``DIR:NAME=VALUE,NAME=VALUE``."""
        directory, _, assignments = spec.partition(":")
        env = dict(each.split("=", 1) for each in assignments.split(",") if each)
        return cls(spec, Path(directory).resolve(), env)


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user and system, reaped children's included) of ``pid`` and the live processes
    below it: what the service, its Playwright driver and its Chromium have spent so far."""
    ticks = 0
    for each in [pid, *(child for child, _argv in descendants(pid))]:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        ticks += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def idle_fraction(seconds: float) -> float:
    """The fraction of the machine's CPU time that was idle over the next ``seconds`` (/proc/stat)."""

    def sample() -> tuple[int, int]:
        values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return values[3] + values[4], sum(values)  # idle + iowait, all

    idle_before, total_before = sample()
    time.sleep(seconds)
    idle_after, total_after = sample()
    return (idle_after - idle_before) / max(1, total_after - total_before)


def wait_idle(fraction: float, bound: float = 60.0) -> None:
    """Until the machine was at least ``fraction`` idle for half a second, for at most ``bound`` s."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline and idle_fraction(0.5) < fraction:
        pass


def one_start(contender: Contender, emulator: EmulatorProcess, timeout: float) -> tuple[float, float, float]:
    """Seconds to ``serving on`` and to the first 200 of ``PATH`` for one fresh process, and the CPU
    seconds its process tree had spent by then."""
    env = {**os.environ, **service_environment(emulator, **contender.env)}
    started = time.monotonic()
    service = ManagedProcess([sys.executable, "-m", "bridge"], env=env, cwd=contender.root, name="bridge")
    try:
        base_url = service.wait_line(SERVING, timeout=timeout).group(1)
        serving = time.monotonic() - started
        while time.monotonic() - started < timeout:
            answer = http_request(base_url + PATH, timeout=timeout)
            if answer.status == 200:
                check_crawl_answer(answer.status, answer.body, contender.name)
                answered = time.monotonic() - started
                return serving, answered, tree_cpu_seconds(service.pid)
            time.sleep(0.02)
        raise SystemExit(f"{contender.name}: no 200 within {timeout} s: {service.log_tail(1500)}")
    finally:
        service.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--against",
        action="append",
        default=[],
        metavar="DIR[:NAME=VALUE,...]",
        help="another checkout (or this one, '.') and its variables; repeatable",
    )
    parser.add_argument("--runs", type=int, default=10, help="fresh processes of each (default 10)")
    parser.add_argument("--latency-ms", type=int, default=0, help="the emulator's added latency (default 0)")
    parser.add_argument(
        "--idle",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="before each sample, wait (up to 60 s) until the CPU was this idle for 0.5 s, e.g. 0.8 "
        "on a machine others share (default 0: no wait)",
    )
    parser.add_argument("--verbose", action="store_true", help="print every sample")
    options = parser.parse_args()
    contenders = [Contender("this tree", ROOT, {}), *(Contender.parse(spec) for spec in options.against)]
    emulator = EmulatorProcess("--seed", "1", "--latency-ms", str(options.latency_ms))
    load_before = os.getloadavg()[0]
    try:
        for run in range(options.runs):
            # Each run in another order, so that a drift of the machine hits every contender alike.
            shift = run % len(contenders)
            for contender in contenders[shift:] + contenders[:shift]:
                if options.idle:
                    wait_idle(options.idle)
                serving, answered, cpu = one_start(contender, emulator, timeout=60.0)
                contender.serving.append(serving)
                contender.answered.append(answered)
                contender.cpu.append(cpu)
                if options.verbose:
                    print(
                        f"run {run:2} {contender.name:30} serving {serving:5.2f} s  "
                        f"first 200 {answered:5.2f} s  cpu {cpu:5.2f} s"
                    )
    finally:
        emulator.stop()
    print(f"{options.runs} fresh processes each, load average {load_before:.2f} -> {os.getloadavg()[0]:.2f}")
    ours = contenders[0]
    for contender in contenders:
        line = (
            f"{contender.name:30} first 200 p50 {statistics.median(contender.answered):5.2f} s "
            f"(min {min(contender.answered):.2f}, max {max(contender.answered):.2f})  "
            f"serving on p50 {statistics.median(contender.serving):5.2f} s  "
            f"CPU by then p50 {statistics.median(contender.cpu):5.2f} s"
        )
        if contender is not ours:
            # Paired by run (the two started one after the other): a drift of the machine's load
            # cancels out of each difference, where it widens both medians.
            differences = [
                mine - theirs for mine, theirs in zip(ours.answered, contender.answered, strict=True)
            ]
            faster = sum(1 for difference in differences if difference < 0)
            line += (
                f"\n{'':30} this tree minus it, paired p50 {statistics.median(differences) * 1000:+5.0f} ms; "
                f"this tree faster in {faster} of {len(differences)} runs"
            )
        print(line)


if __name__ == "__main__":
    main()
