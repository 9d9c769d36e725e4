"""Scheduled crawls on scrapyd (README "Deploying"): deploy the egg, schedule, items as JSON lines, a
scheduled trending crawl that warms the shared cache for the HTTP service, a failed job that says why
in its log, and ``scripts/scrapyd.py schedule`` refusing bad arguments before it contacts scrapyd."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from harness import ROOT
from harness.deploy import SCRAPYD_SCRIPT, ScrapydProcess
from harness.processes import free_port
from harness.service import ServiceProcess

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from harness.deploy import RedisProcess
    from harness.emulator import EmulatorProcess

RECOMMEND = "/api/recommend/item_list/"


@pytest.fixture
def scrapyd(
    emulator: EmulatorProcess, redis_server: RedisProcess, tmp_path: Path
) -> Iterator[ScrapydProcess]:
    server = ScrapydProcess(
        tmp_path / "scrapyd",
        TIKTOK_BASE_URL=emulator.base_url,
        CACHE_URL=redis_server.url,
        CACHE_WARM="1",
        CACHE_TTL_TRENDING="600",
    )
    try:
        assert "deployed tiktok_spiders" in server.deploy()
        yield server
    finally:
        server.stop()


def test_scheduled_crawl_writes_its_items_as_json_lines(scrapyd: ScrapydProcess) -> None:
    job = scrapyd.schedule("hashtag", "hashtag=food", "count=5")
    scrapyd.wait_finished(job)
    items = scrapyd.items("hashtag", job)
    assert len(items) == 5, scrapyd.log("hashtag", job)[-3000:]
    assert len({item["id"] for item in items}) == 5
    assert all(any(tag["title"] == "food" for tag in item["hashtags"]) for item in items)


def test_scheduled_trending_crawl_warms_the_service_cache(
    scrapyd: ScrapydProcess, emulator: EmulatorProcess, redis_server: RedisProcess
) -> None:
    job = scrapyd.schedule("trending")
    scrapyd.wait_finished(job)
    assert len(scrapyd.items("trending", job)) == 30, scrapyd.log("trending", job)[-3000:]
    assert "'cache_warm/stored': 1" in scrapyd.log("trending", job)
    service = ServiceProcess(emulator, CACHE_URL=redis_server.url)
    try:
        emulator.reset_stats()
        answer = service.get("/trending")
        assert (answer.status, answer.headers["x-cache"]) == (200, "HIT")
        videos = answer.json()
        assert [video["id"] for video in videos] == [item["id"] for item in scrapyd.items("trending", job)]
        assert all(
            video["video"]["url"] == f"{service.base_url}/videos/{video['id']}/play" for video in videos
        )
        assert emulator.stats()["requests"].get(RECOMMEND, 0) == 0
    finally:
        service.stop()


def test_a_failed_job_says_why_in_its_log(scrapyd: ScrapydProcess) -> None:
    job = scrapyd.schedule("hashtag", "hashtag=nosuchhashtagxyz")
    # scrapyd 1.6's listjobs.json lists it as finished, like any other: it keeps no exit status.
    assert "exit" not in str(scrapyd.wait_finished(job))
    log = scrapyd.log("hashtag", job)
    assert "[hashtag] ERROR: crawl failed: upstream not_found: statusCode 10205 (exit 4)" in log, log[-3000:]
    assert "'tiktok/exit_code': 4" in log
    scrapyd_log = (scrapyd.directory / "scrapyd.log").read_text(encoding="utf-8")
    assert f"Process died: exitstatus=4 project='tiktok_spiders' spider='hashtag' job='{job}'" in scrapyd_log


def run_script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*args],
        cwd=ROOT,
        env=env if env is not None else dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["trending", "count=abc"], "error: count: must be an integer from 1 to 10000"),
        (["trending", "count=5", "count=7"], "error: count: given more than once"),
        (["trending", "colour=red"], "error: colour: unknown argument"),
        (["hashtag"], "error: hashtag: is required"),
        (["hashtag", "hashtag=a b"], "error: hashtag: may hold only letters, digits and _"),
        (["nosuchspider"], "error: no spider named 'nosuchspider'"),
        (["trending", "count"], "error: spider arguments are name=value, not 'count'"),
        (["trending", "jobid=1"], "error: spider arguments are name=value, not 'jobid=1'"),
    ],
)
def test_schedule_refuses_bad_arguments_without_contacting_scrapyd(
    arguments: list[str], message: str
) -> None:
    with socket.socket() as listener:
        # A listening port: a connection attempt would succeed at the TCP level and show up here.
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        done = run_script(sys.executable, str(SCRAPYD_SCRIPT), "schedule", "--url", url, *arguments)
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stdout == ""
        assert done.stderr.count("\n") == 1  # one line, no traceback
        assert done.stderr.startswith(message)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected


def without_venv() -> dict[str, str]:
    """The environment of a shell where the venv is not activated: no .venv/bin on PATH."""
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONHOME")}
    venv_bin = os.path.realpath(ROOT / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(
        part for part in env.get("PATH", "").split(os.pathsep) if part and os.path.realpath(part) != venv_bin
    )
    return env


def test_the_script_runs_as_the_readme_writes_it(tmp_path: Path) -> None:
    assert os.access(SCRAPYD_SCRIPT, os.X_OK)
    mode = run_script("git", "ls-files", "--stage", "scripts/scrapyd.py").stdout.split()[0]
    assert mode == "100755"  # executable in the repository, not only in this checkout
    stopped = run_script(str(SCRAPYD_SCRIPT), "stop", "--dir", str(tmp_path), env=without_venv())
    assert (stopped.returncode, stopped.stdout) == (0, "scrapyd is not running (no pid file)\n"), (
        stopped.stderr
    )
    # The argument check needs Scrapy and the spiders: the script found the project's .venv by itself.
    url = f"http://127.0.0.1:{free_port()}/"
    checked = run_script(
        str(SCRAPYD_SCRIPT), "schedule", "--url", url, "trending", "count=0", env=without_venv()
    )
    assert (checked.returncode, checked.stderr) == (2, "error: count: must be an integer from 1 to 10000\n")
