"""The in-page fetch (``PAGE_FETCH``): what crosses from the page to Python is the answer TikTok sent."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tiktok_spiders.client.session import PAGE_FETCH
from tiktok_spiders.parsing.envelopes import load_json

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

BASE = "http://tiktok.test"
#: emoji (outside the BMP: a surrogate pair in the page), CJK, accents, RTL, quotes, escapes, controls
PAYLOAD: dict[str, Any] = {
    "statusCode": 0,
    "itemList": [
        {"id": "1", "desc": "美食 🍜🔥 #food", "author": {"nickname": 'Zoë "ze" Ünal'}},
        {"id": "2", "desc": "مرحبا \\ back\\slash \u2028 line sep", "music": {"title": "\u00a0nbsp\ttab"}},
        {"id": "3", "desc": "👩‍👩‍👧 family, 🇯🇵 flag, ﬁ ligature, \U0001f600"},
    ],
}
SIGNER_PAGE = "<script>window.byted_acrawler = {frontierSign: (url) => ({'X-Bogus': 'sig'})};</script>"


def serve(route: Route) -> None:
    if route.request.url.startswith(f"{BASE}/api/"):
        body = json.dumps(PAYLOAD, ensure_ascii=False).encode("utf-8")
        route.fulfill(status=200, body=body, content_type="application/json; charset=utf-8")
    else:
        route.fulfill(status=200, body=SIGNER_PAGE, content_type="text/html")


def fetch_in_page(page: Page) -> dict[str, Any]:
    page.route(f"{BASE}/**", serve)
    page.goto(f"{BASE}/")
    answer: dict[str, Any] = page.evaluate(PAGE_FETCH, [f"{BASE}/api/recommend/item_list/?count=3", 5000])
    return answer


def test_non_ascii_text_arrives_as_the_same_json(page: Page) -> None:
    answer = fetch_in_page(page)
    assert (answer["status"], answer["error"]) == (200, None)
    # Escaped in the page, so the string crosses the DevTools protocol as one-byte text...
    assert answer["body"].isascii()
    assert "\\ud83c\\udf5c" in answer["body"]  # 🍜 as its JSON surrogate pair
    # ...and decodes to exactly what TikTok sent.
    assert load_json(answer["body"]) == PAYLOAD
