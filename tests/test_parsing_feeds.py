"""Parsing the captured feeds, search answers and pages into Video objects."""

from __future__ import annotations

import pytest
from itemadapter import ItemAdapter

from tests.captures import capture_json, capture_text, ssr_page
from tiktok_spiders.items import Rejected, Video
from tiktok_spiders.parsing import (
    load_json,
    parse_app_context,
    parse_discover_hashtags,
    parse_feed,
    parse_item,
    parse_item_detail,
    parse_search,
    parse_video_page,
)

DESIGN_KEYS = {
    "id",
    "description",
    "createTime",
    "webUrl",
    "author",
    "stats",
    "hashtags",
    "video",
    "music",
    "pinned",
}


def test_trending_capture_gives_every_video_with_its_metadata() -> None:
    page = parse_feed(capture_json("recommend_item_list_2022-11.json"))
    assert len(page.videos) == 28
    assert page.has_more is True
    assert page.next_cursor is None  # the For You feed has no cursor
    first = page.videos[0]
    assert first.id == "7158770362770099483"
    assert first.createTime == 1666781116
    assert first.webUrl == "https://www.tiktok.com/@zoey._.03.18/video/7158770362770099483"
    assert first.author.nickname == "敏c"
    assert first.stats.playCount == 376700
    assert [h.title for h in first.hashtags] == ["第三隻唉居帳號點主頁連結", "天青色等烟雨而我在等你"]
    assert first.hashtags[1].id == "23210559"
    assert first.video.sourceUrl.startswith("https://v16-webapp.tiktok.com/")
    assert (first.video.width, first.video.height, first.video.duration) == (576, 1024, 13)
    assert first.music is not None and first.music.title == "原聲 - 哈密瓜(15)."
    assert len({video.id for video in page.videos}) == 28


def test_video_serialises_to_the_design_contract() -> None:
    video = parse_feed(capture_json("recommend_item_list_2022-11.json")).videos[0]
    exported = ItemAdapter(video).asdict()
    assert set(exported) == DESIGN_KEYS
    assert set(exported["author"]) == {"id", "uniqueId", "nickname", "avatar", "verified"}
    assert set(exported["stats"]) == {"playCount", "diggCount", "commentCount", "shareCount", "collectCount"}
    assert set(exported["video"]) == {"url", "sourceUrl", "cover", "width", "height", "duration"}
    assert set(exported["music"]) == {"id", "title", "authorName"}
    assert exported["hashtags"][0] == {"id": "7156547590153043994", "title": "第三隻唉居帳號點主頁連結"}


def test_exact_counts_from_stats_v2_beat_rounded_stats() -> None:
    payload = capture_json("recommend_item_list_2024-12_excerpt.jsonc")
    raw = payload["itemList"][0]
    # The excerpt elided its URLs as "..."; give it one so it is playable.
    raw["video"]["playAddr"] = "https://v16-webapp-prime.tiktok.com/video/tos/x/?expire=1734499520"
    video = parse_item(raw)
    assert isinstance(video, Video)
    assert video.stats.playCount == 1585253  # stats says 1600000
    assert video.stats.diggCount == 38884  # stats says 38900
    assert video.stats.collectCount == 3207
    assert [h.title for h in video.hashtags] == ["4살딸", "귀여워"]


def test_excerpt_with_elided_urls_is_dropped_for_no_play_address() -> None:
    page = parse_feed(capture_json("recommend_item_list_2024-12_excerpt.jsonc"))
    assert page.videos == []
    assert page.entries == [Rejected("no_play_address", page.entries[0].id)]


def test_post_feed_cursor_and_string_dimensions() -> None:
    page = parse_feed(capture_json("post_item_list_2025-10.json"))
    assert page.next_cursor == 1758331327601  # a ms timestamp sent as a string
    (video,) = page.videos
    assert video.id == "7513039993741397256"
    assert (video.video.width, video.video.height, video.video.duration) == (576, 1024, 18)
    assert video.stats.diggCount == 68300
    assert [h.title for h in video.hashtags] == ["china", "中国高铁🚅"]


def test_search_answer_keeps_videos_and_rejects_other_entry_types() -> None:
    payload = capture_json("search_general_full_2026-02.json")
    page = parse_search(payload)
    assert page.has_more is True  # has_more is 1
    assert page.next_cursor == 12
    video_entries = [entry for entry in payload["data"] if entry["type"] == 1]
    assert len(page.videos) == len(video_entries)
    assert [entry.reason for entry in page.entries if isinstance(entry, Rejected)] == ["not_a_video"]


def test_universal_data_page_gives_device_id_and_its_ad_is_rejected() -> None:
    state = capture_json("universal_data_video_detail_2025-04.json")
    html = ssr_page(state)
    context = parse_app_context(html)
    assert (context.device_id, context.region) == ("7497448105643329031", "VN")
    assert parse_video_page(html) == Rejected("ad", "7496800151642721543")


