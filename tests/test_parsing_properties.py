"""Property-based: real items, mangled at random, give a valid Video (Comment, Creator, Sound) or a
clear drop reason; real envelopes, mangled, parse or raise an ``UpstreamError``, nothing else."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itemadapter import ItemAdapter

from tests.captures import all_items, capture_json
from tiktok_spiders.errors import UpstreamError
from tiktok_spiders.items import AnswerItem, Comment, Creator, Rejected, Sound, Video
from tiktok_spiders.parsing import (
    parse_comment,
    parse_comment_list,
    parse_feed,
    parse_item,
    parse_music_detail,
    parse_posts,
    parse_user_detail,
    parse_user_search,
)
from tiktok_spiders.pipelines import type_problem

REAL_ITEMS = all_items()
DROP_REASONS = {"malformed_item", "missing_id", "invalid_id", "ad", "photo_post", "live", "no_play_address"}

Path = tuple[str | int, ...]


def _paths(value: Any, prefix: Path = (), depth: int = 0) -> list[Path]:
    found: list[Path] = []
    if depth > 5:
        return found
    children: Any = (
        value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    )
    for key, child in children:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key), depth + 1))
    return found


ITEM_PATHS = [(index, _paths(item)) for index, item in enumerate(REAL_ITEMS)]

odd_text = st.sampled_from(
    [
        "",
        "\x00",
        "\ud800",  # a lone surrogate: valid in a Python str, not encodable as UTF-8
        "\u202eRTL override",
        "مرحبا بالعالم",
        "👩‍👩‍👧‍👦🏳️‍🌈",
        "e\u0301" * 50,
        "美食" * 1000,
        "https://",
        "http://x y",
        "1e309",
        "-1",
        "00000",
        "99999999999999999999999",
    ]
)
wrong_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    odd_text,
    st.text(max_size=20),
    st.just([]),
    st.just({}),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.none(), max_size=2),
)


@st.composite
def mangled_items(draw: st.DrawFn) -> Any:
    index, paths = draw(st.sampled_from(ITEM_PATHS))
    return mangle(draw, REAL_ITEMS[index], paths)


def mangle(draw: st.DrawFn, original: Any, paths: list[Path]) -> Any:
    """A copy of ``original`` with one to six of its values removed or replaced by odd ones."""
    item: Any = json.loads(json.dumps(original))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        path = draw(st.sampled_from(paths))
        parent: Any = item
        try:
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(wrong_values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    return item


def _check(result: AnswerItem | Rejected) -> None:
    if isinstance(result, Rejected):
        assert result.reason in DROP_REASONS
        return
    assert isinstance(result, Video)
    assert type_problem(result) is None
    assert result.id.isdigit()
    assert result.video.sourceUrl.startswith(("https://", "http://"))
    for count in ItemAdapter(result.stats).values():
        assert count is None or 0 <= count < 2**63
    json.dumps(ItemAdapter(result).asdict(), ensure_ascii=False).encode("utf-8")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled_items())
def test_mangled_items_parse_to_a_video_or_a_reason(raw: Any) -> None:
    _check(parse_item(raw))


@given(wrong_values)
def test_anything_at_all_as_an_item(raw: Any) -> None:
    _check(parse_item(raw))


@settings(max_examples=100, deadline=None)
@given(st.lists(mangled_items() | wrong_values, max_size=5), wrong_values, wrong_values)
def test_mangled_feed_envelopes(items: list[Any], has_more: Any, cursor: Any) -> None:
    page = parse_feed({"statusCode": 0, "itemList": items, "hasMore": has_more, "cursor": cursor})
    assert len(page.entries) == len(items)
    assert isinstance(page.has_more, bool)
    assert page.next_cursor is None or page.next_cursor >= 0
    for entry in page.entries:
        _check(entry)


def test_every_real_item_parses() -> None:
    for raw in REAL_ITEMS:
        _check(parse_item(raw))


# --- the answers around a video -----------------------------------------------------------------

ENVELOPES: dict[str, tuple[Any, Any]] = {
    "user_detail_2025-10.json": (parse_user_detail, capture_json("user_detail_2025-10.json")),
    "post_item_list_2025-10.json": (parse_posts, capture_json("post_item_list_2025-10.json")),
    "post_item_list_popular_2025-10.json": (parse_posts, capture_json("post_item_list_popular_2025-10.json")),
    "comment_list_2026-02.json": (parse_comment_list, capture_json("comment_list_2026-02.json")),
    "user_search": (
        parse_user_search,
        {
            "status_code": 0,
            "cursor": 10,
            "has_more": 1,
            "user_list": [
                user
                for entry in capture_json("search_general_full_2026-02.json")["data"]
                if entry.get("type") == 4
                for user in entry["user_list"]
            ],
        },
    ),
    "music_detail": (
        parse_music_detail,
        {
            "statusCode": 0,
            "musicInfo": {
                "music": {
                    "id": "7016547803243022337",
                    "title": "original sound",
                    "authorName": "user",
                    "coverLarge": "https://p16-sign-va.tiktokcdn.com/music.jpeg",
                    "duration": 15,
                    "original": True,
                },
                "stats": {"videoCount": 1200},
                "statsV2": {"videoCount": "1234"},
            },
        },
    ),
}
ENVELOPE_PATHS = [(name, _paths(payload)) for name, (_, payload) in ENVELOPES.items()]
REAL_COMMENTS: list[Any] = capture_json("comment_list_2026-02.json")["comments"]
COMMENT_PATHS = [(index, _paths(raw)) for index, raw in enumerate(REAL_COMMENTS)]
AROUND_REASONS = {"malformed_item", "missing_id", "invalid_id", "missing_unique_id"}
json_values = st.recursive(
    wrong_values,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
)


def _check_around(result: object) -> None:
    """An item of the contract's types, text that encodes to UTF-8, counts that fit, or a drop reason."""
    if isinstance(result, Rejected):
        assert result.reason in AROUND_REASONS | DROP_REASONS
        return
    if isinstance(result, Video):
        _check(result)
        return
    assert isinstance(result, Comment | Creator | Sound)
    assert type_problem(result) is None
    assert result.id.isdigit()
    json.dumps(ItemAdapter(result).asdict(), ensure_ascii=False).encode("utf-8")


