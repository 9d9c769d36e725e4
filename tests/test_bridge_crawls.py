"""What each bridge crawl is built from: settings copied cheaply but faithfully, the video index."""

from __future__ import annotations

from scrapy.settings import Settings

from bridge.crawls import QuickCopySettings
from bridge.video_index import VideoIndex
from tiktok_spiders.answer_keys import AnsweredVideo


def project_settings() -> Settings:
    settings = Settings()
    settings.setmodule("settings.crawl", priority="project")
    settings.setdict({"LOG_FILE": None, "STATS_DUMP": False}, priority="cmdline")
    return settings


def test_quick_copies_have_every_value_at_its_priority() -> None:
    original = project_settings()
    copied = QuickCopySettings.of(original).copy()
    assert isinstance(copied, QuickCopySettings)  # the crawler's own copies stay quick too
    assert dict(copied) == dict(original)
    for name in original:
        assert copied.getpriority(name) == original.getpriority(name), name
    assert copied.getdict("ITEM_PIPELINES") == original.getdict("ITEM_PIPELINES")


def test_quick_copies_are_independent() -> None:
    base = QuickCopySettings.of(project_settings())
    copied = base.copy()
    copied.set("TIKTOK_MAX_PAGES", 7, priority="spider")
    copied["DOWNLOADER_MIDDLEWARES"]["example.Middleware"] = 1
    copied.freeze()
    assert base.getint("TIKTOK_MAX_PAGES") == 0
    assert "example.Middleware" not in base.getdict("DOWNLOADER_MIDDLEWARES")
    assert not base.frozen


def video(number: int, body_bytes: int = 1000) -> AnsweredVideo:
    video_id = str(7_000_000_000_000_000_000 + number)
    return AnsweredVideo(video_id, f"https://v16-webapp.tiktok.com/{video_id}.mp4", b"x" * body_bytes)


def test_the_video_index_is_bounded_by_bytes_and_keeps_the_latest() -> None:
    index = VideoIndex(max_bytes=200_000)
    for number in range(1000):
        index.add_all([video(number)])
        assert index.bytes <= 200_000
    held = len(index)
    assert 100 < held < 200  # ~1.4 KB each with the entry's overhead
    assert index.get(video(999).id) == video(999)
    assert index.get(video(0).id) is None  # the oldest went first
    # A video answered again counts as recent: it stays while newer ones push others out.
    index.add_all([video(900)])
    index.add_all([video(2000 + number) for number in range(held - 1)])
    assert index.get(video(900).id) is not None
    assert index.get(video(901).id) is None
