"""The emulator in Chromium: in-page signing, the defences, the feed pages and video playback."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from harness.http import http_request
from tests.in_page import COMMON_PARAMS, signed_fetch

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request

    from harness.emulator import EmulatorProcess


def test_done_when_signed_in_page_fetch_gets_30_items_and_bare_fetch_gets_nothing(
    emulator: EmulatorProcess, page: Page
) -> None:
    page.goto(emulator.base_url + "/")
    assert page.evaluate("typeof window.byted_acrawler.frontierSign") == "function"
    cookies = {c["name"] for c in page.context.cookies()}
    assert {"ttwid", "tt_chain_token", "msToken"} <= cookies

    detail = signed_fetch(page, "/api/challenge/detail/", {"challengeName": "food"})
    challenge_id = json.loads(detail["body"])["challengeInfo"]["challenge"]["id"]
    result = signed_fetch(
        page,
        "/api/challenge/item_list/",
        {"challengeID": challenge_id, "count": "30", "cursor": "0"},
    )
    assert result["status"] == 200
    data = json.loads(result["body"])
    assert data["statusCode"] == 0
    assert len(data["itemList"]) == 30
    assert data["hasMore"] is True
    assert data["cursor"] == 30

    # The very same signed URL, without the page (no cookies): 200 and an empty body.
    bare = http_request(result["url"])
    assert bare.status == 200
    assert bare.body == b""


def test_tampered_parameter_is_refused(emulator: EmulatorProcess, emulator_page: Page) -> None:
    challenge_id = emulator.hashtag_id("food")
    result = signed_fetch(
        emulator_page,
        "/api/challenge/item_list/",
        {"challengeID": challenge_id, "count": "30", "cursor": "0"},
    )
    assert json.loads(result["body"])["itemList"]
    tampered = result["url"].replace("cursor=0", "cursor=30")
    answer = emulator_page.evaluate(
        "async (url) => { const r = await fetch(url, {credentials: 'include'});"
        " return {status: r.status, body: await r.text()}; }",
        tampered,
    )
    assert answer == {"status": 200, "body": ""}
    assert emulator.stats()["api_refused"] == {"bad_x_bogus": 1}


def test_expired_session_is_refused(emulator: EmulatorProcess, emulator_page: Page) -> None:
    params = {"from_page": "fyp", "count": "5"}
    assert json.loads(signed_fetch(emulator_page, "/api/recommend/item_list/", params)["body"])
    assert emulator.expire_sessions() >= 1
    result = signed_fetch(emulator_page, "/api/recommend/item_list/", params)
    assert (result["status"], result["body"]) == (200, "")
    assert emulator.stats()["api_refused"] == {"expired_session": 1}
    # A new visit opens a new session, with a new secret, and calls work again.
    emulator_page.goto(emulator.base_url + "/")
    assert json.loads(signed_fetch(emulator_page, "/api/recommend/item_list/", params)["body"])


def test_js_and_python_signatures_agree(emulator_page: Page) -> None:
    from emulator import signing
    from harness.script_session import script_value

    secret = script_value(emulator_page.content(), "SECRET")
    urls = [
        "http://127.0.0.1:1/api/x/?b=2&a=1&c=caf%C3%A9&d=%E7%BE%8E%E9%A3%9F+%F0%9F%8D%9C",
        "http://127.0.0.1:1/api/x/?a=1&b=2&c=café&d=美食 🍜&X-Bogus=ignored",
        "http://127.0.0.1:1/tag/caf%C3%A9?q=a+b&q=c%20d&e=&%D8%B7%D8%A8%D8%AE=1",
    ]
    for url in urls:
        js = emulator_page.evaluate("(url) => window.byted_acrawler.frontierSign(url)", url)
        assert js == {"X-Bogus": signing.sign(secret, url)}
    assert signing.canonical(urls[0]) == signing.canonical(urls[1])


def test_mp4_plays_in_video_tag(emulator: EmulatorProcess, page: Page) -> None:
    item_id = emulator.corpus()["playable_item_ids"][0]
    page.goto(f"{emulator.base_url}/@someone/video/{item_id}")
    page.wait_for_function(
        "() => { const v = document.querySelector('video'); return v && v.readyState >= 2; }"
    )
    ready, duration, width, error = page.evaluate(
        "() => { const v = document.querySelector('video');"
        " return [v.readyState, v.duration, v.videoWidth, v.error]; }"
    )
    assert ready >= 2
    assert duration > 0
    assert width > 0
    assert error is None
    stats = emulator.stats()
    assert stats["requests"]["cdn"] >= 1
    assert stats["cdn_refused"] == {}


def test_foryou_page_renders_feed_and_loads_more_on_scroll(emulator: EmulatorProcess, page: Page) -> None:
    page.goto(emulator.base_url + "/foryou")
    items = page.locator('[data-e2e="recommend-list-item"]')
    page.wait_for_function("() => document.body.dataset.feedPages === '1'")
    assert items.count() == 30
    page.mouse.wheel(0, 100_000)
    page.wait_for_function("() => document.body.dataset.feedPages === '2'")
    assert items.count() == 60
    assert emulator.stats()["requests"]["/api/recommend/item_list/"] == 2


def test_tag_page_pages_through_cursor_until_has_more_is_false(emulator: EmulatorProcess, page: Page) -> None:
    page.goto(emulator.base_url + "/tag/café")
    page.wait_for_function("() => document.body.dataset.feedPages === '1'")
    assert page.locator('[data-e2e="challenge-item"]').count() == 30
    page.mouse.wheel(0, 100_000)
    page.wait_for_function("() => document.body.dataset.feedState === 'end'")
    total = len([t for t in emulator.corpus()["hashtags"] if t["title"] == "café"][0:1])
    assert total == 1
    assert page.locator('[data-e2e="challenge-item"]').count() > 30
    requests = emulator.stats()["requests"]
    assert requests["/api/challenge/detail/"] == 1
    assert requests["/api/challenge/item_list/"] == 2


def test_block_api_mode_pages_still_load_but_frontier_sign_alone_fails(
    emulator: EmulatorProcess, page: Page
) -> None:
    emulator.set_faults({"block_api": True})
    page.goto(emulator.base_url + "/foryou")
    page.wait_for_function("() => document.body.dataset.feedPages === '1'")
    assert page.locator('[data-e2e="recommend-list-item"]').count() == 30
    assert page.evaluate("typeof window.X_GNARLY === 'undefined'")
    result = signed_fetch(page, "/api/recommend/item_list/", {"from_page": "fyp", "count": "30"})
    assert (result["status"], result["body"]) == (200, "")
    assert emulator.stats()["api_refused"] == {"bad_x_gnarly": 1}


def test_common_params_reach_the_api_from_the_page(emulator: EmulatorProcess, page: Page) -> None:
    page.goto(emulator.base_url + "/")
    result = signed_fetch(page, "/api/recommend/item_list/", {"from_page": "fyp", "count": "3"})
    for key, value in COMMON_PARAMS.items():
        assert f"{key}=" in result["url"], (key, value)
    assert len(json.loads(result["body"])["itemList"]) == 3


NOTICE = "/api/policy/notice/"

#: TikTokApi 7.3's in-page call: ``fetch(url, {method: "GET", headers})`` with the headers it copied.
TIKTOKAPI_FETCH_JS = """async ([url, headers]) => {
  const signed = url + "&X-Bogus=" +
    encodeURIComponent(window.byted_acrawler.frontierSign(url)["X-Bogus"]);
  const response = await fetch(signed, {method: "GET", headers: headers});
  return response.text();
}"""


def test_pages_keep_calling_the_api_after_load_as_tiktokapi_expects(
    emulator: EmulatorProcess, page: Page
) -> None:
    """TikTokApi's session start: ``goto``, then listen for the first request, then wait for network
    idle; it keeps that request's headers for every later call."""
    for path, from_page in (("/", "fyp"), ("/foryou", "fyp"), ("/tag/cats", "hashtag")):
        emulator.reset_stats()
        page.goto(emulator.base_url + path)
        seen = record_first_request(page)
        page.wait_for_load_state("networkidle")
        assert seen, path
        url, headers = seen[0]
        # The notice call, or on a tag page maybe its feed's second call: either way an API call of
        # the page's own request layer (X-Gnarly), made after load.
        assert "/api/" in url and "X-Bogus=" in url and "X-Gnarly=" in url and "msToken=" in url, url
        assert headers["user-agent"].startswith("Mozilla/")
        page.wait_for_function("document.body.dataset.afterLoad !== undefined")
        assert page.evaluate("document.body.dataset.afterLoad") == "done"
        notice = page.evaluate(
            "(path) => performance.getEntriesByType('resource').map((e) => e.name)"
            ".filter((name) => name.includes(path))",
            NOTICE,
        )
        assert len(notice) == 1 and f"from_page={from_page}" in notice[0]
        stats = emulator.stats()
        assert stats["requests"][NOTICE] == 1
        assert stats["api_ok"][NOTICE] == 1
        assert stats["api_refused"] == {}
    body = page.evaluate(TIKTOKAPI_FETCH_JS, [signed_fetch_url(page), headers])
    assert len(json.loads(body)["itemList"]) == 3


