"""The per-client rate limit in process (bridge.ratelimit): its semantics, whichever strategy counts."""

from __future__ import annotations

from bridge.ratelimit import ClientRateLimit


def test_a_client_gets_its_limit_then_refusals_with_headers() -> None:
    limit = ClientRateLimit("3/minute")
    verdicts = [limit.check("198.51.100.7") for _ in range(4)]
    assert all(verdict is not None for verdict in verdicts)
    assert [v.allowed for v in verdicts if v] == [True, True, True, False]
    assert [v.remaining for v in verdicts if v] == [2, 1, 0, 0]
    refused = verdicts[-1]
    assert refused is not None
    assert refused.headers()["RateLimit-Limit"] == "3"
    assert 1 <= refused.reset_in <= 60


def test_clients_are_counted_apart() -> None:
    limit = ClientRateLimit("2/minute")
    for _ in range(2):
        limit.check("a")
    a, b = limit.check("a"), limit.check("b")
    assert a is not None and b is not None
    assert (a.allowed, b.allowed) == (False, True)


def test_off_counts_nothing() -> None:
    assert ClientRateLimit("off").check("a") is None


def test_a_high_limit_never_refuses_and_keeps_counting() -> None:
    limit = ClientRateLimit("120000/minute")
    verdicts = [limit.check("a") for _ in range(5000)]
    assert all(v is not None and v.allowed for v in verdicts)
    last = verdicts[-1]
    assert last is not None and last.remaining == 120000 - 5000
