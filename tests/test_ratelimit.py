"""The token buckets that keep one client from flooding the service."""

from __future__ import annotations

import pytest

from assistant.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_question_per_interval() -> None:
    clock = Clock()
    limiter = RateLimiter(6, clock=clock)  # 6 a minute: a burst of 6, then one every 10 s
    assert [limiter.wait_for("a") for _ in range(6)] == [0.0] * 6
    assert limiter.wait_for("a") == pytest.approx(10.0)
    assert limiter.wait_for("b") == 0.0  # every key has its own bucket
    clock.now += 4
    assert limiter.wait_for("a") == pytest.approx(6.0)  # a refused question costs nothing
    clock.now += 6
    assert limiter.wait_for("a") == 0.0
    assert limiter.wait_for("a") > 0
    clock.now += 3600  # a long pause refills the bucket, but not beyond the burst
    assert [limiter.wait_for("a") for _ in range(7)].count(0.0) == 6


def test_zero_means_no_limit_and_negative_is_an_error() -> None:
    limiter = RateLimiter(0)
    assert all(limiter.wait_for("a") == 0.0 for _ in range(1000))
    with pytest.raises(ValueError, match="per_minute must be 0"):
        RateLimiter(-1)


def test_idle_keys_are_forgotten_oldest_first() -> None:
    clock = Clock()
    limiter = RateLimiter(1, clock=clock, max_keys=2)
    limiter.wait_for("a")
    limiter.wait_for("b")
    limiter.wait_for("c")  # "a" is forgotten: it starts afresh
    assert limiter.wait_for("a") == 0.0
    assert limiter.wait_for("c") > 0
