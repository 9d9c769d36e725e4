"""The page at / in a real headless Chromium: feeds whose videos play, "load more" following Link, the
creator and sound views a tap opens, the comments panel with replies, creator search, problems shown."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Browser, Page

    from harness.service import ServiceProcess

#: 25 videos: the page's 12 a page make two pages, then no Link
SHORT_HASHTAG = "tinyhouse"
PRIVATE_CREATOR = "private.500"

PLAYING = """() => {
  const video = document.querySelector("article.tile video");
  if (!video) return false;
  video.play();
  return video.readyState >= 2 && video.duration > 0 ? {readyState: video.readyState, duration: video.duration} : false;
}"""
TILE_IDS = "() => [...document.querySelectorAll('#grid article.tile')].map((tile) => tile.dataset.id)"
AUTHORS = (
    "() => [...document.querySelectorAll('#grid article.tile .byline .author')].map((b) => b.textContent)"
)
SOUNDS = "() => [...document.querySelectorAll('#grid article.tile .sound')].map((b) => b.textContent)"


@contextmanager
def opened(browser: Browser, service: ServiceProcess, fragment: str = "") -> Iterator[Page]:
    """A fresh page on ``/`` (``fragment`` its view, as in ``#user/name``), the first view shown."""
    # The page's Content-Security-Policy forbids eval, which Playwright's waiting helpers use.
    context = browser.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True)
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.goto(service.base_url + "/" + fragment)
        page.wait_for_function("() => !document.querySelector('#status').textContent.startsWith('loading')")
        yield page
    finally:
        context.close()


def wait_for_status(page: Page, shown: str) -> None:
    page.wait_for_function(
        "(shown) => document.querySelector('#status').textContent.includes(shown)", arg=shown
    )


def search(page: Page, mode: str, query: str, shown: str) -> None:
    """Search in ``mode`` (tag, search, creators) and wait until the status says ``shown``."""
    page.select_option("#mode", mode)
    page.fill("#query", query)
    page.click("#search button")
    wait_for_status(page, shown)


def text(page: Page, selector: str) -> str:
    found = page.text_content(selector)
    assert found is not None, selector
    return found


def tile_ids(page: Page) -> list[str]:
    ids: list[str] = page.evaluate(TILE_IDS)
    return ids


def test_page_shows_a_hashtag_feed_whose_videos_play(
    service: ServiceProcess, browser: Browser, tmp_path: Path
) -> None:
    with opened(browser, service) as page:
        page.wait_for_selector("article.tile video")
        search(page, "tag", "#cats", "videos · #cats")
        assert page.locator("article.tile").count() == 12
        assert page.evaluate("location.hash") == "#tag/cats"
        state = page.wait_for_function(PLAYING).json_value()
        assert state["readyState"] >= 2
        assert state["duration"] > 0
        page.screenshot(path=str(tmp_path / "page.png"))
        assert (tmp_path / "page.png").stat().st_size > 0


def test_page_shows_a_problem_for_an_unknown_hashtag(service: ServiceProcess, browser: Browser) -> None:
    with opened(browser, service) as page:
        search(page, "tag", "nosuchhashtagxyz", "no such hashtag")
        assert "no such hashtag" in text(page, ".problem")
        assert page.is_hidden("#more")


def test_page_writes_no_markup_from_data(service: ServiceProcess) -> None:
    home = service.get("/")
    assert "connect-src 'self'" in home.headers["content-security-policy"]
    source = home.body.decode()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in source
    assert "http" not in source.replace("https?:", "")  # no external assets


def test_load_more_follows_link_until_the_feed_ends(service: ServiceProcess, browser: Browser) -> None:
    with opened(browser, service) as page:
        search(page, "tag", SHORT_HASHTAG, "12 videos · #" + SHORT_HASHTAG)
        first = tile_ids(page)
        assert len(first) == 12
        assert page.is_visible("#more")
        page.click("#more")
        page.wait_for_function("() => document.querySelectorAll('#grid article.tile').length > 12")
        page.wait_for_selector("#more", state="hidden")
        everything = tile_ids(page)
        assert everything[:12] == first  # appended, not replaced
        added = everything[12:]
        assert 0 < len(added) <= 13
        assert not set(added) & set(first)  # the next page, not the first one again
        assert text(page, "#status").startswith(f"{len(everything)} videos")


def test_tapping_the_author_shows_the_creator_profile_and_videos(
    service: ServiceProcess, browser: Browser
) -> None:
    with opened(browser, service, f"#tag/{SHORT_HASHTAG}") as page:
        author = page.locator("#grid article.tile .byline .author").first
        handle = author.text_content()
        assert handle is not None
        assert handle.startswith("@")
        author.click()
        page.wait_for_selector("#heading.creator .unique-id")
        assert text(page, "#heading .unique-id").startswith(handle)
        assert "followers" in text(page, "#heading .stats")
        wait_for_status(page, "videos · " + handle)
        authors = page.evaluate(AUTHORS)
        assert authors
        assert set(authors) == {handle}
        assert page.evaluate("location.hash") == "#user/" + handle.removeprefix("@")
        # The creator's feed pages on like any other.
        assert page.is_visible("#more")
        page.click("#more")
        page.wait_for_function("() => document.querySelectorAll('#grid article.tile').length > 12")
        assert set(page.evaluate(AUTHORS)) == {handle}
        # Back returns to the hashtag.
        page.go_back()
        wait_for_status(page, "videos · #" + SHORT_HASHTAG)
        assert page.is_hidden("#heading")


