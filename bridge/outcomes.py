"""What one crawl ended with (``CrawlOutcome``: its items and stats) and the problem that means for
the caller. Plain data: the answer policy reads it, the crawl runner (``bridge.crawls``) builds it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bridge import problems
from tiktok_spiders.params import Value

if TYPE_CHECKING:
    from tiktok_spiders.answer_keys import AnsweredVideo

#: what the spiders' ``tiktok/error`` stat says, and the problem the caller gets
_UPSTREAM_PROBLEMS = {
    "blocked": problems.upstream_blocked,
    "captcha": problems.upstream_blocked,
    "region_blocked": problems.upstream_blocked,
    "soft_failure": problems.upstream_blocked,
    "login_required": problems.upstream_blocked,
}


@dataclass
class CrawlOutcome:
    #: the videos among the items (for the video index and the play proxy)
    videos: list[AnsweredVideo]
    stats: dict[str, Any]
    #: every item's JSON object, in the crawl's order (videos' too); None: the videos' alone
    bodies: list[bytes] | None = None

    @property
    def items(self) -> list[bytes]:
        return self.bodies if self.bodies is not None else [video.body for video in self.videos]

    @property
    def error(self) -> str | None:
        error = self.stats.get("tiktok/error")
        return str(error) if error is not None else None

    @property
    def next_cursor(self) -> int | str | None:
        cursor = self.stats.get("tiktok/next_cursor")
        return cursor if isinstance(cursor, (int, str)) and not isinstance(cursor, bool) else None

    def problem(self, subject: str = "hashtag") -> problems.Problem | None:
        """The problem this outcome means for the caller; None when it is an answer."""
        if self.error is None:
            if self.stats.get("finish_reason") != "finished":
                return problems.upstream_error(f"crawl ended early ({self.stats.get('finish_reason')})")
            # A callback that raised is our bug. (Not ``log_count/ERROR``: it counts every ERROR record
            # in the process while the crawl runs, other crawls' and asyncio's included.)
            if any(key.startswith("spider_exceptions/") for key in self.stats) and not self.items:
                return problems.internal_error()
            return None
        if self.error == "internal":
            return problems.internal_error()
        retry_after = self.stats.get("tiktok/retry_after")
        return upstream_problem(
            self.error,
            str(self.stats.get("tiktok/error_detail") or self.error),
            float(retry_after) if isinstance(retry_after, (int, float)) else None,
            subject,
        )


#: runs one spider with its arguments: ``crawl("hashtag", {"hashtag": "food", ...})``
Crawl = Callable[[str, Mapping[str, Value]], Awaitable[CrawlOutcome]]


def upstream_problem(reason: str, detail: str, retry_after: float | None, subject: str) -> problems.Problem:
    """The problem a caller gets for an upstream error (``UpstreamError.reason`` and ``detail``)."""
    if reason == "not_found":
        return problems.not_found(f"TikTok knows no such {subject}")
    if reason == "private":
        return problems.private(f"TikTok shows this {subject}'s content only to approved followers")
    if reason == "circuit_open":
        return problems.circuit_open(retry_after or 1.0)
    if reason == "browser_failed":
        return problems.browser_unavailable(retry_after)
    return _UPSTREAM_PROBLEMS.get(reason, problems.upstream_error)(f"TikTok: {detail}")
