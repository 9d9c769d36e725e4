"""The service's Chromium flags: no renderer for browser windows headless never shows, and none of
the features Playwright turns off turned back on by our own ``--disable-features``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from tiktok_spiders.client.browser import DISABLED_FEATURES

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    todo = [pid]
    for _ in range(10_000):  # bounded: a process tree of a test run is small
        if not todo:
            break
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            found.extend(int(child) for child in children)
            todo.extend(int(child) for child in children)
    return found


def browser_command_lines() -> list[list[str]]:
    """The command lines of the Chromium browser processes this test run started (not renderers)."""
    lines = []
    for pid in descendants(os.getpid()):
        try:
            arguments = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue  # it ended meanwhile
        if any(a.startswith("--remote-debugging-pipe") for a in arguments) and not any(
            a.startswith("--type=") for a in arguments
        ):
            lines.append(arguments)
    return lines


def test_no_browser_window_pages_are_kept_in_a_renderer(browser: Browser, page: Page) -> None:
    page.goto("data:text/html,<p>a page</p>")
    session = browser.new_browser_cdp_session()
    try:
        targets = session.send("Target.getTargets")["targetInfos"]
    finally:
        session.detach()
    kinds = sorted({target["type"] for target in targets})
    assert "browser_ui" not in kinds, [target["url"] for target in targets]


def test_our_disabled_features_keep_every_one_playwright_disables(browser: Browser) -> None:
    lines = browser_command_lines()
    assert lines, "no Chromium browser process found under this test run"
    for arguments in lines:
        lists = [
            a.removeprefix("--disable-features=") for a in arguments if a.startswith("--disable-features=")
        ]
        assert lists[-1] == ",".join(DISABLED_FEATURES)  # the one Chromium heeds: ours
        for earlier in lists[:-1]:  # Playwright's
            assert set(earlier.split(",")) <= set(DISABLED_FEATURES)
