"""Each route of the emulator, over plain HTTP with a browserless session (``ScriptSession``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from harness.http import http_request
from harness.script_session import ScriptSession, universal_data
from tests.items import is_playable

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess

RECOMMEND = "/api/recommend/item_list/"
DETAIL = "/api/challenge/detail/"
ITEMS = "/api/challenge/item_list/"
ITEM = "/api/item/detail/"


def test_home_page_opens_a_session(emulator: EmulatorProcess) -> None:
    answer = http_request(emulator.base_url + "/")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert {"ttwid", "tt_chain_token"} <= answer.cookies.keys()
    text = answer.body.decode()
    assert "window.byted_acrawler" in text
    assert "frontierSign" in text
    assert 'document.cookie = "msToken="' in text
    wid = universal_data(text)["__DEFAULT_SCOPE__"]["webapp.app-context"]["wid"]
    assert wid.isdigit()
    assert len(wid) == 19
    stats = emulator.stats()
    assert stats["requests"]["/"] == 1
    assert stats["sessions_opened"] == 1
    # Fetched without a browser, the home page makes no API calls (its after-load call is script).
    assert sum(v for k, v in stats["requests"].items() if k.startswith("/api/")) == 0


def test_revisit_keeps_the_session(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    again = http_request(emulator.base_url + "/", headers={"Cookie": script_session.cookie_header()})
    assert "ttwid" not in again.cookies
    assert f'"{script_session.secret}"' in again.body.decode()
    assert emulator.stats()["sessions_opened"] == 1


@pytest.mark.parametrize("path", ["/foryou", "/tag/food", "/tag/%E7%BE%8E%E9%A3%9F"])
def test_feed_pages_carry_universal_data(emulator: EmulatorProcess, path: str) -> None:
    answer = http_request(emulator.base_url + path)
    assert answer.status == 200
    scope = universal_data(answer.body.decode())["__DEFAULT_SCOPE__"]
    assert scope["webapp.app-context"]["wid"]
    assert 'id="feed"' in answer.body.decode()


def test_video_page_carries_item_struct(emulator: EmulatorProcess) -> None:
    item_id = emulator.corpus()["playable_item_ids"][0]
    answer = http_request(f"{emulator.base_url}/@user.001/video/{item_id}")
    assert answer.status == 200
    detail = universal_data(answer.body.decode())["__DEFAULT_SCOPE__"]["webapp.video-detail"]
    assert detail["statusCode"] == 0
    assert detail["itemInfo"]["itemStruct"]["id"] == item_id
    assert "<video" in answer.body.decode()
    unknown = http_request(f"{emulator.base_url}/@x/video/{emulator.corpus()['unknown_item_id']}")
    assert unknown.status == 404


def test_unknown_path_is_404(emulator: EmulatorProcess) -> None:
    assert http_request(emulator.base_url + "/nope").status == 404
    assert emulator.stats()["requests"]["not_found"] == 1


def test_recommend_gives_fresh_mostly_playable_pages(script_session: ScriptSession) -> None:
    pages = [script_session.api(RECOMMEND, {"from_page": "fyp", "count": "30"}) for _ in range(5)]
    seen: set[str] = set()
    repeats = 0
    for page in pages:
        assert page["statusCode"] == 0
        assert page["hasMore"] is True
        assert "cursor" not in page
        ids = [item["id"] for item in page["itemList"]]
        assert len(ids) == 30
        assert len(set(ids)) == 30  # distinct within a page
        assert sum(is_playable(item) for item in page["itemList"]) >= 27
        repeats += len(seen & set(ids))
        seen |= set(ids)
    assert repeats >= 4  # duplicates across calls, as on TikTok
    assert any(item.get("isAd") for page in pages for item in page["itemList"])
    assert any("imagePost" in item for page in pages for item in page["itemList"])


def test_recommend_count_is_capped(script_session: ScriptSession) -> None:
    assert len(script_session.api(RECOMMEND, {"count": "500"})["itemList"]) == 35
    assert script_session.api(RECOMMEND, {"count": "x"})["statusCode"] == 10201


@pytest.mark.parametrize("name", ["food", "FOOD", "#food", "美食", "café", "CAFÉ", "cafe\u0301"])
def test_challenge_detail_matches_case_insensitively(script_session: ScriptSession, name: str) -> None:
    data = script_session.api(DETAIL, {"challengeName": name})
    assert data["statusCode"] == 0
    challenge = data["challengeInfo"]["challenge"]
    assert {"id", "title", "desc"} <= challenge.keys()
    assert challenge["title"] in {"food", "美食", "café"}
    assert data["challengeInfo"]["stats"]["videoCount"] > 0


def test_challenge_detail_unknown_is_10205(script_session: ScriptSession) -> None:
    data = script_session.api(DETAIL, {"challengeName": "nosuchtag_zz"})
    assert data["statusCode"] == 10205
    assert "challengeInfo" not in data


def test_challenge_items_page_with_numeric_cursor(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    food = emulator.hashtag_id("food")
    first = script_session.api(ITEMS, {"challengeID": food, "count": "30", "cursor": "0"})
    second = script_session.api(ITEMS, {"challengeID": food, "count": "30", "cursor": "30"})
    assert (first["cursor"], first["hasMore"]) == (30, True)
    assert second["cursor"] == 60
    assert len(first["itemList"]) == len(second["itemList"]) == 30
    for item in first["itemList"] + second["itemList"]:
        assert "food" in _hashtags(item)
    assert script_session.api(ITEMS, {"challengeID": food, "cursor": "-1"})["statusCode"] == 10201


def test_small_hashtag_runs_out(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    origami = emulator.hashtag_id("origami")
    page = script_session.api(ITEMS, {"challengeID": origami, "count": "30", "cursor": "0"})
    assert page["hasMore"] is False
    assert 0 < len(page["itemList"]) < 30
    past = script_session.api(ITEMS, {"challengeID": origami, "count": "30", "cursor": "30"})
    assert past["hasMore"] is False
    assert "itemList" not in past


def test_big_hashtag_has_duplicates_across_pages(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    food = emulator.hashtag_id("food")
    ids: list[str] = []
    for cursor in range(0, 35 * 6, 35):
        page = script_session.api(ITEMS, {"challengeID": food, "count": "35", "cursor": str(cursor)})
        ids += [item["id"] for item in page["itemList"]]
    assert len(ids) > len(set(ids))


def test_item_detail(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    corpus = emulator.corpus()
    item_id = corpus["playable_item_ids"][3]
    data = script_session.api(ITEM, {"itemId": item_id})
    assert data["statusCode"] == 0
    assert data["itemInfo"]["itemStruct"]["id"] == item_id
    assert script_session.api(ITEM, {"itemId": corpus["unknown_item_id"]})["statusCode"] == 10202
    assert script_session.api(ITEM, {"itemId": corpus["private_item_ids"][0]})["statusCode"] == 10216


def test_play_addresses_point_at_the_emulator(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    page = script_session.api(RECOMMEND, {"count": "30"})
    for item in page["itemList"]:
        video = item.get("video") or {}
        if video.get("playAddr"):
            assert video["playAddr"].startswith(emulator.base_url + "/video/tos/")
            assert "expire=" in video["playAddr"]
            assert "tk=tt_chain_token" in video["playAddr"]


def test_stats_count_routes_and_reset(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    script_session.api(RECOMMEND, {"count": "1"})
    script_session.api(DETAIL, {"challengeName": "cats"})
    stats = emulator.stats()
    assert stats["requests"][RECOMMEND] == 1
    assert stats["requests"][DETAIL] == 1
    assert stats["api_ok"] == {RECOMMEND: 1, DETAIL: 1}
    emulator.reset_stats()
    after = emulator.stats()
    assert set(after["requests"].values()) == {0}
    assert after["sessions_opened"] == 0


def _hashtags(item: dict[str, Any]) -> set[str]:
    names = {c["title"] for c in item.get("challenges", [])}
    names |= {t["hashtagName"] for t in item.get("textExtra", [])}
    for content in item.get("contents", []):
        names |= {t["hashtagName"] for t in content.get("textExtra", [])}
    return names