def record_first_request(page: Page) -> list[tuple[str, dict[str, str]]]:
    """As TikTokApi does: ``page.once("request")``; the list gets the URL and headers it saw."""
    seen: list[tuple[str, dict[str, str]]] = []

    def on_request(request: Request) -> None:
        seen.append((request.url, request.headers))

    page.once("request", on_request)
    return seen


def signed_fetch_url(page: Page) -> str:
    """A recommend URL for ``page``'s session, unsigned, as TikTokApi builds it before signing."""
    session = page.evaluate(
        "() => ({origin: location.origin, msToken: document.cookie.split('; ')"
        ".find((c) => c.startsWith('msToken=')).slice(8)})"
    )
    return f"{session['origin']}/api/recommend/item_list/?aid=1988&count=3&msToken={session['msToken']}"


def test_video_page_makes_no_api_call_of_its_own(emulator: EmulatorProcess, page: Page) -> None:
    item_id = emulator.corpus()["playable_item_ids"][0]
    page.goto(f"{emulator.base_url}/@user.001/video/{item_id}")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.body.dataset.afterLoad") is None
    assert emulator.stats()["requests"][NOTICE] == 0


def test_faults_reach_the_after_load_call_only_when_they_name_it(
    emulator: EmulatorProcess, page: Page
) -> None:
    emulator.set_faults({"empty_body": {"next": 1}})
    page.goto(emulator.base_url + "/")
    page.wait_for_function("document.body.dataset.afterLoad !== undefined")
    assert page.evaluate("document.body.dataset.afterLoad") == "done"
    result = signed_fetch(page, "/api/recommend/item_list/", {"from_page": "fyp", "count": "3"})
    assert result["body"] == ""  # the client's call got the fault, not the page's
    emulator.set_faults({"empty_body": {"next": 1, "routes": [NOTICE]}})
    page.goto(emulator.base_url + "/")
    page.wait_for_function("document.body.dataset.afterLoad !== undefined")
    assert page.evaluate("document.body.dataset.afterLoad") == "error"
    assert emulator.stats()["faults_injected"] == {"empty_body": 2}


def test_cookies_of_a_plain_fetch_keep_the_page_working(
    emulator: EmulatorProcess, emulator_page: Page
) -> None:
    """TikTokApi's ``video(url=...).info()``: ``requests`` fetches the video page (a new session) and
    its cookies replace the browser's; the page keeps its msToken and ``frontierSign``."""
    item_id = emulator.corpus()["playable_item_ids"][0]
    answer = http_request(f"{emulator.base_url}/@user.001/video/{item_id}")
    host = emulator.base_url.split("//", 1)[1].split(":")[0]
    emulator_page.context.add_cookies(
        [
            {"name": name, "value": value, "domain": host, "path": "/"}
            for name, value in answer.cookies.items()
        ]
    )
    cookies = {c["name"]: c["value"] for c in emulator_page.context.cookies()}
    assert cookies["ttwid"] == answer.cookies["ttwid"]
    result = signed_fetch(emulator_page, "/api/recommend/item_list/", {"from_page": "fyp", "count": "3"})
    assert len(json.loads(result["body"])["itemList"]) == 3
    assert emulator.stats()["api_refused"] == {}
