"""The systemd units in deploy/ (README "Deploying"): ``systemd-analyze verify`` finds nothing to say
about them (where it is installed), with the install prefix rewritten to this checkout so that the
executables they name exist; and their commands do what the units promise: the template's instance
name is the port, a bad setting is the exit status that stops restarts, SIGTERM stops the service
with its Chromium well within the stop timeout, scrapyd runs in the foreground without a pid file,
and the timer schedules the trending crawl as the README's cron line does."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness import ROOT
from harness.http import http_request
from harness.processes import first_matching_line, free_port, terminate
from harness.service import SERVING, service_environment

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess

DEPLOY = ROOT / "deploy"
#: where the units expect the checkout and its venv (README, "Deploying")
PREFIX = "/opt/tiktok-fetch-service"
TEMPLATE = "tiktok-fetch-service@.service"
TARGET = "tiktok-fetch-service.target"
SCRAPYD = "tiktok-scrapyd.service"
SCHEDULE = "tiktok-schedule-trending.service"
TIMER = "tiktok-schedule-trending.timer"
UNITS = (TEMPLATE, TARGET, SCRAPYD, SCHEDULE, TIMER)
INSTANCE = "tiktok-fetch-service@5001.service"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"

needs_systemd_analyze = pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="no systemd-analyze here")
needs_venv = pytest.mark.skipif(not VENV_PYTHON.exists(), reason="no .venv (make install)")

Unit = dict[str, dict[str, list[str]]]


def parse_unit(text: str) -> Unit:
    """A unit file's sections and their settings, each setting's values in order (systemd allows a
    setting more than once). Our units use no line continuations."""
    unit: Unit = {}
    section: dict[str, list[str]] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        assert not stripped.endswith("\\"), f"line {number}: no continuation lines"
        if stripped.startswith("["):
            section = unit.setdefault(stripped.strip("[]"), {})
            continue
        assert section is not None, f"line {number}: a setting before any section"
        key, equals, value = stripped.partition("=")
        assert equals, f"line {number}: not key=value: {stripped!r}"
        section.setdefault(key.strip(), []).append(value.strip())
    return unit


def unit(name: str) -> Unit:
    return parse_unit((DEPLOY / name).read_text(encoding="utf-8"))


def setting(name: str, section: str, key: str) -> str:
    values = unit(name)[section][key]
    assert len(values) == 1, f"{name}: {key} set {len(values)} times"
    return values[0]


def words(values: list[str]) -> list[str]:
    """A list setting's items, however many lines it was given on."""
    return [word for value in values for word in value.split()]


def local_command(command: str, instance: str = "5001") -> list[str]:
    """A unit's command line as it runs from this checkout: the prefix rewritten, ``%i`` expanded."""
    return shlex.split(command.replace(PREFIX, str(ROOT)).replace("%i", instance))


def install(directory: Path) -> list[Path]:
    """The units, rewritten for this checkout, in ``directory``; the template instantiated as
    ``INSTANCE`` (verify takes an instance, not a template)."""
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8").replace(PREFIX, str(ROOT))
        (directory / name).write_text(text, encoding="utf-8")
    shutil.copy(directory / TEMPLATE, directory / INSTANCE)
    return [directory / name for name in (INSTANCE, TARGET, SCRAPYD, SCHEDULE, TIMER)]