def _parse_envelope(parse: Any, payload: Any) -> None:
    try:
        result = parse(payload)
    except UpstreamError:
        return
    _check_parsed(result)


def _check_parsed(result: Any) -> None:
    if isinstance(result, Comment | Creator | Sound):
        _check_around(result)
        return
    assert isinstance(result.has_more, bool)
    assert result.next_cursor is None or result.next_cursor >= 0
    assert result.next_token is None or (isinstance(result.next_token, str) and result.next_token)
    for entry in result.entries:
        _check_around(entry)


@st.composite
def mangled_comments(draw: st.DrawFn) -> Any:
    index, paths = draw(st.sampled_from(COMMENT_PATHS))
    return mangle(draw, REAL_COMMENTS[index], paths)


@st.composite
def mangled_envelopes(draw: st.DrawFn) -> tuple[Any, Any]:
    name, paths = draw(st.sampled_from(ENVELOPE_PATHS))
    parse, payload = ENVELOPES[name]
    return parse, mangle(draw, payload, paths)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled_comments() | wrong_values)
def test_mangled_comments_parse_to_a_comment_or_a_reason(raw: Any) -> None:
    _check_around(parse_comment(raw))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled_envelopes())
def test_mangled_envelopes_around_a_video_parse_or_raise_an_upstream_error(case: tuple[Any, Any]) -> None:
    _parse_envelope(*case)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from([parse for parse, _ in ENVELOPES.values()]),
    st.dictionaries(
        st.sampled_from(
            [
                "statusCode",
                "status_code",
                "userInfo",
                "itemList",
                "comments",
                "cursor",
                "has_more",
                "hasMore",
                "total",
                "musicInfo",
                "user_list",
            ]
        ),
        json_values,
        max_size=4,
    ),
)
def test_anything_at_all_as_an_envelope_around_a_video(parse: Any, payload: dict[str, Any]) -> None:
    _parse_envelope(parse, payload)


def test_every_real_envelope_around_a_video_parses() -> None:
    for parse, payload in ENVELOPES.values():
        _check_parsed(parse(json.loads(json.dumps(payload))))
