"""The emulator's search routes: snake_case envelopes, ranking, offsets, mixed types, defences, faults."""

from __future__ import annotations

import json
import unicodedata
from typing import TYPE_CHECKING, Any

import pytest

from emulator.corpus import Corpus
from harness.http import http_request

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess
    from harness.script_session import ScriptSession

ITEMS = "/api/search/item/full/"
GENERAL = "/api/search/general/full/"


def _text(item: dict[str, Any]) -> str:
    author = item["author"]
    text = f"{item['desc']} {author.get('nickname', '')} {author['uniqueId']}"
    return unicodedata.normalize("NFC", text).casefold()


def test_item_search_is_snake_case_and_matches_the_query(script_session: ScriptSession) -> None:
    page = script_session.api(ITEMS, {"keyword": "pasta", "offset": "0", "count": "20"})
    assert (page["status_code"], page["status_msg"]) == (0, "")
    assert "statusCode" not in page
    assert (page["cursor"], page["has_more"]) == (20, 1)
    assert len(page["item_list"]) == 20
    assert all("pasta" in _text(item) for item in page["item_list"])
    assert {"extra", "log_pb"} <= set(page)


def test_item_search_pages_by_offset_to_the_end(script_session: ScriptSession) -> None:
    total = len(Corpus(1).search("croissant"))
    assert 10 < total < 30
    seen: list[str] = []
    offset = 0
    for _ in range(10):  # bounded
        page = script_session.api(ITEMS, {"keyword": "croissant", "offset": str(offset), "count": "8"})
        seen += [item["id"] for item in page.get("item_list", [])]
        assert page["cursor"] == len(seen)
        offset = page["cursor"]
        if not page["has_more"]:
            break
    assert page["has_more"] == 0
    assert len(seen) == len(set(seen)) == total
    past = script_session.api(ITEMS, {"keyword": "croissant", "offset": str(total + 5)})
    assert (past["has_more"], past["status_code"]) == (0, 0)
    assert "item_list" not in past


def test_results_are_ranked_by_how_much_of_the_query_they_match(script_session: ScriptSession) -> None:
    words = ("pasta", "carbonara")
    page = script_session.api(ITEMS, {"keyword": "Pasta  CARBONARA", "count": "35"})
    scores = [sum(word in _text(item) for word in words) for item in page["item_list"]]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == 2
    assert all(score >= 1 for score in scores)


@pytest.mark.parametrize("keyword", ["拉面", "КОТ гитара", "kitten", "Café"])
def test_any_language(script_session: ScriptSession, keyword: str) -> None:
    page = script_session.api(ITEMS, {"keyword": keyword, "count": "10"})
    assert page["item_list"]
    words = unicodedata.normalize("NFC", keyword).casefold().split()
    assert all(any(word in _text(item) for word in words) for item in page["item_list"])


def test_a_query_that_matches_nothing(script_session: ScriptSession) -> None:
    for path in (ITEMS, GENERAL):
        page = script_session.api(path, {"keyword": "qqzzxxnothing", "offset": "0"})
        assert (page["status_code"], page["has_more"], page["cursor"]) == (0, 0, 0)
        assert "item_list" not in page
        assert "data" not in page


@pytest.mark.parametrize(
    "params",
    [
        {"keyword": ""},
        {"keyword": "  "},
        {"keyword": "pasta", "offset": "-1"},
        {"keyword": "pasta", "count": "x"},
    ],
)
def test_bad_parameters_are_10201(script_session: ScriptSession, params: dict[str, str]) -> None:
    for path in (ITEMS, GENERAL):
        assert script_session.api(path, params)["status_code"] == 10201


def test_general_search_mixes_users_in(script_session: ScriptSession) -> None:
    first = script_session.api(GENERAL, {"keyword": "pasta", "offset": "0"})
    assert (first["status_code"], first["has_more"], first["cursor"]) == (0, 1, 12)
    types = [entry["type"] for entry in first["data"]]
    assert types == [1, 1, 4] + [1] * 9  # the capture's shape: a users card third
    users = first["data"][2]
    assert "item" not in users
    assert users["user_list"][0]["user_info"]["unique_id"]
    videos = [entry["item"] for entry in first["data"] if entry["type"] == 1]
    assert all("pasta" in _text(item) for item in videos)
    # The cursor indexes the mixed list: the next page continues it, users cards included.
    second = script_session.api(GENERAL, {"keyword": "pasta", "offset": "12", "count": "20"})
    assert [entry["type"] for entry in second["data"]].count(4) == 1
    later = [entry["item"]["id"] for entry in second["data"] if entry["type"] == 1]
    assert not {item["id"] for item in videos} & set(later)
    # The same videos in the same order as the videos-only search.
    items = script_session.api(ITEMS, {"keyword": "pasta", "count": "30"})
    assert [item["id"] for item in items["item_list"]] == [item["id"] for item in videos] + later


