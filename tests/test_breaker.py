"""The circuit breaker's states, on a clock the test moves."""

from __future__ import annotations

import pytest

from tiktok_spiders.client.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from tiktok_spiders.errors import CircuitOpen


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_threshold_refusals_in_a_row() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown=30, clock=Clock())
    for _ in range(2):
        breaker.before_call()
        breaker.failed()
    breaker.before_call()
    breaker.succeeded()  # a success resets the count
    for _ in range(3):
        breaker.before_call()
        breaker.failed()
    assert breaker.state == OPEN
    with pytest.raises(CircuitOpen) as raised:
        breaker.before_call()
    assert raised.value.retry_after == 30


def test_half_open_lets_one_probe_through_and_its_success_closes() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=10, clock=clock)
    breaker.before_call()
    breaker.failed()
    clock.now += 10
    breaker.before_call()  # the probe
    assert breaker.state == HALF_OPEN
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # only one probe at a time
    breaker.succeeded()
    assert breaker.state == CLOSED
    breaker.before_call()


def test_a_failed_probe_opens_again_for_a_full_cool_down() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=5, cooldown=10, clock=clock)
    for _ in range(5):
        breaker.before_call()
        breaker.failed()
    clock.now += 11
    breaker.before_call()
    breaker.failed()
    assert breaker.state == OPEN
    assert breaker.trips == 2
    clock.now += 9
    with pytest.raises(CircuitOpen):
        breaker.before_call()
    assert breaker.describe()["retry_in_s"] == 1.0


def test_not_found_answers_release_a_probe_without_deciding() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=1, clock=clock)
    breaker.before_call()
    breaker.failed()
    clock.now += 1
    breaker.before_call()
    breaker.released()
    breaker.before_call()  # the next call may probe


def test_threshold_zero_never_opens() -> None:
    breaker = CircuitBreaker(threshold=0, cooldown=1, clock=Clock())
    for _ in range(100):
        breaker.before_call()
        breaker.failed()
    assert breaker.state == CLOSED