def test_a_private_creator_shows_the_profile_and_the_problem(
    service: ServiceProcess, browser: Browser
) -> None:
    problem = service.get(f"/users/{PRIVATE_CREATOR}/videos?count=12").json()
    assert problem["code"] == "private"
    with opened(browser, service, f"#user/{PRIVATE_CREATOR}") as page:
        page.wait_for_selector("#heading.creator .private")
        assert problem["detail"] in text(page, ".problem")
        assert problem["detail"] in text(page, "#status")
        assert page.locator("#grid article.tile").count() == 0


def test_tapping_the_sound_shows_its_videos(service: ServiceProcess, browser: Browser) -> None:
    with opened(browser, service, f"#tag/{SHORT_HASHTAG}") as page:
        sound = page.locator("#grid article.tile .sound").first
        name = sound.text_content()
        assert name is not None
        sound.click()
        page.wait_for_selector("#heading.sound .stats")
        assert name.startswith(text(page, "#heading .title"))
        assert "videos" in text(page, "#heading .stats")
        wait_for_status(page, "videos · sound")
        sounds = page.evaluate(SOUNDS)
        assert sounds
        assert set(sounds) == {name}
        assert page.evaluate("location.hash").startswith("#music/")


def _video_with_replies_and_an_image(
    service: ServiceProcess, videos: list[dict[str, Any]]
) -> tuple[str, list[dict[str, Any]], str]:
    """A video whose first page of comments has an image-only comment and one with replies: its id,
    that page, and the id of the comment with replies."""
    for video in videos:
        comments = service.get(f"/videos/{video['id']}/comments?count=20&cursor=0").json()
        replied = [c["id"] for c in comments if c["replyCount"]]
        if replied and any(c["images"] and not c["text"] for c in comments):
            return video["id"], comments, replied[0]
    raise AssertionError("no video of the feed has an image-only comment and replies on its first page")


def test_comments_panel_lists_comments_and_opens_replies_under_one(
    service: ServiceProcess, browser: Browser
) -> None:
    feed = service.get(f"/category?hashtag={SHORT_HASHTAG}&count=12").json()
    video, comments, replied = _video_with_replies_and_an_image(service, feed)
    with opened(browser, service, f"#tag/{SHORT_HASHTAG}") as page:
        page.click(f"#grid article.tile[data-id='{video}'] button.comments")
        page.wait_for_selector("#comments[data-state='done']")
        assert page.is_visible("#comments")
        listed = page.eval_on_selector_all(
            "#comment-list > li.comment", "(items) => items.map((item) => item.dataset.id)"
        )
        assert listed == [c["id"] for c in comments]
        assert text(page, "#comments-status") == f"{len(comments)} comments"
        first_text = next(c["text"] for c in comments if c["text"])
        assert page.locator("#comment-list > li.comment .text", has_text=first_text).count() >= 1
        # An image-only comment shows its image.
        assert page.locator("#comment-list > li.comment .images img").count() >= 1
        # Replies open under their comment.
        thread = page.locator(f"#comment-list > li.comment[data-id='{replied}']")
        thread.locator("button.replies").click()
        thread.locator("ol.replies > li.reply").first.wait_for()
        assert thread.locator("ol.replies > li.reply .text").first.text_content()
        assert page.locator("li.reply").count() == thread.locator("li.reply").count()
        page.click("#comments-close")
        assert page.is_hidden("#comments")


def test_related_shows_videos_beside_a_video(service: ServiceProcess, browser: Browser) -> None:
    with opened(browser, service, f"#tag/{SHORT_HASHTAG}") as page:
        first = tile_ids(page)[0]
        page.click("#grid article.tile button.related")
        wait_for_status(page, "videos · related to " + first)
        related = tile_ids(page)
        assert related
        assert first not in related
        assert page.is_hidden("#more")


def test_creator_search_lists_creators_that_open(service: ServiceProcess, browser: Browser) -> None:
    with opened(browser, service) as page:
        search(page, "creators", SHORT_HASHTAG, "creators · creators")
        cards = page.locator("#grid article.creator-card")
        assert cards.count() >= 1
        assert page.locator("#grid article.tile").count() == 0
        handle = cards.first.locator(".author").text_content()
        assert handle is not None
        assert handle.startswith("@")
        cards.first.locator(".author").click()
        page.wait_for_selector("#heading.creator .unique-id")
        assert text(page, "#heading .unique-id").startswith(handle)