def test_search_needs_a_signed_session_like_every_api_call(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    for path in (ITEMS, GENERAL):
        naive = http_request(f"{emulator.base_url}{path}?aid=1988&keyword=pasta&offset=0")
        assert (naive.status, naive.body) == (200, b"")
        assert script_session.get(path, {"keyword": "pasta"}, sign=False).body == b""
    assert emulator.stats()["api_refused"] == {"no_session": 2, "bad_x_bogus": 2}


def test_faults_apply_to_search(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    emulator.set_faults({"captcha": {"next": 1}, "http_5xx": {"rate": 1.0, "routes": [GENERAL]}})
    assert script_session.api(ITEMS, {"keyword": "pasta"})["statusCode"] == 10000
    assert script_session.get(GENERAL, {"keyword": "pasta"}).status == 503
    assert "item_list" in script_session.api(ITEMS, {"keyword": "pasta"})
    assert emulator.stats()["faults_injected"] == {"captcha": 1, "http_5xx": 1}


def test_stats_count_the_search_routes(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    script_session.api(ITEMS, {"keyword": "pasta"})
    script_session.api(GENERAL, {"keyword": "pasta"})
    script_session.api(GENERAL, {"keyword": "kitten"})
    stats = emulator.stats()
    assert (stats["requests"][ITEMS], stats["requests"][GENERAL]) == (1, 2)
    assert stats["api_ok"] == {ITEMS: 1, GENERAL: 2}
    emulator.reset_stats()
    assert emulator.stats()["requests"][GENERAL] == 0


def test_the_general_answer_has_the_capture_shape(script_session: ScriptSession) -> None:
    page = script_session.api(GENERAL, {"keyword": "kitten", "count": "3"})
    assert {"status_code", "data", "cursor", "has_more", "extra", "log_pb"} <= set(page)
    video = page["data"][0]
    assert set(video) == {"type", "item", "common"}
    assert video["common"]["doc_id_str"] == video["item"]["id"]
    json.dumps(page)  # plain JSON all the way


USERS = "/api/search/user/full/"


def test_user_search_has_the_real_envelope(script_session: ScriptSession) -> None:
    page = script_session.api(USERS, {"keyword": "pasta", "cursor": "0"})
    assert (page["status_code"], page["status_msg"]) == (0, "")
    assert "statusCode" not in page
    assert (page["cursor"], page["has_more"]) == (10, 1)  # ten users a page by default
    assert {"extra", "log_pb"} <= set(page)
    users = [entry["user_info"] for entry in page["user_list"]]
    assert len(users) == 10
    for user in users:
        assert {"uid", "unique_id", "nickname", "sec_uid", "follower_count", "avatar_thumb"} <= set(user)
        assert user["sec_uid"].startswith("MS4wLjABAAAA")
        assert isinstance(user["follower_count"], int)
    assert len({user["uid"] for user in users}) == 10  # each author once
    json.dumps(page)


def test_user_search_finds_the_authors_of_matching_videos(script_session: ScriptSession) -> None:
    videos = script_session.api(ITEMS, {"keyword": "croissant", "count": "35"})["item_list"]
    authors = list(dict.fromkeys(item["author"]["uniqueId"] for item in videos))
    page = script_session.api(USERS, {"keyword": "croissant", "count": "35"})
    assert [entry["user_info"]["unique_id"] for entry in page["user_list"]] == authors
    assert page["has_more"] == 0


def test_user_search_pages_by_cursor_to_the_end(script_session: ScriptSession) -> None:
    total = len(Corpus(1).search_authors("pasta"))
    assert 35 < total <= 500
    seen: list[str] = []
    cursor = 0
    for _ in range(30):  # bounded
        page = script_session.api(USERS, {"keyword": "pasta", "cursor": str(cursor), "count": "35"})
        seen += [entry["user_info"]["uid"] for entry in page.get("user_list", [])]
        assert page["cursor"] == len(seen)
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    assert len(seen) == len(set(seen)) == total
    past = script_session.api(USERS, {"keyword": "pasta", "cursor": str(total)})
    assert (past["has_more"], past["status_code"], past["cursor"]) == (0, 0, total)
    assert "user_list" not in past
    nothing = script_session.api(USERS, {"keyword": "zzzqqqxxx"})
    assert (nothing["has_more"], nothing["cursor"]) == (0, 0)
    assert "user_list" not in nothing


@pytest.mark.parametrize(
    "params", [{"keyword": ""}, {"keyword": "pasta", "cursor": "-1"}, {"keyword": "pasta", "cursor": "x"}]
)
def test_user_search_rejects_bad_parameters(script_session: ScriptSession, params: dict[str, str]) -> None:
    assert script_session.api(USERS, params)["status_code"] == 10201


def test_user_search_has_the_same_defences_faults_and_stats(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    naive = http_request(f"{emulator.base_url}{USERS}?aid=1988&keyword=pasta&cursor=0")
    assert (naive.status, naive.body) == (200, b"")
    assert script_session.get(USERS, {"keyword": "pasta"}, sign=False).body == b""
    assert emulator.stats()["api_refused"] == {"no_session": 1, "bad_x_bogus": 1}
    emulator.set_faults({"captcha": {"next": 1}, "http_5xx": {"rate": 1.0, "routes": [USERS]}})
    assert script_session.api(USERS, {"keyword": "pasta"})["statusCode"] == 10000
    assert script_session.get(USERS, {"keyword": "pasta"}).status == 503
    emulator.set_faults({})
    script_session.api(USERS, {"keyword": "pasta"})
    stats = emulator.stats()
    assert stats["requests"][USERS] == 5
    assert stats["api_ok"] == {USERS: 1}
    assert stats["faults_injected"] == {"captcha": 1, "http_5xx": 1}
