"""Batch use: ``scrapy crawl ... -O file`` writes the Video objects; bad arguments stop cleanly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support import ROOT

if TYPE_CHECKING:
    from tests.support import EmulatorProcess

VIDEO_KEYS = {"id", "description", "createTime", "webUrl", "author", "stats", "hashtags", "video", "music"}


def scrapy(
    *args: str, base_url: str = "http://127.0.0.1:9", timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    # Port 9 (discard) on loopback: a command that wrongly reached upstream would fail, not leave the machine.
    env = {**os.environ, "TIKTOK_BASE_URL": base_url, "TIKTOK_RETRY_BACKOFF": "0.02"}
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
    ],
)
def test_bad_arguments_stop_with_one_line(arguments: list[str], message: str) -> None:
    done = scrapy("crawl", *arguments)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1  # the error line alone: no banner, no log
    assert done.stderr.startswith(message)


def test_list_and_check() -> None:
    listed = scrapy("list")
    assert listed.returncode == 0
    assert listed.stdout.split() == ["hashtag", "search", "trending", "video"]
    checked = scrapy("check")
    assert checked.returncode == 0, checked.stderr[-2000:]
