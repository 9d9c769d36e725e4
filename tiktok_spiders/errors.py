"""Typed upstream failures: what TikTok said, never a ``KeyError``.

Callers (the spiders' recovery, the HTTP bridge's error mapping) branch on the class; ``reason`` is a
short stable word for stats and logs. No message ever carries a cookie or token.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping


class UpstreamError(Exception):
    """TikTok answered, but not with what we asked for."""

    reason = "upstream_error"
    #: whether a retry with a fresh session may succeed
    retry_with_new_session = False
    #: whether a plain retry (after a backoff) may succeed
    retryable = True
    #: seconds TikTok asked us to wait (``Retry-After``), where it said
    retry_after: float | None = None
    #: what the TikTok client counted while trying (``api_calls``, ``retries/<reason>``, ...), for the
    #: crawl's ``tiktok/...`` stats
    counts: Mapping[str, int] = MappingProxyType({})

    def __init__(self, detail: str = "", status_code: int | None = None) -> None:
        self.detail = detail or self.reason.replace("_", " ")
        self.status_code = status_code
        super().__init__(self.detail)


class UpstreamBlocked(UpstreamError):
    """TikTok distrusts the session: a 200 with an empty body, or an answer refusing the caller."""

    reason = "blocked"
    retry_with_new_session = True


class SoftFailure(UpstreamBlocked):
    """A 200 that TikTok marked a success but left empty where the answer belongs (a profile with an
    empty ``user``, ``statusCode`` -1): its known way of refusing a session without saying so."""

    reason = "soft_failure"


class LoginRequired(UpstreamError):
    """10102: TikTok serves this only to a logged-in session, which the service never holds."""

    reason = "login_required"
    retryable = False


class CaptchaRequired(UpstreamBlocked):
    """``statusCode`` 10000 (``verifyConfig``): slow down, then retry with a new session."""

    reason = "captcha"


class RateLimited(UpstreamError):
    """HTTP 429 from TikTok."""

    reason = "rate_limited"


class UpstreamUnavailable(UpstreamError):
    """HTTP 5xx, a cut connection or a timeout."""

    reason = "unavailable"


class MalformedPayload(UpstreamError):
    """A body that is not the JSON TikTok's web app gets (HTML, truncated JSON, a wrong shape)."""

    reason = "malformed"


class NotFound(UpstreamError):
    """10202 (video, comment, sound), 10205 (hashtag) or 10221 (user): TikTok knows no such thing."""

    reason = "not_found"
    retryable = False


class PrivateContent(UpstreamError):
    """10216 (private post), 10222 (private account) or 3002060 (a list its owner hid)."""

    reason = "private"
    retryable = False


class RegionBlocked(UpstreamError):
    """10204: blocked for this region or IP (a proxy elsewhere may help)."""

    reason = "region_blocked"
    retryable = False


class InvalidRequest(UpstreamError):
    """10201: TikTok rejected a parameter we sent (a bug on our side, not the caller's)."""

    reason = "invalid_request"
    retryable = False


class PhotoPostOnly(UpstreamError):
    """10239: a photo post that the web API only serves to the mobile page."""

    reason = "photo_post"
    retryable = False


class BrowserFailure(UpstreamError):
    """The service's own browser failed (Chromium, a renderer or the Playwright driver died, or it
    could not be relaunched): not TikTok's doing, so it never counts against TikTok (the circuit
    breaker ignores it). The dead pieces are dropped and relaunched; a retry may succeed."""

    reason = "browser_failed"
    retry_with_new_session = True

    def __init__(self, detail: str = "", retry_after: float | None = None) -> None:
        super().__init__(detail or "the service's browser failed")
        self.retry_after = retry_after


class SessionRetired(UpstreamError):
    """A call in flight on a session that another call retired under it (TikTok distrusted that
    session): neither the browser's failure nor a new word from TikTok. It is retried at once with a
    fresh session; if no attempt is left, the retirement's own error (``cause``) is what is raised."""

    reason = "session_retired"

    def __init__(self, cause: UpstreamError) -> None:
        super().__init__(f"the session was retired under this call ({cause.reason})")
        self.cause = cause


class CircuitOpen(UpstreamError):
    """The service stopped calling TikTok for a cool-down after repeated refusals."""

    reason = "circuit_open"
    retryable = False

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"calls to TikTok paused after repeated failures; retry in {retry_after:.0f} s")
        self.retry_after = retry_after


#: TikTok ``statusCode`` values and the error each means (shared/TIKTOK_PROTOCOL.md, "Answers").
STATUS_CODE_ERRORS: dict[int, type[UpstreamError]] = {
    10000: CaptchaRequired,
    10102: LoginRequired,
    10201: InvalidRequest,
    10202: NotFound,
    10204: RegionBlocked,
    10205: NotFound,
    10216: PrivateContent,
    10221: NotFound,
    10222: PrivateContent,
    10239: PhotoPostOnly,
    3002060: PrivateContent,
}
