"""The token buckets that keep one client from flooding the service, and the staff-login throttle: in one
process, and shared through the desk's database by several (a real SQLite file, and PostgreSQL when
BANSHI_TEST_DATABASE_URL names one)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, insert, select

from assistant.settings import Settings
from desk.ratelimit import FORGET_BATCH, RateLimiter, SharedRateLimiter
from desk.staff import LoginThrottle, SharedLoginThrottle
from desk.store import LoginFailure, RateBucket, limit_key, make_sessionmaker
from tests.conftest import empty_database


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


def test_zero_means_no_limit_and_negative_is_an_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    limiter = RateLimiter(0)
    assert all(limiter.wait_for("a") == 0.0 for _ in range(1000))
    with pytest.raises(ValueError, match="per_minute must be 0"):
        RateLimiter(-1)
    sessions = make_sessionmaker(f"sqlite:///{tmp_path / 'desk.sqlite'}")
    assert all(SharedRateLimiter(sessions, 0, scope="questions").wait_for("a") == 0.0 for _ in range(10))
    with sessions() as db:
        assert db.scalars(select(RateBucket)).all() == []  # no limit: not even a row
    with pytest.raises(ValueError, match="per_minute must be 0 .* got -1"):
        SharedRateLimiter(sessions, -1, scope="questions")


def test_idle_keys_are_forgotten_oldest_first() -> None:
    clock = Clock()
    limiter = RateLimiter(1, clock=clock, max_keys=2)
    limiter.wait_for("a")
    limiter.wait_for("b")
    limiter.wait_for("c")  # "a" is forgotten: it starts afresh
    assert limiter.wait_for("a") == 0.0
    assert limiter.wait_for("c") > 0


def buckets(url: str) -> list[tuple[str, float, float]]:
    with make_sessionmaker(url)() as db:
        return [(b.key, b.tokens, b.updated_at) for b in db.scalars(select(RateBucket).order_by(RateBucket.updated_at))]


def test_two_processes_share_one_bucket(database_url: str) -> None:
    """Two limiters, each with its own engine as two app processes have, on one database."""
    clock = Clock()
    one, other = (SharedRateLimiter(make_sessionmaker(database_url), 6, scope="questions", clock=clock)
                  for _ in range(2))
    assert [one.wait_for("a") for _ in range(4)] + [other.wait_for("a") for _ in range(2)] == [0.0] * 6
    assert other.wait_for("a") == pytest.approx(10.0) and one.wait_for("a") == pytest.approx(10.0)
    assert buckets(database_url) == [(limit_key("questions:a"), 0.0, 1000.0)]  # a digest, not the address
    assert other.wait_for("b") == 0.0  # every key has its own bucket
    addresses = SharedRateLimiter(make_sessionmaker(database_url), 6, scope="addresses", clock=clock)
    assert addresses.wait_for("a") == 0.0  # and so has every limit
    clock.now += 4
    assert one.wait_for("a") == pytest.approx(6.0)  # a refused question costs nothing
    clock.now += 6
    assert other.wait_for("a") == 0.0
    assert one.wait_for("a") > 0
    clock.now += 3600  # a long pause refills the bucket, but not beyond the burst
    assert [(one, other)[i % 2].wait_for("a") for i in range(7)].count(0.0) == 6


def test_a_clock_behind_the_others_refills_nothing(database_url: str) -> None:
    """Processes on machines whose clocks disagree: the one behind neither refills the bucket nor sets its time
    back (which would refill it for the other)."""
    ahead, behind = Clock(), Clock()
    behind.now -= 30
    one = SharedRateLimiter(make_sessionmaker(database_url), 6, scope="questions", clock=ahead)
    other = SharedRateLimiter(make_sessionmaker(database_url), 6, scope="questions", clock=behind)
    assert [one.wait_for("a") for _ in range(3)] == [0.0] * 3
    assert other.wait_for("a") == 0.0  # at 970 by its clock
    assert buckets(database_url) == [(limit_key("questions:a"), 2.0, 1000.0)]
    assert [one.wait_for("a") for _ in range(3)] == [0.0, 0.0, pytest.approx(10.0)]
    behind.now += 20  # still 10 s behind the bucket's last take
    assert other.wait_for("a") == pytest.approx(10.0)


def test_many_threads_on_two_processes_take_exactly_the_burst(database_url: str) -> None:
    clock = Clock()  # still: nothing refills while they race
    limiters = [SharedRateLimiter(make_sessionmaker(database_url), 20, scope="questions", clock=clock)
                for _ in range(2)]
    start, waits, guard = threading.Barrier(8), [], threading.Lock()

    def client(limiter: SharedRateLimiter) -> None:
        start.wait()
        for _ in range(8):
            wait = limiter.wait_for("a")
            with guard:
                waits.append(wait)

    threads = [threading.Thread(target=client, args=(limiters[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(waits) == 64 and waits.count(0.0) == 20
    assert buckets(database_url) == [(limit_key("questions:a"), 0.0, 1000.0)]


def test_idle_buckets_are_forgotten(database_url: str) -> None:
    clock = Clock()
    limiter = SharedRateLimiter(make_sessionmaker(database_url), 6, scope="questions", clock=clock)
    limiter.wait_for("a")  # at 1000
    clock.now += 30
    limiter.wait_for("b")  # at 1030
    with make_sessionmaker(database_url).begin() as db:  # more idle buckets than one batch deletes
        db.execute(insert(RateBucket), [{"key": f"idle-{n}", "tokens": 0.0, "updated_at": 900.0 + n % 100}
                                        for n in range(2 * FORGET_BATCH + 1)])
    clock.now += 31  # a minute after "a": full, so as good as none
    limiter.wait_for("c")
    assert buckets(database_url) == [(limit_key("questions:b"), 5.0, 1030.0), (limit_key("questions:c"), 5.0, 1061.0)]
    assert [limiter.wait_for("a") for _ in range(7)].count(0.0) == 6  # it starts afresh, as it would have


@pytest.fixture()
def clock_for_logins() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def throttles(request: pytest.FixtureRequest, tmp_path, clock_for_logins: Clock):  # type: ignore[no-untyped-def]
    """Two throttles as two processes would have: one and the same in memory (the rule), or two on one database."""
    if request.param == "memory":
        throttle = LoginThrottle(3, 60, clock=clock_for_logins)
        return throttle, throttle
    url = empty_database(request.param, tmp_path)
    return tuple(SharedLoginThrottle(make_sessionmaker(url), 3, 60, clock=clock_for_logins) for _ in range(2))


def test_failed_logins_count_wherever_they_were_tried(throttles, clock_for_logins: Clock) -> None:  # type: ignore[no-untyped-def]
    one, other = throttles
    for _ in range(3):
        assert one.wait_for("10.0.0.1", "alice") == 0.0
        one.failed("10.0.0.1", "alice")
        clock_for_logins.now += 10
    assert other.wait_for("10.0.0.1", "bob") == pytest.approx(30.0)  # this address, whatever the login
    assert other.wait_for("10.0.0.2", "alice") == pytest.approx(30.0)  # this login, from wherever
    assert other.wait_for("10.0.0.2", "bob") == 0.0
    other.succeeded("alice")  # the login is free again; the address still waits
    assert (one.wait_for("10.0.0.2", "alice"), one.wait_for("10.0.0.1", "alice")) == (0.0, pytest.approx(30.0))
    clock_for_logins.now += 20
    assert other.wait_for("10.0.0.1", "carol") == pytest.approx(10.0)  # the oldest failure leaves first
    clock_for_logins.now += 10
    assert other.wait_for("10.0.0.1", "carol") == 0.0


def test_the_throttle_checks_its_arguments(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sessions = make_sessionmaker(f"sqlite:///{tmp_path / 'desk.sqlite'}")
    with pytest.raises(ValueError, match="attempts must be at least 1, got 0"):
        SharedLoginThrottle(sessions, 0, 60)
    with pytest.raises(ValueError, match="window must be positive seconds, got -1"):
        SharedLoginThrottle(sessions, 3, -1)


def test_failures_tried_at_once_on_two_processes_all_count(database_url: str) -> None:
    clock = Clock()
    one, other = (SharedLoginThrottle(make_sessionmaker(database_url), 20, 60, clock=clock) for _ in range(2))
    start = threading.Barrier(8)

    def guess(throttle: SharedLoginThrottle, n: int) -> None:
        start.wait()
        for _ in range(5):
            throttle.failed(f"10.0.0.{n}", "alice")

    threads = [threading.Thread(target=guess, args=((one, other)[n % 2], n)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    with make_sessionmaker(database_url)() as db:
        counted = db.execute(select(LoginFailure.key, func.count()).group_by(LoginFailure.key)).all()
    assert dict(counted) == {limit_key("login:alice"): 40, **{limit_key(f"address:10.0.0.{n}"): 5 for n in range(8)}}
    assert one.wait_for("10.0.0.9", "alice") == other.wait_for("10.0.0.9", "alice") == pytest.approx(60.0)
    assert one.wait_for("10.0.0.1", "bob") == 0.0  # 5 of 20 for each address


def test_old_failures_are_forgotten(database_url: str) -> None:
    clock = Clock()
    throttle = SharedLoginThrottle(make_sessionmaker(database_url), 3, 60, clock=clock)
    throttle.failed("10.0.0.1", "alice")  # at 1000
    clock.now += 30
    throttle.failed("10.0.0.2", "bob")  # at 1030
    clock.now += 31
    throttle.failed("10.0.0.3", "carol")  # a window after the first: it goes, the others stay
    with make_sessionmaker(database_url)() as db:
        kept = db.execute(select(LoginFailure.key, LoginFailure.failed_at).order_by(LoginFailure.id)).all()
    assert [tuple(row) for row in kept] == [(limit_key("address:10.0.0.2"), 1030.0), (limit_key("login:bob"), 1030.0),
                                            (limit_key("address:10.0.0.3"), 1061.0),
                                            (limit_key("login:carol"), 1061.0)]


@pytest.mark.parametrize(("setting", "database", "shared"), [
    ("auto", None, False), ("auto", "postgresql+psycopg://u@db/banshi", True),
    ("on", None, True), ("off", "postgresql+psycopg://u@db/banshi", False)])
def test_the_limits_are_shared_on_a_database_other_than_sqlite_unless_set(
        tmp_path, setting: str, database: str | None, shared: bool) -> None:  # type: ignore[no-untyped-def]
    assert Settings(data_dir=tmp_path, database_url=database, shared_limits=setting).limits_shared() is shared