def verify(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    assert SYSTEMD_ANALYZE is not None
    options = ["--man=no"]
    helped = subprocess.run(
        [SYSTEMD_ANALYZE, "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    if "--recursive-errors" in helped.stdout:  # systemd 250+: the system's units are not ours to judge
        options.append("--recursive-errors=no")
    return subprocess.run(
        [SYSTEMD_ANALYZE, "verify", *options, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "SYSTEMD_LOG_COLOR": "0", "SYSTEMD_PAGER": ""},
    )


def about_ours(output: str, directory: Path) -> list[str]:
    """The lines of verify's output about our units (it also speaks of the system's units they name,
    redis-server.service or nginx.service, which are not this repository's)."""
    ours = (*UNITS, INSTANCE, str(directory))
    return [line for line in output.splitlines() if any(name in line for name in ours)]


@needs_systemd_analyze
@needs_venv
def test_units_verify_without_a_word(tmp_path: Path) -> None:
    done = verify(install(tmp_path))
    output = done.stdout + done.stderr
    assert about_ours(output, tmp_path) == [], output
    assert done.returncode == 0, output


@needs_systemd_analyze
def test_verify_here_does_find_what_is_wrong(tmp_path: Path) -> None:
    """verify outside a running systemd (a container) still reads the units: the test above would
    not pass for units it could not judge. (The template's executable is env(1); the python it runs
    is checked by the next test.)"""
    template = (DEPLOY / TEMPLATE).read_text(encoding="utf-8")
    (tmp_path / INSTANCE).write_text(template.replace("KillMode=mixed", "KillMode=gently"), encoding="utf-8")
    scrapyd = (DEPLOY / SCRAPYD).read_text(encoding="utf-8").replace(PREFIX, str(tmp_path / "absent"))
    (tmp_path / SCRAPYD).write_text(scrapyd, encoding="utf-8")
    done = verify([tmp_path / INSTANCE, tmp_path / SCRAPYD])
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "gently" in output, output
    assert "is not executable" in output, output


def test_every_path_the_units_name_is_in_the_checkout() -> None:
    named = set()
    for name in UNITS:
        named |= set(
            re.findall(re.escape(PREFIX) + r"(/[\w./-]*)", (DEPLOY / name).read_text(encoding="utf-8"))
        )
    assert "/.venv/bin/python" in named
    for path in sorted(named - {"/.venv/bin/python"}):  # the venv is made by make install
        assert (ROOT / path.lstrip("/")).exists(), path


def test_the_template_serves_the_instance_port_and_stops_restarts_on_bad_config() -> None:
    service = unit(TEMPLATE)["Service"]
    command = setting(TEMPLATE, "Service", "ExecStart")
    # env(1) sets PORT after the environment files are read: they cannot move an instance's port.
    assert command == f"/usr/bin/env PORT=%i {PREFIX}/.venv/bin/python -m bridge"
    assert service["EnvironmentFile"] == [
        "-/etc/tiktok-fetch-service.env",
        "-/etc/tiktok-fetch-service@%i.env",
    ]
    assert service["Restart"] == ["on-failure"]
    assert service["RestartPreventExitStatus"] == ["2"]
    assert service["KillMode"] == ["mixed"]
    assert service["Type"] == ["exec"]
    # Chromium's JIT needs writable code pages; its own sandbox, user namespaces.
    assert "MemoryDenyWriteExecute" not in service
    assert "RestrictNamespaces" not in service
    assert unit(TEMPLATE)["Install"]["WantedBy"] == [TARGET]


@needs_venv
def test_a_bad_setting_is_the_exit_status_that_prevents_restarts() -> None:
    environ = {key: value for key, value in os.environ.items() if key != "PORT"}
    done = subprocess.run(
        local_command(setting(TEMPLATE, "Service", "ExecStart"), instance="not-a-port"),
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert str(done.returncode) == setting(TEMPLATE, "Service", "RestartPreventExitStatus"), done.stderr
    assert "PORT" in done.stderr


def start_time(pid: int) -> str | None:
    """When ``pid`` started (field 22 of its stat: a pid reused later has another), None once it has
    exited (a zombie included)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
    return None if fields[0] == "Z" else fields[19]


def descendants(pid: int) -> dict[int, str]:
    """The processes below ``pid`` (Playwright's driver, Chromium's), each with its start time."""
    found: dict[int, str] = {}
    pending = [pid]
    while pending:
        parent = pending.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text(encoding="ascii").split()
        except OSError:
            continue
        for child in map(int, children):
            started = start_time(child)
            if child not in found and started is not None:
                found[child] = started
                pending.append(child)
    return found


def still_running(processes: dict[int, str]) -> list[int]:
    return [pid for pid, started in processes.items() if start_time(pid) == started]


@needs_venv
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc")
def test_an_instance_stops_on_sigterm_with_its_chromium_within_the_stop_timeout(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    """KillMode=mixed sends SIGTERM to the service alone: it must close Chromium and the Playwright
    driver itself, and exit (status 0: not a failure to restart) within TimeoutStopSec."""
    port = free_port()
    environ = {**os.environ, **service_environment(emulator)}
    del environ["PORT"]  # the unit's command sets it
    log_path = tmp_path / "bridge.log"
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            local_command(setting(TEMPLATE, "Service", "ExecStart"), instance=str(port)),
            cwd=ROOT,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    children: dict[int, str] = {}
    try:
        match = first_matching_line(proc, SERVING, 60)
        assert match, log_path.read_text(encoding="utf-8")[-2000:]
        assert match.group(1) == f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while http_request(match.group(1) + "/health").status != 200:
            assert time.monotonic() < deadline, "never ready"
            time.sleep(0.2)  # poll interval of a bounded wait
        children = descendants(proc.pid)
        assert children, "no Chromium, no Playwright driver?"
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        stop_timeout = float(setting(TEMPLATE, "Service", "TimeoutStopSec"))
        proc.wait(timeout=stop_timeout)
        assert proc.returncode == 0, log_path.read_text(encoding="utf-8")[-2000:]
        assert time.monotonic() - started < stop_timeout / 2
        deadline = time.monotonic() + 5
        while still_running(children) and time.monotonic() < deadline:
            time.sleep(0.1)  # the last of them may take a moment after the driver is gone
        assert still_running(children) == []
    finally:
        terminate(proc, grace=5)
        for child in still_running(children):  # only what this test started, should it have failed
            os.kill(child, signal.SIGKILL)
        if proc.stdout is not None:
            proc.stdout.close()


def test_scrapyd_runs_with_the_repository_config() -> None:
    service = unit(SCRAPYD)["Service"]
    assert service["ExecStartPre"] == [f"/usr/bin/cp {PREFIX}/deploy/scrapyd.conf scrapyd.conf"]
    assert service["WorkingDirectory"] == ["%S/tiktok-scrapyd"]
    assert service["StateDirectory"] == ["tiktok-scrapyd"]
    assert service["ExecStart"] == [f"{PREFIX}/.venv/bin/python -m scrapyd --pidfile="]
    assert "-/etc/tiktok-fetch-service.env" in service["EnvironmentFile"]
    assert unit(SCRAPYD)["Install"]["WantedBy"] == [TARGET]


@needs_venv
def test_scrapyd_as_the_unit_runs_it_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    """In the foreground (Type=exec), with no twistd.pid left to refuse the next start. The copied
    config's port is the one thing changed: 6800 may be taken here."""
    port = free_port()
    conf = (DEPLOY / "scrapyd.conf").read_text(encoding="utf-8")
    (tmp_path / "scrapyd.conf").write_text(
        re.sub(r"(?m)^http_port = 6800$", f"http_port = {port}", conf), encoding="utf-8"
    )
    proc = subprocess.Popen(
        local_command(setting(SCRAPYD, "Service", "ExecStart")),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"scrapyd exited ({proc.returncode})"
            try:
                if http_request(f"http://127.0.0.1:{port}/daemonstatus.json").status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "scrapyd never answered"
            time.sleep(0.2)  # poll interval of a bounded wait
        assert not (tmp_path / "twistd.pid").exists()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=float(setting(SCRAPYD, "Service", "TimeoutStopSec")))
    finally:
        terminate(proc, grace=5)


def test_the_timer_schedules_trending_every_ten_minutes() -> None:
    timer = unit(TIMER)
    assert timer["Timer"]["OnCalendar"] == ["*:0/10"]  # the cron line's */10 * * * *
    assert "Unit" not in timer["Timer"]  # its service has the timer's name
    assert TARGET in words(timer["Install"]["WantedBy"])
    service = unit(SCHEDULE)
    assert service["Service"]["Type"] == ["oneshot"]
    assert service["Service"]["RestartPreventExitStatus"] == ["2"]
    assert local_command(setting(SCHEDULE, "Service", "ExecStart"))[1:] == [
        str(ROOT / "scripts" / "scrapyd.py"),
        "schedule",
        "trending",
    ]
    assert SCRAPYD in words(service["Unit"]["After"])
    assert TIMER in words(unit(TARGET)["Unit"]["Wants"])


@needs_systemd_analyze
def test_the_timer_calendar_is_every_ten_minutes() -> None:
    assert SYSTEMD_ANALYZE is not None
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "calendar", setting(TIMER, "Timer", "OnCalendar")],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert re.search(r"Normalized form: \*-\*-\* \*:00/10:00$", done.stdout, re.MULTILINE), done.stdout


@needs_venv
def test_the_schedule_command_passes_its_checks_and_only_then_contacts_scrapyd() -> None:
    """The unit's arguments are those ``scrapy crawl`` accepts (a bad one would be exit 2, which stops
    its retries): run against a port nothing listens on, it gets as far as calling scrapyd."""
    command = local_command(setting(SCHEDULE, "Service", "ExecStart"))
    nobody = f"http://127.0.0.1:{free_port()}/"

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *extra, "--url", nobody],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    done = run()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "error: scrapyd unreachable" in done.stderr
    bad = run("count=abc")
    assert str(bad.returncode) == setting(SCHEDULE, "Service", "RestartPreventExitStatus"), bad.stderr
    assert "scrapyd unreachable" not in bad.stderr


def test_the_target_brings_redis_nginx_scrapyd_and_the_timer() -> None:
    wants = words(unit(TARGET)["Unit"]["Wants"])
    assert set(wants) == {"redis-server.service", "nginx.service", SCRAPYD, TIMER}
    for name in (TEMPLATE, SCRAPYD):
        assert unit(name)["Unit"]["PartOf"] == [TARGET]
        assert "redis-server.service" in words(unit(name)["Unit"]["After"])


def test_the_readme_deploys_with_the_units_and_keeps_cron() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    deploying = readme.split("\n## Deploying\n", 1)[1].split("\n## ", 1)[0]
    for name in UNITS:
        assert f"deploy/{name}" in deploying or name in deploying, name
    assert "systemctl enable --now tiktok-fetch-service@5001 tiktok-fetch-service@5002" in deploying
    assert "make schedule SPIDER=trending" in deploying  # the cron line, as the alternative
