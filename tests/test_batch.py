"""Batch use: ``scrapy crawl ... -O file`` writes the Video objects; bad arguments stop cleanly; the
exit status says how the crawl ended (0 ok, 1 our failure, 2 bad arguments, 3 upstream failed,
4 not found), and a failed crawl's last log line says why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness import ROOT
from harness.processes import free_port

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess

RECOMMEND = "/api/recommend/item_list/"
VIDEO_KEYS = {
    "id", "description", "createTime", "webUrl", "author", "stats", "hashtags", "video", "music", "pinned"
}  # fmt: skip


def scrapy(
    *args: str, base_url: str = "http://127.0.0.1:9", timeout: float = 120, **env_vars: str
) -> subprocess.CompletedProcess[str]:
    # Port 9 (discard) on loopback: a command that wrongly reached upstream would fail, not leave the machine.
    env = {**os.environ, "TIKTOK_BASE_URL": base_url, "TIKTOK_RETRY_BACKOFF": "0.02", **env_vars}
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_trending_export_to_json(emulator: EmulatorProcess, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    done = scrapy("crawl", "trending", "-O", str(out), base_url=emulator.base_url)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "crawl failed" not in done.stderr
    assert "'tiktok/exit_code': 0" in done.stderr
    videos = json.loads(out.read_text(encoding="utf-8"))
    assert len(videos) == 30  # the default count
    assert all(set(video) == VIDEO_KEYS for video in videos)
    assert len({video["id"] for video in videos}) == 30


def test_hashtag_export_to_json_lines(emulator: EmulatorProcess, tmp_path: Path) -> None:
    out = tmp_path / "food.jsonl"
    done = scrapy(
        "crawl",
        "hashtag",
        "-a",
        "hashtag=food",
        "-a",
        "count=200",
        "-O",
        str(out),
        base_url=emulator.base_url,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = out.read_text(encoding="utf-8").splitlines()
    videos = [json.loads(line) for line in lines]
    assert len(videos) == 200
    assert len({video["id"] for video in videos}) == 200
    assert all(any(tag["title"] == "food" for tag in video["hashtags"]) for video in videos)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["trending", "-a", "count=0"], "error: count: must be an integer from 1 to 10000"),
        (["trending", "-a", "count=abc"], "error: count: must be an integer from 1 to 10000"),
        (["hashtag", "-a", "hashtag=a b"], "error: hashtag: may hold only letters, digits and _"),
        (["hashtag", "-a", "hashtag="], "error: hashtag: must not be empty"),
        (["hashtag"], "error: hashtag: is required"),
        (["hashtag", "-a", "hashtag=food", "-a", "cursor=-1"], "error: cursor: must be an integer"),
        (["trending", "-a", "colour=red"], "error: colour: unknown argument"),
        (["search"], "error: q: is required"),
        (["search", "-a", "q=" + "x" * 201], "error: q: must be at most 200 characters"),
        (["search", "-a", "q=pasta", "-a", "hashtag=food"], "error: hashtag: unknown argument"),
        (["nosuchspider"], "error: no spider named 'nosuchspider'"),
        (["trending", "-a", "count=5", "-a", "count=7"], "error: count: given more than once"),
        (["hashtag", "-a", "hashtag=food", "-a", "hashtag=cat"], "error: hashtag: given more than once"),
        (["creator"], "error: uniqueId: is required"),
        (["creator", "-a", "uniqueId=@"], "error: uniqueId: must not be empty"),
        (["user", "-a", "uniqueId=chef tony"], "error: uniqueId: must be a TikTok username"),
        (["user", "-a", "uniqueId=chef", "-a", "cursor=a/b"], "error: cursor: must be the cursor of a"),
        (
            ["user", "-a", "uniqueId=chef", "-a", "count=0"],
            "error: count: must be an integer from 1 to 10000",
        ),
        (["comments"], "error: video: is required"),
        (["comments", "-a", "video=12x"], "error: video: must be TikTok's numeric video id"),
        (["comments", "-a", "video=1", "-a", "cursor=-1"], "error: cursor: must be an integer"),
        (["replies", "-a", "video=1"], "error: comment: is required"),
        (
            ["replies", "-a", "video=1", "-a", "comment=0"],
            "error: comment: must be TikTok's numeric comment id",
        ),
        (["sound", "-a", "id=abc"], "error: id: must be TikTok's numeric sound id"),
        (["sound", "-a", "id=1", "-a", "count=5"], "error: count: unknown argument"),
        (["music", "-a", "id=1", "-a", "count=10001"], "error: count: must be an integer from 1 to 10000"),
        (["related", "-a", "video=1", "-a", "cursor=0"], "error: cursor: unknown argument"),
        (["user_search"], "error: q: is required"),
        (["user_search", "-a", "q=chef", "-a", "uniqueId=x"], "error: uniqueId: unknown argument"),
    ],
)
def test_bad_arguments_stop_with_one_line(arguments: list[str], message: str) -> None:
    done = scrapy("crawl", *arguments)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1  # the error line alone: no banner, no log
    assert done.stderr.startswith(message)


def test_a_bad_configuration_stops_with_one_line_and_exit_2() -> None:
    from_environment = scrapy("crawl", "trending", TIKTOK_SESSIONS="0")
    from_cmdline = scrapy("crawl", "trending", "-s", "TIKTOK_STRATEGY=fast")
    for done, message in (
        (from_environment, "TIKTOK_SESSIONS: 0 is outside 1..16"),
        (from_cmdline, "TIKTOK_STRATEGY: one of auto, api, page, not 'fast'"),
    ):
        assert done.returncode == 2
        assert "Traceback" not in done.stderr
        assert done.stderr == f"configuration error: {message}\n"


def test_list_and_check() -> None:
    listed = scrapy("list")
    assert listed.returncode == 0
    assert listed.stdout.split() == [
        "comments",
        "creator",
        "hashtag",
        "music",
        "related",
        "replies",
        "search",
        "sound",
        "trending",
        "user",
        "user_search",
        "video",
    ]
    checked = scrapy("check")
    assert checked.returncode == 0, checked.stderr[-2000:]


def final_line(done: subprocess.CompletedProcess[str]) -> str:
    """The crawl's last ERROR line, which must come just before the stats."""
    lines = [line for line in done.stderr.splitlines() if " ERROR: crawl failed: " in line]
    assert len(lines) == 1, done.stderr[-3000:]
    assert done.stderr.index(lines[0]) < done.stderr.index("Dumping Scrapy stats")
    return lines[0].split(" ERROR: ", 1)[1]


