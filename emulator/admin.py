"""The loopback-only admin API under ``/__emulator__/``.

- ``GET  /__emulator__/stats``            counters (see ``stats.Stats.snapshot``)
- ``POST /__emulator__/stats/reset``      zero them
- ``GET  /__emulator__/faults``           the live fault configuration
- ``POST /__emulator__/faults``           replace it (JSON object, ``{}`` clears; 400 on a bad key)
- ``GET|POST /__emulator__/clock``        ``{"offset_s": N}``: shift the emulator's clock (expiry tests)
- ``POST /__emulator__/sessions/expire``  expire every live session now
- ``POST /__emulator__/reset``            faults, counters and clock back to their start values
- ``GET  /__emulator__/corpus``           hashtags, item counts and ids worth knowing in tests
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from emulator import webutil
from emulator.creators import PRIVATE_ACCOUNTS
from emulator.faults import FaultConfig
from emulator.sounds import SHARED_SOUNDS, SharedSound

if TYPE_CHECKING:
    from twisted.web.server import Request

    from emulator.app import App

PREFIX = "/__emulator__"


class Admin(webutil.Leaf):
    def __init__(self, app: App, initial_faults: FaultConfig) -> None:
        super().__init__()
        self.app = app
        self.initial_faults = initial_faults

    def render(self, request: Request) -> bytes:
        if not webutil.is_loopback(request):
            return self._answer(request, 403, {"error": "admin API is loopback-only"})
        sub = webutil.path(request).removeprefix(PREFIX).rstrip("/") or "/"
        method = (request.method or b"GET").decode()
        handler = getattr(self, f"_{method.lower()}_{sub.strip('/').replace('/', '_')}", None)
        if handler is None:
            return self._answer(request, 404, {"error": f"no admin route {method} {sub}"})
        try:
            status, payload = handler(request)
        except ValueError as error:
            return self._answer(request, 400, {"error": str(error)})
        return self._answer(request, status, payload)

    @staticmethod
    def _answer(request: Request, status: int, payload: Any) -> bytes:
        webutil.set_status(request, status)
        webutil.set_header(request, "content-type", "application/json; charset=utf-8")
        webutil.set_header(request, "cache-control", "no-store")
        return webutil.json_bytes(payload)

    @staticmethod
    def _json_body(request: Request) -> Any:
        raw = request.content.read() if request.content else b""
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except json.JSONDecodeError as error:
            raise ValueError(f"body is not JSON: {error}") from error

    # --- routes: _<method>_<path> ------------------------------------------------------------

    def _get_stats(self, request: Request) -> tuple[int, Any]:
        return 200, self.app.stats.snapshot() | {"live_sessions": self._live_sessions()}

    def _post_stats_reset(self, request: Request) -> tuple[int, Any]:
        self.app.stats.reset()
        return 200, self.app.stats.snapshot()

    def _get_faults(self, request: Request) -> tuple[int, Any]:
        return 200, self.app.faults.config.to_json()

    def _post_faults(self, request: Request) -> tuple[int, Any]:
        self.app.configure_faults(FaultConfig.from_json(self._json_body(request)))
        return 200, self.app.faults.config.to_json()

    def _get_clock(self, request: Request) -> tuple[int, Any]:
        return 200, {"offset_s": self.app.clock.offset, "now": self.app.clock.now()}

    def _post_clock(self, request: Request) -> tuple[int, Any]:
        body = self._json_body(request)
        offset = body.get("offset_s") if isinstance(body, dict) else None
        if isinstance(offset, bool) or not isinstance(offset, int | float):
            raise ValueError('expected {"offset_s": <seconds>}')
        self.app.clock.offset = float(offset)
        return self._get_clock(request)

    def _get_secrets(self, request: Request) -> tuple[int, Any]:
        """Every cookie value and token the emulator issued: what a client must never leak."""
        return 200, {"secrets": self.app.sessions.issued_secrets()}

    def _post_sessions_expire(self, request: Request) -> tuple[int, Any]:
        return 200, {"expired": self.app.sessions.expire_all()}

    def _post_reset(self, request: Request) -> tuple[int, Any]:
        self.app.configure_faults(FaultConfig.from_json(self.initial_faults.to_json()))
        self.app.stats.reset()
        self.app.clock.offset = 0.0
        return 200, {"ok": True}

    def _get_corpus(self, request: Request) -> tuple[int, Any]:
        corpus = self.app.corpus
        return 200, {
            "seed": corpus.seed,
            "items": corpus.size,
            "hashtags": [
                {"id": tag.id, "title": tag.title, "videoCount": len(tag.feed)} for tag in corpus.hashtags
            ],
            # enough for tests that need ids no feed answered yet
            "playable_item_ids": [corpus.item_id(i) for i in corpus.playable[:500]],
            "unplayable_item_ids": [corpus.item_id(i) for i in corpus.unplayable[:20]],
            "private_item_ids": corpus.private_item_ids(),
            "unknown_item_id": corpus.item_id(corpus.size + 1),
            # the prolific creators, a few ordinary ones (some with pinned posts) and the private ones
            "creators": [
                {
                    "uniqueId": c.unique_id,
                    "secUid": c.sec_uid,
                    "videoCount": c.counts["videoCount"],
                    "pinned": c.pinned,
                    "privateAccount": c.private,
                }
                for c in corpus.creators[:12] + corpus.creators[-PRIVATE_ACCOUNTS:]
            ],
            "shared_sound_ids": [SharedSound(n).id for n in range(SHARED_SOUNDS)],
        }

    def _live_sessions(self) -> int:
        return self.app.sessions.live_count()
