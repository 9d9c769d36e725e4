"""What TikTok checks before it answers an API call; any failure earns a 200 with an empty body.

In order: a ``ttwid`` cookie naming a live session, ``msToken`` equal to the one that session's page
set, ``X-Bogus`` equal to what that page's ``frontierSign`` gives for this URL and, when the
"block every API call" mode is on (TikTok 2025's ``X-Gnarly``), an ``X-Gnarly`` that only the page's
private request layer computes.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from emulator import signing

if TYPE_CHECKING:
    from emulator.sessions import Session, SessionStore


def check(
    sessions: SessionStore,
    ttwid: str | None,
    url: str,
    params: dict[str, str],
    *,
    require_gnarly: bool,
) -> tuple[Session | None, str]:
    """(session, "ok") or (None, reason), reason being a stats key under ``api_refused``."""
    session = sessions.get(ttwid)
    if session is None:
        return None, "no_session"
    if not sessions.is_live(session):
        return None, "expired_session"
    if not hmac.compare_digest(params.get("msToken", ""), session.ms_token):
        return None, "bad_ms_token"
    if not hmac.compare_digest(params.get("X-Bogus", ""), signing.sign(session.secret, url)):
        return None, "bad_x_bogus"
    if require_gnarly and not hmac.compare_digest(
        params.get("X-Gnarly", ""), signing.sign(session.gnarly_secret, url)
    ):
        return None, "bad_x_gnarly"
    return session, "ok"
