"""The emulator's API around a video: creators and their posts, comments and replies, sounds and
their videos, related videos, and the profile page; their envelopes, paging, defences and faults."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from emulator import signing
from emulator.corpus import Corpus, Urls
from harness.http import http_request
from harness.script_session import universal_data

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess
    from harness.script_session import ScriptSession

USER = "/api/user/detail/"
POSTS = "/api/post/item_list/"
COMMENTS = "/api/comment/list/"
REPLIES = "/api/comment/list/reply/"
MUSIC = "/api/music/detail/"
MUSIC_ITEMS = "/api/music/item_list/"
RELATED = "/api/related/item_list/"
USER_SEARCH = "/api/search/user/full/"
HASHTAG_ITEMS = "/api/challenge/item_list/"
CORPUS = Corpus(1)
_URLS = Urls("", 0)


def _creator(emulator: EmulatorProcess, **wanted: Any) -> dict[str, Any]:
    return next(c for c in emulator.corpus()["creators"] if all(c[k] == v for k, v in wanted.items()))


def _all_posts(script_session: ScriptSession, sec_uid: str, **extra: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = "0"
    for _ in range(40):  # bounded: the largest creator has about 600 posts
        page = script_session.api(POSTS, {"secUid": sec_uid, "count": "30", "cursor": cursor, **extra})
        assert isinstance(page["cursor"], str)
        items += page.get("itemList", [])
        cursor = page["cursor"]
        if not page["hasMore"]:
            return items
    raise AssertionError("the posts feed never ended")


def test_user_detail_has_the_captured_shape(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    creator = _creator(emulator, uniqueId="creator_0")
    answer = script_session.api(USER, {"uniqueId": "creator_0", "secUid": ""})
    assert (answer["statusCode"], answer["status_code"]) == (0, 0)
    info = answer["userInfo"]
    assert info["user"]["secUid"] == creator["secUid"]
    assert {"id", "uniqueId", "nickname", "avatarLarger", "signature", "verified", "privateAccount"} <= set(
        info["user"]
    )
    # rounded stats beside exact statsV2 strings, as in user_detail_2025-10.json
    assert info["statsV2"]["videoCount"] == str(creator["videoCount"])
    assert int(info["statsV2"]["followerCount"]) != info["stats"]["followerCount"]
    assert str(info["stats"]["followerCount"]).endswith("00000")
    assert info["stats"]["heart"] == info["stats"]["heartCount"]
    assert "creator_0" in answer["shareMeta"]["desc"]


def test_user_detail_finds_a_user_by_any_spelling_or_by_sec_uid(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    sec_uid = _creator(emulator, uniqueId="creator_0")["secUid"]
    for params in (
        {"uniqueId": "@Creator_0"},
        {"uniqueId": "CREATOR_0"},
        {"uniqueId": "", "secUid": sec_uid},
    ):
        assert script_session.api(USER, params)["userInfo"]["user"]["uniqueId"] == "creator_0"
    unknown = script_session.api(USER, {"uniqueId": "nobody.here"})
    # word for word as TikTok-Api issues #1124 and #1158 quote it: status_code 0 beside statusCode 10221
    assert (unknown["statusCode"], unknown["status_code"], unknown["status_msg"]) == (10221, 0, "")
    assert "statusMsg" not in unknown
    assert unknown["userInfo"] == {}
    assert script_session.api(USER, {"uniqueId": " "})["statusCode"] == 10201


def test_posts_page_newest_first_by_a_timestamp_cursor_pinned_first(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    creator = _creator(emulator, uniqueId="creator_6")  # prolific, two pinned posts
    assert creator["pinned"] == 2 and creator["videoCount"] > 300
    first = script_session.api(POSTS, {"secUid": creator["secUid"], "count": "30", "cursor": "0"})
    assert [item["isPinnedItem"] for item in first["itemList"][:3]] == [True, True, False]
    assert len(first["itemList"]) == 30
    assert first["cursor"].isdigit() and len(first["cursor"]) == 13  # a ms timestamp, as a string
    items = _all_posts(script_session, creator["secUid"])
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)) == creator["videoCount"]
    assert sum(item["isPinnedItem"] for item in items) == 2
    times = [int(item["createTime"]) for item in items if not item["isPinnedItem"]]
    assert times == sorted(times, reverse=True)
    assert {item["author"]["uniqueId"] for item in items} == {"creator_6"}


@pytest.mark.parametrize(("order", "key"), [("1", "playCount"), ("2", "createTime")])
def test_posts_sort_popular_or_oldest_first(
    emulator: EmulatorProcess, script_session: ScriptSession, order: str, key: str
) -> None:
    creator = _creator(emulator, uniqueId="user.010")
    items = _all_posts(script_session, creator["secUid"], post_item_list_request_type=order)
    assert len(items) == creator["videoCount"]
    values = [
        int((item.get("statsV2") or item["stats"])[key]) if key == "playCount" else int(item[key])
        for item in items
    ]
    assert values == sorted(values, reverse=order == "1")
    if order == "1":
        page = script_session.api(
            POSTS, {"secUid": creator["secUid"], "count": "5", "post_item_list_request_type": "1"}
        )
        assert page["cursor"] == "5"  # not a timestamp: clients must treat the cursor as opaque


def test_private_accounts_and_bad_counts(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    private = _creator(emulator, privateAccount=True)
    detail = script_session.api(USER, {"uniqueId": private["uniqueId"]})
    assert detail["userInfo"]["user"]["privateAccount"] is True
    assert script_session.api(POSTS, {"secUid": private["secUid"]})["statusCode"] == 10222
    public = _creator(emulator, uniqueId="creator_0")["secUid"]
    assert script_session.api(POSTS, {"secUid": public, "count": "36"})["statusCode"] == 10201
    assert script_session.api(POSTS, {"secUid": "MS4wLjABAAAAnope"})["statusCode"] == 10221
    # a private account's videos are refused one by one too
    private_item = emulator.corpus()["private_item_ids"][0]
    assert script_session.api("/api/item/detail/", {"itemId": private_item})["statusCode"] == 10216


def test_an_item_leads_to_its_creator_and_their_posts(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    item = script_session.api("/api/item/detail/", {"itemId": emulator.corpus()["playable_item_ids"][7]})
    item = item["itemInfo"]["itemStruct"]
    user = script_session.api(USER, {"uniqueId": item["author"]["uniqueId"]})["userInfo"]
    assert user["user"]["id"] == item["author"]["id"]
    assert item["authorStats"]["followerCount"] == user["stats"]["followerCount"]
    posts = _all_posts(script_session, user["user"]["secUid"])
    assert item["id"] in {post["id"] for post in posts}


def test_comments_are_snake_case_and_page_by_the_count_asked(script_session: ScriptSession) -> None:
    video = CORPUS.item_id(CORPUS.playable[3])  # 240 comments, some hidden
    first = script_session.api(COMMENTS, {"aweme_id": video, "count": "20", "cursor": "0"})
    assert "statusCode" not in first and first["status_code"] == 0
    assert (first["cursor"], first["has_more"], first["total"]) == (20, 1, 240)
    comment = first["comments"][0]
    assert {
        "cid",
        "aweme_id",
        "text",
        "create_time",
        "digg_count",
        "reply_comment_total",
        "author_pin",
    } <= set(comment)
    assert {"uid", "unique_id", "nickname", "sec_uid", "avatar_thumb"} <= set(comment["user"])
    assert comment["aweme_id"] == video
    cids: list[str] = []
    short_pages = 0
    cursor = 0
    for _ in range(20):  # bounded: 240 comments, 20 a page
        page = script_session.api(COMMENTS, {"aweme_id": video, "count": "20", "cursor": str(cursor)})
        got = page["comments"] or []
        short_pages += len(got) < 20
        cids += [c["cid"] for c in got]
        assert page["cursor"] == cursor + 20  # grows by the count asked, even when fewer came back
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    assert page["has_more"] == 0
    assert short_pages > 0  # TikTok filters some comments out of a page
    assert len(cids) == len(set(cids)) > 200
    past = script_session.api(COMMENTS, {"aweme_id": video, "cursor": "500"})
    assert (past["comments"], past["has_more"]) == (None, 0)


def test_image_only_comments_keep_an_empty_text(script_session: ScriptSession) -> None:
    found = []
    for position in range(40):  # bounded: one comment in 25 is image-only
        video = CORPUS.item_id(CORPUS.playable[position])
        page = script_session.api(COMMENTS, {"aweme_id": video, "count": "50"})
        found += [c for c in page["comments"] or [] if c["image_list"]]
        if found:
            break
    assert found, "no image-only comment in 40 videos"
    assert found[0]["text"] == ""
    assert found[0]["image_list"][0]["origin_url"]["url_list"][0].startswith(script_session.base_url)


def test_replies_are_found_by_comment_id(script_session: ScriptSession) -> None:
    video = CORPUS.item_id(CORPUS.playable[3])
    page = script_session.api(COMMENTS, {"aweme_id": video, "count": "50"})
    parent = next(c for c in page["comments"] if c["reply_comment_total"] > 1)
    # TikTokApi 7.3.3 sends the comment author's uid as item_id: the comment id alone decides
    replies = script_session.api(
        REPLIES, {"item_id": parent["user"]["uid"], "comment_id": parent["cid"], "count": "50", "cursor": "0"}
    )
    assert replies["total"] == parent["reply_comment_total"]
    assert replies["comments"]
    assert {reply["reply_id"] for reply in replies["comments"]} == {parent["cid"]}
    assert {reply["aweme_id"] for reply in replies["comments"]} == {video}
    assert replies["comments"][0]["cid"] != parent["cid"]
    unknown = script_session.api(REPLIES, {"item_id": video, "comment_id": "123"})
    assert unknown["status_code"] == 10202


def test_comments_and_replies_speak_every_script_and_emoji(script_session: ScriptSession) -> None:
    video = CORPUS.item_id(CORPUS.playable[3])
    page = script_session.api(COMMENTS, {"aweme_id": video, "count": "50"})
    texts = [c["text"] for c in page["comments"]]
    assert any("\u4e00" <= ch <= "\u9fff" for text in texts for ch in text)  # CJK
    assert any(ord(ch) >= 0x1F300 for text in texts for ch in text)  # emoji
    assert {c["comment_language"] for c in page["comments"]} >= {"en", "zh-Hans"}
    parent = next(c for c in page["comments"] if c["reply_comment_total"] > 5)
    replies = script_session.api(REPLIES, {"comment_id": parent["cid"], "count": "50"})["comments"]
    assert all(isinstance(reply["text"], str) and reply["text"] for reply in replies)
    assert all(reply["reply_comment_total"] == 0 for reply in replies)


def test_comments_of_unknown_or_private_videos(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    corpus = emulator.corpus()
    assert script_session.api(COMMENTS, {"aweme_id": corpus["unknown_item_id"]})["status_code"] == 10202
    assert script_session.api(COMMENTS, {"aweme_id": corpus["private_item_ids"][0]})["status_code"] == 10216
    assert script_session.api(COMMENTS, {"aweme_id": "1", "count": "x"})["status_code"] == 10201


def test_a_shared_sound_has_a_feed_of_videos(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    sound_id = emulator.corpus()["shared_sound_ids"][3]
    detail = script_session.api(MUSIC, {"musicId": sound_id})["musicInfo"]
    assert detail["music"]["id"] == sound_id and detail["music"]["original"] is False
    assert {"title", "authorName", "playUrl", "coverLarge", "duration"} <= set(detail["music"])
    assert {"uniqueId", "secUid"} <= set(detail["author"])
    ids: list[str] = []
    cursor = "0"
    for _ in range(10):  # bounded: a shared sound has about 90 videos
        page = script_session.api(MUSIC_ITEMS, {"musicID": sound_id, "count": "30", "cursor": cursor})
        assert isinstance(page["cursor"], str)  # an offset, as a string ("30")
        ids += [item["id"] for item in page.get("itemList", [])]
        assert all(item["music"]["id"] == sound_id for item in page.get("itemList", []))
        cursor = page["cursor"]
        if not page["hasMore"]:
            break
    assert len(ids) == len(set(ids)) == detail["stats"]["videoCount"] > 60


def test_an_original_sound_has_its_one_video(script_session: ScriptSession) -> None:
    item = CORPUS.item(CORPUS.playable[2], _URLS)
    sound_id = item["music"]["id"]
    assert script_session.api(MUSIC, {"musicId": sound_id})["musicInfo"]["stats"]["videoCount"] == 1
    page = script_session.api(MUSIC_ITEMS, {"musicID": sound_id})
    assert [video["id"] for video in page["itemList"]] == [item["id"]]
    assert script_session.api(MUSIC, {"musicId": "42"})["statusCode"] == 10202
    assert script_session.api(MUSIC_ITEMS, {"musicID": "42"})["statusCode"] == 10202


def test_related_videos_are_one_page_without_a_cursor(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    video = emulator.corpus()["playable_item_ids"][5]
    page = script_session.api(RELATED, {"itemID": video, "count": "16"})
    assert "cursor" not in page and "hasMore" not in page
    ids = [item["id"] for item in page["itemList"]]
    assert len(ids) == len(set(ids)) == 16 and video not in ids
    assert script_session.api(RELATED, {"itemID": video, "count": "16"})["itemList"] == page["itemList"]
    assert (
        script_session.api(RELATED, {"itemID": emulator.corpus()["unknown_item_id"]})["statusCode"] == 10202
    )


def test_user_search_honours_keyword_cursor_and_count(script_session: ScriptSession) -> None:
    six = script_session.api(USER_SEARCH, {"keyword": "pasta", "cursor": "0", "count": "6"})
    first = script_session.api(USER_SEARCH, {"keyword": "pasta", "cursor": "0", "count": "3"})
    second = script_session.api(USER_SEARCH, {"keyword": "pasta", "cursor": "3", "count": "3"})
    assert (first["cursor"], first["has_more"], second["cursor"]) == (3, 1, 6)
    uids = [entry["user_info"]["uid"] for entry in six["user_list"]]
    assert [entry["user_info"]["uid"] for entry in first["user_list"] + second["user_list"]] == uids
    other = script_session.api(USER_SEARCH, {"keyword": "cats", "cursor": "0", "count": "6"})
    assert [entry["user_info"]["uid"] for entry in other["user_list"]] != uids
    info = six["user_list"][0]["user_info"]
    # the capture's user_info (search_general_full_2026-02.json, its users card)
    assert {
        "uid",
        "unique_id",
        "nickname",
        "sec_uid",
        "signature",
        "avatar_thumb",
        "follower_count",
        "total_favorited",
        "custom_verify",
        "enterprise_verify_reason",
        "follow_status",
        "room_id",
    } <= set(info)
    assert info["avatar_thumb"]["url_list"][0].startswith(script_session.base_url)
    # the same creator as /api/user/detail/ knows them
    detail = script_session.api(USER, {"uniqueId": info["unique_id"]})["userInfo"]
    assert (detail["user"]["id"], detail["user"]["secUid"]) == (info["uid"], info["sec_uid"])
    assert detail["stats"]["followerCount"] == info["follower_count"]


def test_the_profile_page_carries_the_user_detail(emulator: EmulatorProcess) -> None:
    answer = http_request(f"{emulator.base_url}/@creator_0")
    assert answer.status == 200
    detail = universal_data(answer.body.decode())["__DEFAULT_SCOPE__"]["webapp.user-detail"]
    assert detail["statusCode"] == 0
    assert detail["userInfo"]["user"]["uniqueId"] == "creator_0"
    assert detail["userInfo"]["user"]["secUid"] == _creator(emulator, uniqueId="creator_0")["secUid"]
    missing = http_request(f"{emulator.base_url}/@nobody.here")
    assert missing.status == 404
    assert (
        universal_data(missing.body.decode())["__DEFAULT_SCOPE__"]["webapp.user-detail"]["statusCode"]
        == 10221
    )
    assert emulator.stats()["requests"]["/@<user>"] == 2


ROUTES_AND_PARAMS = [
    (USER, {"uniqueId": "creator_0"}),
    (POSTS, {"secUid": "MS4wLjABAAAA0000000000000000"}),
    (COMMENTS, {"aweme_id": "1"}),
    (REPLIES, {"comment_id": "1"}),
    (MUSIC, {"musicId": "1"}),
    (MUSIC_ITEMS, {"musicID": "1"}),
    (RELATED, {"itemID": "1"}),
    (USER_SEARCH, {"keyword": "pasta", "cursor": "0"}),
    (HASHTAG_ITEMS, {"challengeID": "1", "count": "30", "cursor": "0"}),  # a feed, for comparison
]


@pytest.mark.parametrize(("route", "params"), ROUTES_AND_PARAMS)
def test_every_route_has_the_defences_faults_and_stats(
    emulator: EmulatorProcess, script_session: ScriptSession, route: str, params: dict[str, str]
) -> None:
    """Each route around a video is refused, faulted and counted as the hashtag feed is (last row)."""
    naive = http_request(f"{emulator.base_url}{route}?aid=1988")
    assert (naive.status, naive.body) == (200, b"")
    assert script_session.get(route, params, sign=False).body == b""
    # no msToken at all, yet signed with the page's secret: refused all the same
    unsigned = script_session.url(route, params, sign=False).replace(
        f"&msToken={script_session.ms_token}", ""
    )
    assert "msToken" not in unsigned
    without_token = script_session.get_url(
        unsigned + "&X-Bogus=" + signing.sign(script_session.secret, unsigned)
    )
    assert (without_token.status, without_token.body) == (200, b"")
    assert script_session.get(route, params, ms_token="x" * 144).body == b""  # one no page set
    assert script_session.get(route, params).body  # the same call, with the page's msToken, is answered
    emulator.set_faults({"captcha": {"next": 1}, "http_5xx": {"rate": 1.0, "routes": [route]}})
    assert script_session.api(route, params)["statusCode"] == 10000
    assert script_session.get(route, params).status == 503
    emulator.set_faults(
        {"empty_body": {"rate": 1.0, "routes": [HASHTAG_ITEMS if route != HASHTAG_ITEMS else USER]}}
    )
    script_session.api(route, params)  # a rule naming another route leaves this one alone
    emulator.set_faults({})
    script_session.api(route, params)
    stats = emulator.stats()
    assert stats["requests"][route] == 9
    assert stats["api_ok"] == {route: 3}
    assert stats["api_refused"] == {"no_session": 1, "bad_x_bogus": 1, "bad_ms_token": 2}
    assert stats["faults_injected"] == {"captcha": 1, "http_5xx": 1}
