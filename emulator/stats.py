"""Request counters, so tests can assert how many upstream calls the service made."""

from __future__ import annotations

from collections import Counter

ROUTES = (
    "/",
    "/foryou",
    "/tag/<name>",
    "/@<user>",
    "/@<user>/video/<id>",
    "/api/recommend/item_list/",
    "/api/challenge/detail/",
    "/api/challenge/item_list/",
    "/api/item/detail/",
    "/api/search/item/full/",
    "/api/search/general/full/",
    "/api/search/user/full/",
    "/api/user/detail/",
    "/api/post/item_list/",
    "/api/comment/list/",
    "/api/comment/list/reply/",
    "/api/music/detail/",
    "/api/music/item_list/",
    "/api/related/item_list/",
    "/api/policy/notice/",
    "cdn",
    "img",
    "not_found",
)


class Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests: Counter[str] = Counter()
        self.api_ok: Counter[str] = Counter()
        self.api_refused: Counter[str] = Counter()
        self.faults_injected: Counter[str] = Counter()
        self.cdn_refused: Counter[str] = Counter()
        self.sessions_opened = 0
        #: API calls waiting out the latency fault now, by route, and the most there ever were at
        #: once: whether a client's calls overlap, read without timing anything
        self.api_in_flight: Counter[str] = Counter()
        self.api_max_in_flight: Counter[str] = Counter()

    def api_call_started(self, route: str) -> None:
        self.api_in_flight[route] += 1
        self.api_max_in_flight[route] = max(self.api_max_in_flight[route], self.api_in_flight[route])

    def api_call_ended(self, route: str) -> None:
        self.api_in_flight[route] = max(0, self.api_in_flight[route] - 1)

    def snapshot(self) -> dict[str, object]:
        return {
            "requests": {route: self.requests[route] for route in ROUTES},
            "api_ok": dict(self.api_ok),
            "api_refused": dict(self.api_refused),
            "faults_injected": dict(self.faults_injected),
            "cdn_refused": dict(self.cdn_refused),
            "sessions_opened": self.sessions_opened,
            "api_max_in_flight": dict(self.api_max_in_flight),
        }
