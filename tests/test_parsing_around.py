"""Parsing the answers around a video (creator, posts, comments, replies, sound, its videos, related
videos, user search): the real captures, then the emulator's answers, built by calling its endpoints."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import pytest
from itemadapter import ItemAdapter

from emulator import api, around
from emulator.comments import COMMENT_BASE
from emulator.corpus import Corpus, Urls
from tests.captures import capture_json
from tiktok_spiders.errors import MalformedPayload, NotFound, PrivateContent, SoftFailure
from tiktok_spiders.items import Comment, Creator, Rejected, Sound, Video
from tiktok_spiders.parsing import (
    parse_comment,
    parse_comment_list,
    parse_feed,
    parse_music_detail,
    parse_posts,
    parse_user_detail,
    parse_user_search,
)
from tiktok_spiders.pipelines import type_problem

if TYPE_CHECKING:
    from emulator.app import App
    from emulator.sessions import Session

VIDEO_ID = "7603296357641735445"  # the video of comment_list_2026-02.json
CREATOR_KEYS = {
    "id",
    "uniqueId",
    "nickname",
    "secUid",
    "signature",
    "avatar",
    "verified",
    "privateAccount",
    "createTime",
    "stats",
}
CREATOR_STATS = {"followerCount", "followingCount", "heartCount", "videoCount", "diggCount", "friendCount"}
COMMENT_KEYS = {
    "id",
    "videoId",
    "text",
    "createTime",
    "diggCount",
    "replyCount",
    "pinnedByAuthor",
    "language",
    "author",
    "images",
}
SOUND_KEYS = {"id", "title", "authorName", "original", "duration", "cover", "videoCount"}


def comments_of(entries: list[Any]) -> list[Comment]:
    assert all(isinstance(entry, Comment) for entry in entries)
    return cast("list[Comment]", entries)


def creators_of(entries: list[Any]) -> list[Creator]:
    assert all(isinstance(entry, Creator) for entry in entries)
    return cast("list[Creator]", entries)


# --- a creator's profile: user_detail_2025-10.json ---------------------------------------------


def test_user_detail_capture_gives_the_creator_with_exact_counts() -> None:
    creator = parse_user_detail(capture_json("user_detail_2025-10.json"))
    assert creator.id == "6799838955094836230"
    assert creator.uniqueId == "zg.520"
    assert creator.nickname == "小邹旅行🇨🇳"
    assert creator.secUid == "MS4wLjABAAAAkagks5n_8XDIMWf94LZDUYs54FG5bJmEFJkWtjA__uRUN8QWaavHhzSyEO6WBPQj"
    assert creator.signature == "账号出售，需要的联系VX:zmk1086"
    assert creator.avatar is not None and "cropcenter:1080:1080" in creator.avatar  # avatarLarger first
    assert (creator.verified, creator.privateAccount) == (False, False)
    assert creator.createTime is None  # the capture's user has none
    # statsV2's exact strings, not stats' rounded 427700 and 6800000
    stats = creator.stats
    assert (stats.followerCount, stats.heartCount) == (427682, 6764096)
    assert (stats.followingCount, stats.videoCount, stats.diggCount, stats.friendCount) == (176, 1605, 0, 53)
    assert type_problem(creator) is None


def test_creator_serialises_to_the_design_contract() -> None:
    exported = ItemAdapter(parse_user_detail(capture_json("user_detail_2025-10.json"))).asdict()
    assert set(exported) == CREATOR_KEYS
    assert set(exported["stats"]) == CREATOR_STATS


def test_rounded_stats_and_the_heart_alias_when_stats_v2_is_absent() -> None:
    payload = capture_json("user_detail_2025-10.json")
    del payload["userInfo"]["statsV2"]
    del payload["userInfo"]["stats"]["heartCount"]
    stats = parse_user_detail(payload).stats
    assert stats.followerCount == 427700
    assert stats.heartCount == 6800000  # from "heart"


def test_a_smaller_avatar_and_unknown_flags_when_tiktok_leaves_them_out() -> None:
    payload = capture_json("user_detail_2025-10.json")
    user = payload["userInfo"]["user"]
    for key in ("avatarLarger", "verified", "privateAccount", "secret"):
        del user[key]
    creator = parse_user_detail(payload)
    assert creator.avatar is not None and "cropcenter:720:720" in creator.avatar
    assert (creator.verified, creator.privateAccount) == (None, None)


@pytest.mark.parametrize(
    "user_info",
    [
        {"user": {}, "stats": {}, "statsV2": {}},  # the soft failure the protocol notes describe
        {},
        {"user": {"uniqueId": "zg.520"}},
        None,
    ],
)
def test_an_empty_profile_is_a_soft_failure(user_info: Any) -> None:
    with pytest.raises(SoftFailure):
        parse_user_detail({"statusCode": 0, "userInfo": user_info})


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"statusCode": -1, "userInfo": {}}, SoftFailure),
        ({"statusCode": 10221, "statusMsg": "user doesn't exist", "userInfo": {}}, NotFound),
        ({"statusCode": 10202, "userInfo": {}}, NotFound),
        ({"statusCode": 0, "userInfo": {"user": {"id": "x1", "uniqueId": "a"}}}, MalformedPayload),
        ({"statusCode": 0, "userInfo": {"user": {"id": "1", "uniqueId": ""}}}, MalformedPayload),
    ],
)
def test_profile_errors(payload: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_user_detail(payload)


# --- a creator's posts: post_item_list*_2025-10.json ---------------------------------------------


def test_latest_posts_keep_the_timestamp_cursor_as_tiktok_wrote_it() -> None:
    page = parse_posts(capture_json("post_item_list_2025-10.json"))
    assert page.next_token == "1758331327601"
    assert page.next_cursor is None
    assert page.has_more is True
    [video] = page.videos
    assert video.id == "7513039993741397256"
    assert video.pinned is True
    assert video.author.uniqueId == "zg.520"
    assert video.stats.playCount == 1900000


def test_popular_posts_keep_the_small_cursor_opaque() -> None:
    page = parse_posts(capture_json("post_item_list_popular_2025-10.json"))
    assert page.next_token == "31865"  # not a timestamp: never read as one
    assert page.next_cursor is None
    [video] = page.videos
    assert (video.id, video.pinned) == ("7498337886933191943", True)
    assert video.stats.collectCount == 59149  # statsV2, not stats' 59100
    assert type_problem(video) is None


def test_pinned_is_unknown_where_the_feed_does_not_say() -> None:
    assert {
        video.pinned for video in parse_feed(capture_json("recommend_item_list_2022-11.json")).videos
    } == {None}
    payload = capture_json("post_item_list_2025-10.json")
    payload["itemList"][0]["isPinnedItem"] = False
    assert parse_posts(payload).videos[0].pinned is False


@pytest.mark.parametrize("cursor", [None, "", "a b", True, 1.5, "x" * 101, {"c": 1}])
def test_a_cursor_the_route_would_refuse_is_no_cursor(cursor: object) -> None:
    payload = capture_json("post_item_list_2025-10.json")
    payload["cursor"] = cursor
    assert parse_posts(payload).next_token is None


def test_an_int_cursor_becomes_its_digits() -> None:
    payload = capture_json("post_item_list_2025-10.json") | {"cursor": 1758331327601}
    assert parse_posts(payload).next_token == "1758331327601"


def test_private_account_posts() -> None:
    with pytest.raises(PrivateContent):
        parse_posts({"statusCode": 10222, "statusMsg": "private"})


# --- comments: comment_list_2026-02.json ---------------------------------------------------------


def test_comment_capture_gives_every_comment_and_the_offset_cursor() -> None:
    page = parse_comment_list(capture_json("comment_list_2026-02.json"))
    comments = comments_of(page.entries)
    assert len(comments) == 19
    assert page.next_cursor == 20  # asked 20, got 19: the cursor still moves by 20
    assert page.has_more is True  # has_more 1
    assert page.total == 227
    assert page.next_token is None
    assert {comment.videoId for comment in comments} == {VIDEO_ID}
    assert len({comment.id for comment in comments}) == 19
    for comment in comments:
        assert type_problem(comment) is None


def test_a_comment_with_its_author() -> None:
    second = comments_of(parse_comment_list(capture_json("comment_list_2026-02.json")).entries)[1]
    assert second.id == "7603308235172496150"
    assert second.text == "Hi oyyyyyyyyy ❤️🥀😁"
    assert second.language == "en"
    assert second.images == []
    assert second.pinnedByAuthor is False
    assert isinstance(second.createTime, int)
    assert isinstance(second.diggCount, int)
    assert second.replyCount == 0
    assert second.author.uniqueId is not None
    assert second.author.id is not None and second.author.id.isdigit()
    assert second.author.avatar is not None and second.author.avatar.startswith("https://")


def test_image_only_comments_keep_an_empty_text_and_have_their_images() -> None:
    comments = comments_of(parse_comment_list(capture_json("comment_list_2026-02.json")).entries)
    image_only = [comment for comment in comments if comment.images]
    assert [comment.id for comment in image_only] == ["7603301260598838032", "7603305813985673991"]
    first = image_only[0]
    assert first.text == ""
    assert first.language == "un"
    assert (first.createTime, first.diggCount) == (1770281693, 2)
    assert first.author.id == "7253829545996370949"
    assert first.author.uniqueId == "zainjutt.31"
    assert first.author.nickname == "☠️زین وینس"
    assert first.author.avatar is not None and "cropcenter:100:100" in first.author.avatar
    [image] = first.images
    assert "image-origin" in image  # origin_url before crop_url
    assert all(comment.text for comment in comments if not comment.images)


def test_comment_serialises_to_the_design_contract() -> None:
    comment = parse_comment_list(capture_json("comment_list_2026-02.json")).entries[0]
    exported = ItemAdapter(comment).asdict()
    assert set(exported) == COMMENT_KEYS
    assert set(exported["author"]) == {"id", "uniqueId", "nickname", "avatar"}


def test_the_cropped_image_when_the_original_is_missing() -> None:
    raw = capture_json("comment_list_2026-02.json")["comments"][0]
    del raw["image_list"][0]["origin_url"]
    comment = parse_comment(raw)
    assert isinstance(comment, Comment)
    assert len(comment.images) == 1 and "image-medium" in comment.images[0]


def test_a_pinned_comment() -> None:
    raw = capture_json("comment_list_2026-02.json")["comments"][1] | {"author_pin": True}
    comment = parse_comment(raw)
    assert isinstance(comment, Comment) and comment.pinnedByAuthor is True


@pytest.mark.parametrize(
    ("cid", "reason"), [(None, "missing_id"), ("", "missing_id"), ("abc", "invalid_id"), ("0", "invalid_id")]
)
def test_a_comment_without_a_valid_cid_is_rejected(cid: object, reason: str) -> None:
    raw = capture_json("comment_list_2026-02.json")["comments"][1] | {"cid": cid}
    rejected = parse_comment(raw)
    assert isinstance(rejected, Rejected)
    assert (rejected.reason, rejected.kind) == (reason, "comment")


def test_an_entry_that_is_not_an_object_is_rejected() -> None:
    assert parse_comment([1]) == Rejected("malformed_item", detail="list", kind="comment")


@pytest.mark.parametrize("comments", [None, []])
def test_an_empty_comment_page(comments: Any) -> None:
    page = parse_comment_list(
        {"status_code": 0, "comments": comments, "cursor": 40, "has_more": 0, "total": 3}
    )
    assert (page.entries, page.has_more, page.next_cursor, page.total) == ([], False, 40, 3)


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"status_code": 0, "comments": {"cid": "1"}}, MalformedPayload),
        ({"status_code": 10202, "status_msg": "item doesn't exist", "comments": None}, NotFound),
        ({"status_code": 10216, "comments": None}, PrivateContent),
    ],
)
def test_comment_list_errors(payload: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_comment_list(payload)


# --- a sound: the protocol notes' shape ----------------------------------------------------------

MUSIC_DETAIL = {
    "statusCode": 0,
    "musicInfo": {
        "music": {
            "id": "7016547803243022337",
            "title": "original sound",
            "authorName": "zg.520",
            "playUrl": "https://sf16-ies-music-va.tiktokcdn.com/obj/x.mp3",
            "coverLarge": "https://p16-sign-va.tiktokcdn.com/music-1080.jpeg",
            "coverMedium": "https://p16-sign-va.tiktokcdn.com/music-720.jpeg",
            "coverThumb": "https://p16-sign-va.tiktokcdn.com/music-100.jpeg",
            "duration": 15,
            "original": True,
        },
        "author": {"id": "6799838955094836230", "uniqueId": "zg.520"},
        "stats": {"videoCount": 1200},
        "statsV2": {"videoCount": "1234"},
    },
}


def test_music_detail_gives_the_sound() -> None:
    sound = parse_music_detail(MUSIC_DETAIL)
    assert sound == Sound(
        id="7016547803243022337",
        title="original sound",
        authorName="zg.520",
        original=True,
        duration=15,
        cover="https://p16-sign-va.tiktokcdn.com/music-1080.jpeg",
        videoCount=1234,
    )
    assert set(ItemAdapter(sound).asdict()) == SOUND_KEYS
    assert type_problem(sound) is None


def test_a_sound_with_rounded_stats_a_small_cover_and_no_original_flag() -> None:
    info = MUSIC_DETAIL["musicInfo"]
    assert isinstance(info, dict)
    music = {key: value for key, value in info["music"].items() if key not in ("coverLarge", "original")}
    sound = parse_music_detail(
        {"statusCode": 0, "musicInfo": {"music": music, "stats": {"videoCount": 1200}}}
    )
    assert (sound.cover, sound.original, sound.videoCount) == (
        "https://p16-sign-va.tiktokcdn.com/music-720.jpeg",
        None,
        1200,
    )


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"statusCode": 0, "musicInfo": {"music": {}}}, MalformedPayload),
        ({"statusCode": 0}, MalformedPayload),
        ({"statusCode": 0, "musicInfo": {"music": {"id": "abc"}}}, MalformedPayload),
        ({"statusCode": 10202, "statusMsg": "music doesn't exist"}, NotFound),
    ],
)
def test_music_detail_errors(payload: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_music_detail(payload)


# --- user search: the user_info of search_general_full_2026-02.json -------------------------------


def captured_user_entries() -> list[Any]:
    data = capture_json("search_general_full_2026-02.json")["data"]
    return [user for entry in data if entry.get("type") == 4 for user in entry["user_list"]]


def test_user_search_gives_what_search_says_and_none_for_the_rest() -> None:
    payload = {"status_code": 0, "user_list": captured_user_entries(), "cursor": 10, "has_more": 1}
    page = parse_user_search(payload)
    [creator] = creators_of(page.entries)
    assert (page.has_more, page.next_cursor) == (True, 10)
    assert (creator.id, creator.uniqueId, creator.nickname) == ("107955", "tiktok", "TikTok")
    assert creator.secUid == "MS4wLjABAAAAv7iSuuXDJGDvJkmH_vz1qkDZYo1apxgzaxdBSeIuPiM"
    assert creator.signature == "One TikTok can make a big impact"
    assert creator.avatar is not None and "cropcenter:100:100" in creator.avatar
    assert creator.verified is True  # enterprise_verify_reason "verified account"
    assert (creator.privateAccount, creator.createTime) == (None, None)
    assert (creator.stats.followerCount, creator.stats.heartCount) == (92700000, 453517656)
    assert creator.stats.followingCount is None
    assert creator.stats.videoCount is None
    assert creator.stats.friendCount is None
    assert type_problem(creator) is None
    assert set(ItemAdapter(creator).asdict()) == CREATOR_KEYS


@pytest.mark.parametrize(
    ("reasons", "verified"),
    [
        ({"custom_verify": "", "enterprise_verify_reason": ""}, False),
        ({"custom_verify": "Popular creator", "enterprise_verify_reason": ""}, True),
        ({"custom_verify": None}, None),
        ({}, None),
    ],
)
def test_verified_from_the_reason_texts(reasons: dict[str, Any], verified: bool | None) -> None:
    entry = captured_user_entries()[0]
    for key in ("custom_verify", "enterprise_verify_reason"):
        del entry["user_info"][key]
    entry["user_info"].update(reasons)
    [creator] = creators_of(parse_user_search({"status_code": 0, "user_list": [entry]}).entries)
    assert creator.verified is verified


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("x", "malformed_item"),
        ({"user_info": None}, "malformed_item"),
        ({"user_info": {"unique_id": "a"}}, "missing_id"),
        ({"user_info": {"uid": "u1", "unique_id": "a"}}, "invalid_id"),
        ({"user_info": {"uid": "1"}}, "missing_unique_id"),
    ],
)
def test_a_search_result_that_is_no_creator_is_rejected(entry: Any, reason: str) -> None:
    [rejected] = parse_user_search({"status_code": 0, "user_list": [entry]}).entries
    assert isinstance(rejected, Rejected)
    assert (rejected.reason, rejected.kind) == (reason, "creator")


def test_an_empty_user_search_leaves_the_list_out() -> None:
    page = parse_user_search({"status_code": 0, "cursor": 0, "has_more": 0})
    assert (page.entries, page.has_more, page.next_cursor) == ([], False, 0)
    with pytest.raises(MalformedPayload):
        parse_user_search({"status_code": 0, "user_list": "tiktok"})


# --- the emulator's answers, from its endpoint functions -----------------------------------------

CORPUS = Corpus(1)
#: the endpoints read only the app's corpus; the session is not theirs to read
APP = cast("App", SimpleNamespace(corpus=CORPUS))
SESSION = cast("Session", None)
URLS = Urls("https://emulator.test", 0)


def public_creator(**wanted: Any) -> Any:
    return next(
        c for c in CORPUS.creators if not c.private and all(getattr(c, k) == v for k, v in wanted.items())
    )


def test_emulator_profile() -> None:
    known = public_creator(unique_id="creator_0")
    creator = parse_user_detail(around.user_detail(APP, SESSION, {"uniqueId": "creator_0"}, URLS))
    assert (creator.id, creator.uniqueId, creator.secUid) == (known.id, "creator_0", known.sec_uid)
    assert creator.createTime == known.create_time
    assert creator.privateAccount is False
    assert creator.avatar is not None and "1080x1080" in creator.avatar
    assert ItemAdapter(creator.stats).asdict() == known.counts  # exact, from statsV2
    assert type_problem(creator) is None


def test_emulator_profile_of_nobody() -> None:
    with pytest.raises(NotFound):
        parse_user_detail(around.user_detail(APP, SESSION, {"uniqueId": "no.such.user.x"}, URLS))


def test_emulator_user_info_as_the_capture_has_it() -> None:
    known = CORPUS.creators[3]
    payload = {"statusCode": 0, "userInfo": around.user_info(known, URLS)}
    assert ItemAdapter(parse_user_detail(payload).stats).asdict() == known.counts


def test_emulator_posts_pinned_first_and_an_opaque_cursor() -> None:
    known = next(c for c in CORPUS.creators if not c.private and CORPUS.posts(c.number, around.LATEST)[0])
    answer = around.post_items(APP, SESSION, {"secUid": known.sec_uid, "count": "30", "cursor": "0"}, URLS)
    page = parse_posts(answer)
    assert page.next_token == answer["cursor"]
    assert page.next_cursor is None
    flags = [entry.pinned for entry in page.entries if isinstance(entry, Video)]
    pinned = len(CORPUS.posts(known.number, around.LATEST)[0])
    assert pinned and flags == [True] * pinned + [False] * (len(flags) - pinned)  # pinned ones first
    popular = around.post_items(
        APP,
        SESSION,
        {"secUid": known.sec_uid, "count": "30", "cursor": "0", "post_item_list_request_type": "1"},
        URLS,
    )
    assert parse_posts(popular).next_token == popular["cursor"]


def test_emulator_private_posts() -> None:
    private = next(c for c in CORPUS.creators if c.private)
    with pytest.raises(PrivateContent):
        parse_posts(around.post_items(APP, SESSION, {"secUid": private.sec_uid}, URLS))


def commented_video() -> str:
    """A playable video with more than one page of comments."""
    for index in CORPUS.playable:
        answer = around.comment_list(APP, SESSION, {"aweme_id": CORPUS.item_id(index), "count": "20"}, URLS)
        if answer["has_more"]:
            return CORPUS.item_id(index)
    raise AssertionError("no video with two pages of comments")


def test_emulator_comments_and_replies() -> None:
    video_id = commented_video()
    answer = around.comment_list(APP, SESSION, {"aweme_id": video_id, "count": "20", "cursor": "0"}, URLS)
    page = parse_comment_list(answer)
    comments = comments_of(page.entries)
    assert len(comments) == len(answer["comments"]) <= 20
    assert (page.next_cursor, page.has_more) == (20, True)
    assert page.total == answer["total"]
    assert {comment.videoId for comment in comments} == {video_id}
    for comment in comments:
        assert type_problem(comment) is None
        assert comment.author.avatar is not None
    with_replies = next(c for c in comments if c.replyCount)  # this corpus has one on the first page
    replies = parse_comment_list(
        around.comment_replies(APP, SESSION, {"item_id": video_id, "comment_id": with_replies.id}, URLS)
    )
    assert replies.total == with_replies.replyCount
    assert replies.entries
    assert all(isinstance(reply, Comment) and not reply.images for reply in replies.entries)


def test_emulator_image_only_comments() -> None:
    for index in CORPUS.playable[:200]:
        answer = around.comment_list(APP, SESSION, {"aweme_id": CORPUS.item_id(index), "count": "50"}, URLS)
        for comment in comments_of(parse_comment_list(answer).entries):
            if comment.images:
                assert comment.text == ""
                assert "origin" in comment.images[0]
                return
    pytest.skip("no image-only comment in the first videos")


def test_emulator_comment_errors() -> None:
    with pytest.raises(NotFound):
        parse_comment_list(around.comment_list(APP, SESSION, {"aweme_id": "1"}, URLS))
    with pytest.raises(NotFound):
        parse_comment_list(around.comment_replies(APP, SESSION, {"comment_id": str(COMMENT_BASE - 1)}, URLS))


def test_emulator_sound_and_its_videos() -> None:
    index = CORPUS.playable[0]
    music = CORPUS.item(index, URLS)["music"]
    sound = parse_music_detail(around.music_detail(APP, SESSION, {"musicId": music["id"]}, URLS))
    assert (sound.id, sound.title, sound.authorName) == (music["id"], music["title"], music["authorName"])
    assert (sound.original, sound.duration) == (music["original"], music["duration"])
    assert sound.cover is not None and "1080x1080" in sound.cover
    items = CORPUS.sound_items(music["id"])
    assert items is not None and sound.videoCount == len(items)
    assert type_problem(sound) is None
    feed = around.music_items(APP, SESSION, {"musicID": music["id"], "count": "1", "cursor": "0"}, URLS)
    assert feed["cursor"] == "1"  # an offset sent as a string
    page = parse_feed(feed)
    assert page.next_cursor == 1
    assert page.has_more is (len(items) > 1)
    assert len(page.entries) == 1


def test_music_feed_cursor_string() -> None:
    page = parse_feed({"statusCode": 0, "itemList": [], "cursor": "30", "hasMore": True})
    assert (page.next_cursor, page.has_more) == (30, True)


def test_emulator_related_videos_are_one_page() -> None:
    answer = around.related_items(APP, SESSION, {"itemID": CORPUS.item_id(CORPUS.playable[0])}, URLS)
    page = parse_feed(answer)
    assert page.entries
    assert (page.has_more, page.next_cursor, page.next_token) == (False, None, None)


def test_emulator_user_search() -> None:
    answer = api.search_users(APP, SESSION, {"keyword": "pasta", "count": "5", "cursor": "0"}, URLS)
    page = parse_user_search(answer)
    creators = creators_of(page.entries)
    assert len(creators) == len(answer["user_list"]) > 0
    assert page.next_cursor == answer["cursor"]
    assert page.has_more is bool(answer["has_more"])
    known = {c.id: c for c in CORPUS.creators}
    for creator in creators:
        assert type_problem(creator) is None
        emulated = known[creator.id]
        assert (creator.uniqueId, creator.secUid) == (emulated.unique_id, emulated.sec_uid)
        assert creator.verified is emulated.verified
        assert creator.stats.followingCount is None  # search does not say
        assert creator.stats.followerCount is not None