def test_upstream_down_exits_3_and_says_why(tmp_path: Path) -> None:
    out = tmp_path / "down.json"
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    done = scrapy("crawl", "trending", "-a", "count=5", "-O", str(out), base_url=down)
    assert done.returncode == 3, done.stderr[-3000:]
    line = final_line(done)
    assert line.startswith("crawl failed: upstream unavailable: could not open a TikTok session")
    assert line.endswith("(exit 3)")
    assert "[trending] ERROR: crawl failed" in done.stderr  # the spider's logger: scrapyd's job log has it
    assert "'tiktok/error': 'unavailable'" in done.stderr
    assert "'tiktok/exit_code': 3" in done.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == []


def test_items_then_an_upstream_failure_still_exit_3(emulator: EmulatorProcess, tmp_path: Path) -> None:
    # The first feed page comes (slowly, but whole); every later one is a 503.
    emulator.set_faults(
        {
            "slow_drip": {"next": 1, "duration_ms": 50, "routes": [RECOMMEND]},
            "http_5xx": {"rate": 1.0, "routes": [RECOMMEND]},
        }
    )
    out = tmp_path / "partial.json"
    done = scrapy(
        "crawl", "trending", "-a", "count=60", "-s", "TIKTOK_MAX_ATTEMPTS=2", "-s", "TIKTOK_STRATEGY=api",
        "-O", str(out), base_url=emulator.base_url,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr[-3000:]
    assert final_line(done) == "crawl failed: upstream unavailable: HTTP 503 from TikTok (exit 3)"
    videos = json.loads(out.read_text(encoding="utf-8"))
    assert 0 < len(videos) < 60  # what came before the failure is kept, and the status still says so


def test_unknown_hashtag_exits_4(emulator: EmulatorProcess, tmp_path: Path) -> None:
    out = tmp_path / "none.jsonl"
    done = scrapy(
        "crawl", "hashtag", "-a", "hashtag=nosuchhashtagxyz", "-O", str(out), base_url=emulator.base_url
    )
    assert done.returncode == 4, done.stderr[-3000:]
    assert final_line(done) == "crawl failed: upstream not_found: statusCode 10205 (exit 4)"
    assert out.read_text(encoding="utf-8") == ""


@pytest.mark.parametrize("which", ["unknown_item_id", "private_item_ids"])
def test_unknown_or_private_video_exits_4(emulator: EmulatorProcess, which: str) -> None:
    video_id = emulator.corpus()[which]
    video_id = video_id if isinstance(video_id, str) else video_id[0]
    done = scrapy("crawl", "video", "-a", f"id={video_id}", base_url=emulator.base_url)
    assert done.returncode == 4, done.stderr[-3000:]
    reason = "not_found" if which == "unknown_item_id" else "private"
    assert final_line(done).startswith(f"crawl failed: upstream {reason}: ")


def test_user_videos_export_to_json_lines(emulator: EmulatorProcess, tmp_path: Path) -> None:
    out = tmp_path / "posts.jsonl"
    done = scrapy(
        "crawl", "user", "-a", "uniqueId=@creator_9", "-a", "count=10", "-O", str(out),
        base_url=emulator.base_url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    videos = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(videos) == 10
    assert all(set(video) == VIDEO_KEYS for video in videos)
    assert [video["pinned"] for video in videos[:4]] == [True, True, True, False]
    assert "'tiktok/next_cursor': '0." in done.stderr  # a string: TikTok's cursor, and where in its page


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (["creator", "-a", "uniqueId=nosuchuser_xyz"], "not_found"),
        (["user", "-a", "uniqueId=nosuchuser_xyz"], "not_found"),
        (["user", "-a", "uniqueId=private.501"], "private"),
        (["comments", "-a", "video=7300001001542448712"], "not_found"),
        (["replies", "-a", "video=7300001000000000000", "-a", "comment=7600000000000000999"], "not_found"),
        (["sound", "-a", "id=7050000000000000001"], "not_found"),
        (["music", "-a", "id=7050000000000000001"], "not_found"),
        (["related", "-a", "video=7300001001542448712"], "not_found"),
    ],
)
def test_unknown_or_private_around_a_video_exits_4(
    emulator: EmulatorProcess, arguments: list[str], reason: str
) -> None:
    done = scrapy("crawl", *arguments, base_url=emulator.base_url)
    assert done.returncode == 4, done.stderr[-3000:]
    assert final_line(done).startswith(f"crawl failed: upstream {reason}: ")


