"""The answer cache in front of the crawls: fresh for a TTL per route, then stale for
``CACHE_STALE_MAX`` more seconds (served only when TikTok fails), and single-flight so that
concurrent identical misses share one crawl.

``AnswerCache`` is the interface a backend implements; ``MemoryCache`` (``CACHE_URL=memory://``)
keeps answers in this process with ``cachetools``. With ``CACHE_URL=redis://...``,
``bridge.cache_redis.RedisCache`` (loaded only then) shares answers and single-flight locks between
instances in front of the memory cache; its lookups are asynchronous.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from cachetools import TLRUCache

from tiktok_spiders.answer_keys import etag_of

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable


class CacheState(StrEnum):
    """Where an answer came from, as ``X-Cache`` says it."""

    HIT = "HIT"  # fresh from the cache
    MISS = "MISS"  # crawled for this request (or for one that came at the same time)
    STALE = "STALE"  # past its TTL, served because TikTok failed or the crawls are all busy


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """A successful answer as it was sent: the JSON body and what its headers need."""

    body: bytes
    etag: str
    stored_at: float
    ttl: float
    next_cursor: int | str | None = None

    @classmethod
    def build(cls, body: bytes, ttl: float, next_cursor: int | str | None = None) -> CachedAnswer:
        return cls(body, etag_of(body), time.monotonic(), ttl, next_cursor)

    def age(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.stored_at

    def fresh(self, now: float | None = None) -> bool:
        return self.age(now) < self.ttl


class AnswerCache(Protocol):
    backend: str

    def lookup(self, key: str) -> CachedAnswer | None:
        """The answer under ``key``, fresh or stale, or None once it is past its stale window."""

    def store(self, key: str, answer: CachedAnswer) -> None: ...

    def __len__(self) -> int: ...


class SharedCache(Protocol):
    """A cache other instances share (``bridge.cache_redis.RedisCache``): asynchronous, and with a
    lock so that one instance crawls a key while the others wait for its answer."""

    async def lookup(self, key: str) -> CachedAnswer | None: ...

    async def store(self, key: str, answer: CachedAnswer) -> None: ...

    async def exclusive(self, key: str, work: Callable[[], Awaitable[CachedAnswer]]) -> CachedAnswer: ...


class MemoryCache:
    backend = "memory"

    def __init__(self, stale_max: float, maxsize: int = 10_000) -> None:
        self.stale_max = stale_max
        self._answers: TLRUCache[str, CachedAnswer] = TLRUCache(
            maxsize=maxsize, ttu=self._expires_at, timer=time.monotonic
        )

    def _expires_at(self, _key: str, answer: CachedAnswer, now: float) -> float:
        return now + answer.ttl + self.stale_max

    def lookup(self, key: str) -> CachedAnswer | None:
        return self._answers.get(key)

    def store(self, key: str, answer: CachedAnswer) -> None:
        self._answers[key] = answer

    def __len__(self) -> int:
        return len(self._answers)


class SingleFlight:
    """At most one ``work()`` per key at a time; later callers for the same key await the first."""

    def __init__(self) -> None:
        self._flights: dict[str, asyncio.Future[CachedAnswer]] = {}
        #: flights started, and callers that joined one already in flight (for /metrics)
        self.started = 0
        self.joins = 0

    def __len__(self) -> int:
        return len(self._flights)

    def __contains__(self, key: str) -> bool:
        return key in self._flights

    async def run(self, key: str, work: Callable[[], Awaitable[CachedAnswer]]) -> CachedAnswer:
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(work())
            self._flights[key] = flight
            flight.add_done_callback(lambda _done: self._flights.pop(key, None))
            self.started += 1
        else:
            self.joins += 1
        # A caller that goes away must not cancel the crawl the others wait for.
        return await asyncio.shield(flight)
