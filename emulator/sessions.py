"""Sessions: what one visit to a page issues (cookies, msToken, device id, signing secrets).

A session is keyed by its ``ttwid`` cookie and can also be found by the ``msToken`` its page set. Its
two secrets exist only here and in the script of the pages served to it, so a signature is only valid
if that page computed it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.clock import Clock


@dataclass
class Session:
    ttwid: str
    chain_token: str
    ms_token: str
    device_id: str
    secret: str
    gnarly_secret: str
    created: float
    expires: float
    trending_calls: int = 0
    last_trending: list[int] = field(default_factory=list)


class SessionStore:
    def __init__(self, clock: Clock, ttl: float) -> None:
        self.clock = clock
        self.ttl = ttl
        self._by_ttwid: dict[str, Session] = {}
        # The page that set an msToken is the page that signs with it (see defences.py).
        self._by_ms_token: dict[str, Session] = {}
        # Play URLs outlive the session that fetched them (they carry their own expiry), so the CDN
        # accepts any chain token this emulator ever issued.
        self._chain_tokens: set[str] = set()

    def open(self) -> Session:
        now = self.clock.now()
        self._forget_long_dead(now)
        session = Session(
            ttwid="1%7C" + secrets.token_urlsafe(32),
            chain_token=secrets.token_urlsafe(24),
            ms_token=secrets.token_urlsafe(108),
            device_id=str(7_000_000_000_000_000_000 + secrets.randbelow(10**18)),
            secret=secrets.token_hex(16),
            gnarly_secret=secrets.token_hex(16),
            created=now,
            expires=now + self.ttl,
        )
        self._by_ttwid[session.ttwid] = session
        self._by_ms_token[session.ms_token] = session
        self._chain_tokens.add(session.chain_token)
        return session

    def issued_secrets(self) -> list[str]:
        """Cookie values and tokens of the sessions still remembered (for leak tests)."""
        return [
            value
            for session in self._by_ttwid.values()
            for value in (session.ttwid, session.chain_token, session.ms_token, session.secret)
        ]

    def get(self, ttwid: str | None) -> Session | None:
        """The session for this cookie value, live or expired; None if never issued."""
        if not ttwid:
            return None
        return self._by_ttwid.get(ttwid)

    def issuer_of(self, ms_token: str | None) -> Session | None:
        """The session whose page set this msToken, live or expired; None if never issued."""
        if not ms_token:
            return None
        return self._by_ms_token.get(ms_token)

    def is_live(self, session: Session) -> bool:
        return self.clock.now() < session.expires

    def live(self, ttwid: str | None) -> Session | None:
        session = self.get(ttwid)
        return session if session is not None and self.is_live(session) else None

    def knows_chain_token(self, token: str | None) -> bool:
        return bool(token) and token in self._chain_tokens

    def expire_all(self) -> int:
        now = self.clock.now()
        count = 0
        for session in self._by_ttwid.values():
            if session.expires > now:
                session.expires = now
                count += 1
        return count

    def live_count(self) -> int:
        return sum(1 for session in self._by_ttwid.values() if self.is_live(session))

    def _forget_long_dead(self, now: float) -> None:
        # Bounded memory under benchmarks that open many sessions; an expired session is still
        # remembered for one more TTL so refusals can say "expired" rather than "unknown".
        if len(self._by_ttwid) < 1000:
            return
        horizon = now - self.ttl
        for key in [k for k, s in self._by_ttwid.items() if s.expires < horizon]:
            del self._by_ms_token[self._by_ttwid.pop(key).ms_token]
