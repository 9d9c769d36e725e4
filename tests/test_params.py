"""The shared parameter parsers (tiktok_spiders.params), in process: what the routes and spiders accept."""

from __future__ import annotations

import pytest

from tiktok_spiders.params import COUNT, COUNT_DEFAULT, CURSOR, InvalidParameter


def test_an_absent_count_or_cursor_has_its_default() -> None:
    assert (COUNT.parse(None, False), CURSOR.parse(None, False)) == (COUNT_DEFAULT, 0)


@pytest.mark.parametrize("raw", ["", " ", "\t"])
def test_an_empty_count_or_cursor_is_refused(raw: str) -> None:
    for param in (COUNT, CURSOR):
        with pytest.raises(InvalidParameter) as raised:
            param.parse(raw, False)
        assert (raised.value.name, raised.value.problem) == (param.name, "must not be empty")


def test_spider_arguments_refuse_an_empty_count_too() -> None:
    from tiktok_spiders.spiders.hashtag import HashtagSpider

    with pytest.raises(InvalidParameter, match="count: must not be empty"):
        HashtagSpider.check_arguments({"hashtag": "food", "count": ""})
    with pytest.raises(InvalidParameter, match="cursor: must not be empty"):
        HashtagSpider.check_arguments({"hashtag": "food", "cursor": ""})