def test_a_creator_soft_failure_every_time_exits_3(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"soft_failure": {"rate": 1.0, "routes": ["/api/user/detail/"]}})
    done = scrapy(
        "crawl", "creator", "-a", "uniqueId=creator_0", "-s", "TIKTOK_MAX_ATTEMPTS=2",
        base_url=emulator.base_url,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr[-3000:]
    assert final_line(done).startswith("crawl failed: upstream soft_failure: ")


def test_a_search_that_matches_nothing_exits_0(emulator: EmulatorProcess, tmp_path: Path) -> None:
    out = tmp_path / "nothing.json"
    done = scrapy(
        "crawl", "search", "-a", "q=qqzzxx nothing-here", "-O", str(out), base_url=emulator.base_url
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "crawl failed" not in done.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == []


def test_a_broken_chromium_exits_1(emulator: EmulatorProcess) -> None:
    done = scrapy(
        "crawl", "trending", "-a", "count=5", base_url=emulator.base_url, CHROMIUM_PATH="/bin/false"
    )
    assert done.returncode == 1, done.stderr[-3000:]
    assert final_line(done).startswith(
        "crawl failed: browser failed: the service's browser could not be launched"
    )


def test_help_lists_the_exit_statuses() -> None:
    done = scrapy("crawl", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "Exit status: 0 finished" in text
    assert "3 upstream failed" in text
    assert "4 not found" in text
