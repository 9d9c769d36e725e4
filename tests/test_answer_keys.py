"""How a video is written into answers: the contract's JSON object, the play link, the feed body."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import HealthCheck, given, settings

from tests.captures import all_items
from tests.test_parsing_properties import mangled_items
from tiktok_spiders.answer_keys import BASE_PLACEHOLDER, answered_video, feed_body
from tiktok_spiders.items import Video
from tiktok_spiders.parsing import parse_item

REAL_VIDEOS = [video for video in map(parse_item, all_items()) if isinstance(video, Video)]


def expected_object(video: Video) -> dict[str, Any]:
    """Every field of the dataclass, in order, with the play link in ``video.url``."""
    expected = dataclasses.asdict(video)
    expected["video"]["url"] = f"{BASE_PLACEHOLDER}/videos/{video.id}/play"
    return expected


def check(video: Video) -> None:
    answered = answered_video(video)
    written = json.loads(answered.body)
    assert written == expected_object(video)
    assert list(written) == [field.name for field in dataclasses.fields(Video)]  # the contract's order
    assert (answered.id, answered.source_url) == (video.id, video.video.sourceUrl)


def test_every_real_video_is_written_with_every_field() -> None:
    assert len(REAL_VIDEOS) >= 30
    for video in REAL_VIDEOS:
        check(video)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled_items())
def test_mangled_videos_are_written_with_every_field(raw: Any) -> None:
    video = parse_item(raw)
    if isinstance(video, Video):
        check(video)


def test_feed_body_is_the_json_array_of_the_videos() -> None:
    videos = [answered_video(video) for video in REAL_VIDEOS[:30]]
    assert json.loads(feed_body(videos)) == [expected_object(video) for video in REAL_VIDEOS[:30]]
    assert json.loads(feed_body([])) == []
