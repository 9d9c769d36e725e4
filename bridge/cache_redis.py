"""The shared answer cache (``CACHE_URL=redis://host:port/db``): several bridge instances, and the
scheduled crawls' cache-warming pipeline, read and write the same answers.

- Answers are stored under ``tfs:answer:<key>`` (the keys and the stored form are
  ``tiktok_spiders.answer_keys``'), expiring in Redis after their TTL plus ``CACHE_STALE_MAX``.
- Single-flight across instances: the instance that misses first takes ``tfs:lock:<key>``
  (``SET NX PX``, expiring after ``lock_ttl`` seconds, so a crashed instance never holds it for good) and
  crawls; the others poll for its answer while the lock lives, then crawl themselves if none came.
- When Redis fails, everything falls back to the in-process ``MemoryCache`` (every answer is written
  there too) with one warning (``bridge.degrade``), and is tried again a few seconds later.

Loaded only when ``CACHE_URL`` names Redis: the default path never imports ``redis``.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from bridge.cache import CachedAnswer
from tiktok_spiders.answer_keys import LOCK_PREFIX, SHARED_PREFIX, StoredAnswer, decode_stored, encode_stored

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bridge.cache import AnswerCache
    from bridge.degrade import RedisHealth

#: seconds one Redis command may take before the service falls back to memory
REDIS_TIMEOUT = 1.0
#: seconds between two looks for the answer another instance is fetching
POLL_INTERVAL = 0.05
#: deletes the lock only if it is still ours (it may have expired and been taken by another instance)
_RELEASE = """
if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end
return 0
"""
_ERRORS = (RedisError, OSError)


class RedisCache:
    backend = "redis"

    def __init__(
        self, url: str, local: AnswerCache, stale_max: float, lock_ttl: float, health: RedisHealth
    ) -> None:
        self.client = aioredis.Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
        )
        self.local = local
        self.stale_max = stale_max
        self.lock_ttl = lock_ttl
        self.health = health

    async def lookup(self, key: str) -> CachedAnswer | None:
        """The answer under ``key``, fresh or stale; from memory while Redis is unreachable."""
        if not self.health.worth_trying:
            return self.local.lookup(key)
        try:
            raw = await self.client.get(SHARED_PREFIX + key)
        except _ERRORS as error:
            self.health.failed(error)
            return self.local.lookup(key)
        self.health.succeeded()
        stored = decode_stored(raw) if isinstance(raw, bytes) else None
        if stored is None:
            return None
        age = max(0.0, time.time() - stored.stored_at)
        if age >= stored.ttl + self.stale_max:
            return None
        # The memory cache's answers count age on the monotonic clock; so does this one from now on.
        return CachedAnswer(stored.body, stored.etag, time.monotonic() - age, stored.ttl, stored.next_cursor)

    async def store(self, key: str, answer: CachedAnswer) -> None:
        self.local.store(key, answer)
        if not self.health.worth_trying:
            return
        stored = StoredAnswer(
            answer.body, answer.etag, time.time() - answer.age(), answer.ttl, answer.next_cursor
        )
        expires = max(1, math.ceil(answer.ttl + self.stale_max))
        try:
            await self.client.set(SHARED_PREFIX + key, encode_stored(stored), ex=expires)
        except _ERRORS as error:
            self.health.failed(error)
        else:
            self.health.succeeded()

    async def exclusive(self, key: str, work: Callable[[], Awaitable[CachedAnswer]]) -> CachedAnswer:
        """``work()`` (which stores its answer), unless another instance is already doing it for
        ``key``: then its answer, once stored."""
        if not self.health.worth_trying:
            return await work()
        lock, token = LOCK_PREFIX + key, secrets.token_hex(8)
        try:
            acquired = await self.client.set(lock, token, nx=True, px=max(1, int(self.lock_ttl * 1000)))
        except _ERRORS as error:
            self.health.failed(error)
            return await work()
        if acquired:
            try:
                return await work()
            finally:
                await self._release(lock, token)
        answer = await self._wait_for_other(key, lock)
        return answer if answer is not None else await work()

    async def _wait_for_other(self, key: str, lock: str) -> CachedAnswer | None:
        deadline = time.monotonic() + self.lock_ttl
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL_INTERVAL)
            answer = await self.lookup(key)
            if answer is not None and answer.fresh():
                return answer
            try:
                if not await self.client.exists(lock):
                    # It finished without a cacheable answer (or died): look once more, then crawl.
                    answer = await self.lookup(key)
                    return answer if answer is not None and answer.fresh() else None
            except _ERRORS as error:
                self.health.failed(error)
                return None
        return None

    async def _release(self, lock: str, token: str) -> None:
        try:
            await self.client.eval(_RELEASE, 1, lock, token)
        except _ERRORS as error:
            self.health.failed(error)  # the lock expires by itself

    def __len__(self) -> int:
        return len(self.local)
