"""Property-based: real items, mangled at random, give a valid Video or a clear drop reason."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itemadapter import ItemAdapter

from tests.captures import all_items
from tiktok_spiders.items import Rejected, Video
from tiktok_spiders.parsing import parse_feed, parse_item
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
    item: Any = json.loads(json.dumps(REAL_ITEMS[index]))
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


def _check(result: Video | Rejected) -> None:
    if isinstance(result, Rejected):
        assert result.reason in DROP_REASONS
        return
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
