"""The shared parameter parsers (tiktok_spiders.params), in process: what the routes and spiders accept."""

from __future__ import annotations

import pytest

from tiktok_spiders.params import COUNT_DEFAULT, InvalidParameter, parse_count, parse_cursor


def test_an_absent_count_or_cursor_has_its_default() -> None:
    assert (parse_count(None), parse_cursor(None)) == (COUNT_DEFAULT, 0)


@pytest.mark.parametrize("raw", ["", " ", "\t"])
def test_an_empty_count_or_cursor_is_refused(raw: str) -> None:
    for parse, name in ((parse_count, "count"), (parse_cursor, "cursor")):
        with pytest.raises(InvalidParameter) as raised:
            parse(raw)
        assert (raised.value.name, raised.value.problem) == (name, "must not be empty")


def test_spider_arguments_refuse_an_empty_count_too() -> None:
    from tiktok_spiders.spiders.hashtag import HashtagSpider

    with pytest.raises(InvalidParameter, match="count: must not be empty"):
        HashtagSpider.check_arguments({"hashtag": "food", "count": ""})
    with pytest.raises(InvalidParameter, match="cursor: must not be empty"):
        HashtagSpider.check_arguments({"hashtag": "food", "cursor": ""})
