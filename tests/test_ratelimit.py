"""The per-client rate limit in process (bridge.ratelimit): its semantics, whichever strategy counts."""

from __future__ import annotations

import random
from unittest import mock

import pytest
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from bridge.ratelimit import ClientRateLimit, LocalWindows, shared_check


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


@pytest.mark.parametrize("rate", ["5/second", "7/minute", "4/hour"])
def test_the_local_counter_answers_what_limits_answers(rate: str) -> None:
    # LocalWindows is limits' SlidingWindowCounterRateLimiter over its MemoryStorage, kept in two dicts:
    # the same hits, at the same (frozen) clock, get the same verdicts, windows crossed and skipped.
    item = parse(rate)
    expiry = item.get_expiry()
    local = LocalWindows(item)
    reference = SlidingWindowCounterRateLimiter(MemoryStorage())
    chance = random.Random(rate)
    now = 1_764_000_000.137
    with mock.patch("time.time") as clock:
        for _ in range(3000):
            now += expiry * (
                chance.choice((0.0, 0.001, 0.02, 0.2)) if chance.random() < 0.98 else chance.uniform(0.5, 3)
            )
            clock.return_value = now
            client = chance.choice(("a", "b", "c"))
            assert local.check(client, now) == shared_check(reference, item, client), (rate, now, client)
