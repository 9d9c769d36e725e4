"""What TikTok checks before it answers an API call; any failure earns a 200 with an empty body.

In order: a ``ttwid`` cookie naming a live session, an ``msToken`` that some page of this emulator
set, ``X-Bogus`` equal to what that same page's ``frontierSign`` gives for this URL and, when the
"block every API call" mode is on (TikTok 2025's ``X-Gnarly``), an ``X-Gnarly`` that only that page's
private request layer computes.

The msToken and the signatures are not bound to the ``ttwid`` cookie: public clients send an
msToken copied from another browser, or keep their page's msToken after a plain HTTP fetch replaced
their ``ttwid``, and TikTok answers them (emulator/README.md, "msToken and ttwid", has the evidence).
They are bound to each other: a signature counts only under the secrets of the page that set the
msToken it carries.
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
    """(the ``ttwid`` session, "ok") or (None, reason), reason being a stats key under ``api_refused``."""
    session = sessions.get(ttwid)
    if session is None:
        return None, "no_session"
    if not sessions.is_live(session):
        return None, "expired_session"
    signer = sessions.issuer_of(params.get("msToken"))
    if signer is None:
        return None, "bad_ms_token"
    if not hmac.compare_digest(params.get("X-Bogus", ""), signing.sign(signer.secret, url)):
        return None, "bad_x_bogus"
    if require_gnarly and not hmac.compare_digest(
        params.get("X-Gnarly", ""), signing.sign(signer.gnarly_secret, url)
    ):
        return None, "bad_x_gnarly"
    return session, "ok"
