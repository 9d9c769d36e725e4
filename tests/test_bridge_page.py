"""The page at / in a real headless Chromium: it shows the feed and its videos play."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Browser

    from harness.service import ServiceProcess

PLAYING = """() => {
  const video = document.querySelector("article.tile video");
  if (!video) return false;
  video.play();
  return video.readyState >= 2 && video.duration > 0 ? {readyState: video.readyState, duration: video.duration} : false;
}"""


def test_page_shows_a_hashtag_feed_whose_videos_play(
    service: ServiceProcess, browser: Browser, tmp_path: Path
) -> None:
    # The page's Content-Security-Policy forbids eval, which Playwright's waiting helpers use.
    context = browser.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True)
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.goto(service.base_url + "/")
        page.wait_for_selector("article.tile video")
        page.fill("#hashtag", "#cats")
        page.click("#search button")
        page.wait_for_function(
            "() => document.querySelector('#status').textContent.includes('videos · #cats')"
        )
        tiles = page.locator("article.tile")
        assert tiles.count() == 12
        state = page.wait_for_function(PLAYING).json_value()
        assert state["readyState"] >= 2
        assert state["duration"] > 0
        page.screenshot(path=str(tmp_path / "page.png"))
        assert (tmp_path / "page.png").stat().st_size > 0
    finally:
        context.close()


def test_page_shows_a_problem_for_an_unknown_hashtag(service: ServiceProcess, browser: Browser) -> None:
    context = browser.new_context(bypass_csp=True)
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.goto(service.base_url + "/")
        page.fill("#hashtag", "nosuchhashtagxyz")
        page.click("#search button")
        page.wait_for_selector(".problem")
        assert "no such hashtag" in page.text_content(".problem")  # type: ignore[operator]
    finally:
        context.close()
