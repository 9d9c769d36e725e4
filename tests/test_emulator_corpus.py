"""The corpus: deterministic, and every item shape of the captures is represented."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from emulator import signing
from emulator.corpus import HASHTAGS, Corpus, Kind, Urls
from tests.items import is_playable

URLS = Urls("http://127.0.0.1:8900", 1_900_000_000)


def _items(corpus: Corpus, n: int = 3000) -> list[dict[str, Any]]:
    return [corpus.item(i, URLS) for i in range(0, corpus.feed_items, corpus.feed_items // n)]


def test_same_seed_same_corpus() -> None:
    a, b = Corpus(1), Corpus(1)
    assert [t.feed for t in a.hashtags] == [t.feed for t in b.hashtags]
    assert json.dumps(a.item(123, URLS)) == json.dumps(b.item(123, URLS))
    assert a.trending_page("s", 0, [], 30) == b.trending_page("s", 0, [], 30)
    assert Corpus(2).item_id(5) != a.item_id(5)


def test_thousands_of_items_across_many_hashtags() -> None:
    corpus = Corpus(1)
    assert corpus.size > 10_000
    assert len(corpus.hashtags) >= 20
    titles = {t for t, _ in HASHTAGS}
    assert {"food", "美食", "café", "funny", "cats"} <= titles
    assert any(len(t.feed) < 30 for t in corpus.hashtags)
    assert any(len(t.feed) > 1000 for t in corpus.hashtags)


def test_item_ids_round_trip() -> None:
    corpus = Corpus(1)
    for index in (0, 1, 999, corpus.size - 1):
        assert corpus.index_of(corpus.item_id(index)) == index
    assert corpus.index_of(corpus.item_id(corpus.size)) is None
    assert corpus.index_of("123") is None


def test_every_shape_variant_occurs() -> None:
    items = _items(Corpus(1))
    seen: Counter[str] = Counter()
    for item in items:
        video = item.get("video", {})
        seen["ad"] += bool(item.get("isAd"))
        seen["photo"] += "imagePost" in item
        seen["live"] += "liveRoomInfo" in item
        seen["no_video"] += "video" not in item
        seen["string_createTime"] += isinstance(item["createTime"], str)
        seen["stats_and_statsV2"] += "stats" in item and "statsV2" in item
        seen["stats_only"] += "stats" in item and "statsV2" not in item
        seen["statsV2_only"] += "stats" not in item
        seen["challenges"] += "challenges" in item
        seen["textExtra_only"] += "textExtra" in item and "challenges" not in item
        seen["contents_only"] += "contents" in item
        seen["playAddr"] += bool(video.get("playAddr"))
        seen["bitrateInfo_only"] += "bitrateInfo" in video and "playAddr" not in video
        seen["downloadAddr_only"] += bool(video.get("downloadAddr")) and "bitrateInfo" not in video
        seen["no_play_addr"] += bool(video) and not any(
            video.get(k) for k in ("playAddr", "downloadAddr", "bitrateInfo")
        )
        seen["no_music"] += "music" not in item
        seen["no_nickname"] += "nickname" not in item["author"]
        seen["empty_desc"] += item["desc"] == ""
        text = item["desc"]
        seen["cjk"] += any("\u4e00" <= ch <= "\u9fff" for ch in text)
        seen["rtl"] += any("\u0590" <= ch <= "\u06ff" for ch in text)
        seen["emoji"] += any(ord(ch) >= 0x1F300 for ch in text)
    for shape, count in seen.items():
        assert count > 0, shape


def test_rounded_stats_beside_exact_stats_v2() -> None:
    items = [i for i in _items(Corpus(1)) if "stats" in i and "statsV2" in i]
    rounded = [i for i in items if int(i["statsV2"]["playCount"]) != i["stats"]["playCount"]]
    assert rounded
    for item in rounded:
        exact = int(item["statsV2"]["playCount"])
        assert abs(exact - item["stats"]["playCount"]) <= exact * 0.01


def test_trending_pages_are_mostly_playable_and_repeat() -> None:
    corpus = Corpus(1)
    previous: list[int] = []
    for call in range(20):
        page = corpus.trending_page("session", call, previous, 30)
        assert len(page) == len(set(page)) == 30
        assert sum(corpus.kinds[i] is not Kind.VIDEO for i in page) == 3
        assert sum(is_playable(corpus.item(i, URLS)) for i in page) >= 27
        if call:
            assert len(set(previous) & set(page)) == 2
        previous = page


def test_signing_binds_every_parameter() -> None:
    url = "http://h/api/x/?a=1&b=2"
    assert signing.sign("s", url) == signing.sign("s", "http://other/api/x/?b=2&a=1")
    assert signing.sign("s", url) == signing.sign("s", url + "&X-Bogus=zz&X-Gnarly=yy")
    assert signing.sign("s", url) != signing.sign("s", "http://h/api/x/?a=1&b=3")
    assert signing.sign("s", url) != signing.sign("s", "http://h/api/y/?a=1&b=2")
    assert signing.sign("s", url) != signing.sign("t", url)
    assert len(signing.sign("s", url)) == 16