def test_universal_data_item_has_string_create_time_and_counts() -> None:
    state = capture_json("universal_data_video_detail_2025-04.json")
    detail = state["__DEFAULT_SCOPE__"]["webapp.video-detail"]
    detail["itemInfo"]["itemStruct"]["isAd"] = False
    video = parse_item_detail(detail)
    assert isinstance(video, Video)
    assert isinstance(video.createTime, int)
    assert video.stats.collectCount == 343  # "343" in both stats and statsV2


def test_legacy_next_data_page() -> None:
    html = capture_text("legacy_next_data_video_page_2020-11.html")
    video = parse_video_page(html)
    assert isinstance(video, Video)
    assert video.id == "6881450806688664838"
    assert video.author.uniqueId == "tiktok" and video.author.verified is True
    assert video.createTime == 1602212662
    assert video.hashtags == []  # its textExtra entries are mentions, not hashtags
    assert parse_app_context(html).device_id == "6875981655523591686"


def test_sigi_state_page_with_flattened_author() -> None:
    raw = capture_json("recommend_item_list_2022-11.json")["itemList"][0]
    author = raw.pop("author")
    raw.update(author=author["uniqueId"], authorId=author["id"], nickname=author["nickname"])
    state = {"AppContext": {"appContext": {"wid": "7000000000000000001"}}, "ItemModule": {raw["id"]: raw}}
    html = ssr_page(state, "SIGI_STATE")
    video = parse_video_page(html)
    assert isinstance(video, Video)
    assert (video.author.uniqueId, video.author.id) == ("zoey._.03.18", "6628475227129610242")
    assert parse_app_context(html).device_id == "7000000000000000001"


def test_discover_lists_trending_hashtags() -> None:
    hashtags = parse_discover_hashtags(capture_json("node_share_discover_2025-04_excerpt.json"))
    assert {"springbreak", "wantitgotit"} <= {h.title for h in hashtags}
    wantitgotit = next(h for h in hashtags if h.title == "wantitgotit")
    assert (wantitgotit.id, wantitgotit.view_count) == ("6906410", 14600000)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda raw: raw.update(isAd=True), "ad"),
        (
            lambda raw: raw.update(
                imagePost={"images": [{"imageURL": {"urlList": ["https://p16.x/1.jpg"]}}]}
            ),
            "photo_post",
        ),
        (lambda raw: raw.update(liveRoomInfo={"roomId": "1"}), "live"),
        (lambda raw: raw.pop("id"), "missing_id"),
        (lambda raw: raw.update(id="not-a-number"), "invalid_id"),
        (lambda raw: raw.update(video={"cover": "https://p16.x/c.jpg"}), "no_play_address"),
    ],
)
def test_unplayable_items_are_rejected_with_a_reason(mutate: object, reason: str) -> None:
    raw = capture_json("recommend_item_list_2022-11.json")["itemList"][0]
    mutate(raw)  # type: ignore[operator]
    result = parse_item(raw)
    assert isinstance(result, Rejected)
    assert result.reason == reason


def test_play_address_falls_back_to_h264_rendition_then_download_address() -> None:
    raw = capture_json("recommend_item_list_2022-11.json")["itemList"][0]
    raw["video"]["playAddr"] = ""
    raw["video"]["bitrateInfo"] = [
        {"CodecType": "h265_hvc1", "PlayAddr": {"UrlList": ["https://v16-webapp.tiktok.com/h265"]}},
        {"CodecType": "h264", "PlayAddr": {"UrlList": ["https://v16-webapp.tiktok.com/h264"]}},
    ]
    video = parse_item(raw)
    assert isinstance(video, Video) and video.video.sourceUrl == "https://v16-webapp.tiktok.com/h264"
    raw["video"]["bitrateInfo"] = []
    raw["video"]["downloadAddr"] = "https://v16-webapp.tiktok.com/download"
    video = parse_item(raw)
    assert isinstance(video, Video) and video.video.sourceUrl == "https://v16-webapp.tiktok.com/download"


def test_hashtags_fall_back_to_text_extra_then_contents() -> None:
    raw = capture_json("post_item_list_2025-10.json")["itemList"][0]
    raw.pop("challenges")
    video = parse_item(raw)
    assert isinstance(video, Video) and [h.title for h in video.hashtags] == ["china", "中国高铁🚅"]
    assert video.hashtags[0].id is None  # this textExtra carries no hashtagId
    raw.pop("textExtra")
    video = parse_item(raw)
    assert isinstance(video, Video) and [h.title for h in video.hashtags] == ["china", "中国高铁🚅"]


def test_empty_feed_page_has_no_item_list() -> None:
    page = parse_feed(load_json(b'{"statusCode": 0, "hasMore": false, "cursor": "0"}'))
    assert (page.entries, page.has_more, page.next_cursor) == ([], False, 0)
