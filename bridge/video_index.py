"""What the service remembers of single videos: the ones it answered (``VideoIndex``), so that
``/videos/{id}`` and its play proxy need no crawl, and the ids TikTok had none for (``UnknownVideos``)."""

from __future__ import annotations

import time

from cachetools import LRUCache, TTLCache

from tiktok_spiders.answer_keys import AnsweredVideo

#: what the index may hold: some 10,000 videos of TikTok's (their play addresses are long)
VIDEO_INDEX_BYTES = 16 * 1024 * 1024
#: a stored video's weight beyond its JSON: the object, its id and play address, the index's entry
_ENTRY_OVERHEAD = 400
#: ids TikTok had no video for that are remembered (an id and a shared detail each: some 1 MB in all)
UNKNOWN_VIDEOS = 10_000


def _weight(video: AnsweredVideo) -> int:
    return len(video.body) + len(video.source_url) + _ENTRY_OVERHEAD


class VideoIndex:
    """The videos the service has answered, by id, the most recently answered first kept: their JSON
    and TikTok's play address. Bounded by bytes, not by count, so its memory stays flat however long
    the service runs; an id it no longer holds costs one lookup at TikTok."""

    def __init__(self, max_bytes: int = VIDEO_INDEX_BYTES) -> None:
        self._videos: LRUCache[str, AnsweredVideo] = LRUCache(maxsize=max_bytes, getsizeof=_weight)

    def add_all(self, videos: list[AnsweredVideo]) -> None:
        for video in videos:
            self._videos[video.id] = video

    def get(self, video_id: str) -> AnsweredVideo | None:
        return self._videos.get(video_id)

    def discard(self, video_id: str) -> None:
        self._videos.pop(video_id, None)

    def __len__(self) -> int:
        return len(self._videos)

    @property
    def bytes(self) -> int:
        return int(self._videos.currsize)


class UnknownVideos:
    """The ids TikTok answered 404 for (unknown, private, no playable video), with the answer's detail,
    for ``ttl`` seconds (``CACHE_TTL_HASHTAG``; 0 remembers none), the least recently asked forgotten
    first beyond ``maxsize``: asking again for such an id is answered from memory, not by a crawl."""

    def __init__(self, ttl: float, maxsize: int = UNKNOWN_VIDEOS) -> None:
        self._details: TTLCache[str, str] = TTLCache(maxsize=maxsize, ttl=ttl, timer=time.monotonic)

    def add(self, video_id: str, detail: str) -> None:
        self._details[video_id] = detail

    def get(self, video_id: str) -> str | None:
        return self._details.get(video_id)

    def __len__(self) -> int:
        return len(self._details)
