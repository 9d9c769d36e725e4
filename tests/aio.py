"""Running a coroutine from a synchronous test."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(work: Coroutine[Any, Any, T], timeout: float = 30) -> T:
    """``work`` on a fresh event loop, bounded by ``timeout`` seconds, in a thread of its own: once
    Playwright's sync API runs (the session's ``browser`` fixture), the main thread counts as running
    an event loop, and ``asyncio.run`` refuses to start there."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-loop") as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(work, timeout)).result()
