"""The answer cut down in the page (``SLIM_ANSWER``) parses exactly as the answer TikTok sent: every
real capture and every kind of emulator answer, run through the same JavaScript in Chromium."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.captures import capture_json
from tiktok_spiders.client.slim import SLIM_ANSWER
from tiktok_spiders.parsing import (
    parse_comment_list,
    parse_feed,
    parse_item_detail,
    parse_music_detail,
    parse_search,
    parse_user_detail,
    parse_user_search,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from harness.emulator import EmulatorProcess
    from harness.script_session import ScriptSession

CAPTURES = (
    "recommend_item_list_2022-11.json",
    "recommend_item_list_2024-12_excerpt.jsonc",
    "post_item_list_2025-10.json",
    "post_item_list_popular_2025-10.json",
    "search_general_full_2026-02.json",
    "universal_data_video_detail_2025-04.json",
    "comment_list_2026-02.json",
    "user_detail_2025-10.json",
    "node_share_discover_2025-04_excerpt.json",
)


def parsed(payload: dict[str, Any]) -> object:
    """What the spiders make of an answer, whichever kind it is."""
    if "itemList" in payload:
        return parse_feed(payload)
    if "item_list" in payload or "data" in payload:
        return parse_search(payload)
    if "itemInfo" in payload:
        return parse_item_detail(payload)
    # the answers around a video hold no items to cut: parsed, and required to cross whole
    if "userInfo" in payload:
        return parse_user_detail(payload), payload
    if "comments" in payload:
        return parse_comment_list(payload), payload
    if "musicInfo" in payload:
        return parse_music_detail(payload), payload
    if "user_list" in payload:
        return parse_user_search(payload), payload
    return payload  # no items: the answer must cross whole


def slim(page: Page, text: str) -> str:
    result: str = page.evaluate(SLIM_ANSWER, text)
    return result


@pytest.mark.parametrize("name", CAPTURES)
def test_every_capture_parses_the_same_after_slimming(page: Page, name: str) -> None:
    payload = capture_json(name)
    text = json.dumps(payload, ensure_ascii=False)
    slimmed = slim(page, text)
    assert parsed(json.loads(slimmed)) == parsed(payload)
    assert len(slimmed) <= len(text)


def test_a_real_item_crosses_in_a_fraction_of_its_size(page: Page) -> None:
    text = json.dumps(capture_json("post_item_list_2025-10.json"), ensure_ascii=False)
    assert len(slim(page, text)) < len(text) / 2  # 30 KB of bitrates, subtitles and covers


def test_emulator_answers_parse_the_same_after_slimming(
    page: Page, emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    food = emulator.hashtag_id("food")
    corpus = emulator.corpus()
    item_id = corpus["playable_item_ids"][7]
    creator = next(c for c in corpus["creators"] if c["uniqueId"] == "creator_0")
    music_id = script_session.api("/api/item/detail/", {"itemId": item_id})["itemInfo"]["itemStruct"][
        "music"
    ]["id"]
    answers = [
        script_session.get("/api/user/detail/", {"uniqueId": "creator_0", "secUid": ""}),
        script_session.get(
            "/api/post/item_list/", {"secUid": creator["secUid"], "count": "30", "cursor": "0"}
        ),
        script_session.get("/api/comment/list/", {"aweme_id": item_id, "count": "20", "cursor": "0"}),
        script_session.get("/api/music/detail/", {"musicId": music_id}),
        script_session.get("/api/music/item_list/", {"musicID": music_id, "count": "30", "cursor": "0"}),
        script_session.get("/api/related/item_list/", {"itemID": item_id, "count": "16"}),
        script_session.get("/api/search/user/full/", {"keyword": "pasta", "cursor": "0"}),
        script_session.get("/api/recommend/item_list/", {"from_page": "fyp", "count": "35"}),
        script_session.get("/api/challenge/item_list/", {"challengeID": food, "count": "35", "cursor": "0"}),
        script_session.get("/api/search/item/full/", {"keyword": "pasta", "offset": "0", "count": "20"}),
        script_session.get("/api/search/general/full/", {"keyword": "pasta", "offset": "0", "count": "20"}),
        script_session.get("/api/item/detail/", {"itemId": corpus["playable_item_ids"][7]}),
    ]
    for answer in answers:
        text = answer.body.decode()
        payload = json.loads(text)
        assert parsed(json.loads(slim(page, text))) == parsed(payload)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "<html>captcha</html>",
        '{"statusCode": 0, "itemList": [{"id": "1", "vid',  # cut off
        '{"statusCode": 0, "itemList": [{"id": 7497448105643329031, "desc": "a number JS would round"}]}',
        "[1, 2]",
    ],
)
def test_what_is_not_a_plain_json_answer_crosses_as_it_came(page: Page, text: str) -> None:
    assert slim(page, text) == text


def test_python_truth_decides_the_flags(page: Page) -> None:
    """An empty ``imagePost`` object is no photo post to the parser; JavaScript calls ``{}`` true."""
    text = json.dumps(
        {"itemList": [{"id": "1", "imagePost": {}, "liveRoomInfo": {"x": 1}, "claInfo": "big"}]}
    )
    assert json.loads(slim(page, text))["itemList"] == [{"id": "1", "imagePost": False, "liveRoomInfo": True}]
