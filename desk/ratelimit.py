"""Per-client rate limits: a token bucket for each key (a browser's address, an API session).

Questions cost work and storage; a script must not be able to flood the queue or the database. ``RateLimiter``
keeps the buckets in this process (idle ones forgotten oldest first once there are ``max_keys``): cheap, but with
several processes each allows the rate. ``SharedRateLimiter`` keeps them in the desk's database, one bucket per
key for every process on it. web.server picks one by ``BANSHI_SHARED_LIMITS`` (see assistant/settings.py).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import sessionmaker

from desk.store import RateBucket, limit_key

# A bucket refills its whole burst (``per_minute`` tokens at ``per_minute`` a minute) in a minute, so one untouched
# that long is full: forgetting it changes nothing.
REFILL_SECONDS = 60.0
FORGET_BATCH = 1000  # idle buckets deleted a transaction at a time, so the others' requests do not wait long


class Limiter(Protocol):
    per_minute: int

    def wait_for(self, key: str) -> float:
        """Take one token for ``key``: 0.0 if allowed now, else the seconds until the next one."""
        ...


def take(tokens: float, at: float, now: float, per_minute: int) -> tuple[float, float]:
    """One token from a bucket of burst ``per_minute`` that held ``tokens`` at time ``at``, asked at ``now``.
    Returns the tokens left and the wait: 0.0 when the token was taken, else the seconds until one will be
    (and the bucket is as it was). A clock behind ``at`` (another machine's) refills nothing."""
    per_second = per_minute / 60.0
    tokens = min(float(per_minute), tokens + max(0.0, now - at) * per_second)
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    return tokens, (1.0 - tokens) / per_second


def _check(per_minute: int) -> None:
    if per_minute < 0:
        raise ValueError(f"per_minute must be 0 (no limit) or more, got {per_minute}")


class RateLimiter:
    """``per_minute`` questions a minute for each key, in bursts of up to ``per_minute``; 0 allows all."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10_000) -> None:
        _check(per_minute)
        self.per_minute = per_minute
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def wait_for(self, key: str) -> float:
        """Take one token for ``key``: 0.0 if allowed now, else the seconds until the next one."""
        if not self.per_minute:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (float(self.per_minute), now))
            tokens, wait = take(tokens, at, now, self.per_minute)
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait


class SharedRateLimiter:
    """``RateLimiter``'s buckets in the database of ``sessions`` (the desk's), shared by every process on it.

    ``scope`` keeps this limit's buckets apart from another's with the same keys. ``clock``: seconds, the same in
    every process (the wall clock; a process whose clock is behind refills nothing until it catches up, so a skew
    between machines never gives a client more). Raises ValueError for a database other than SQLite or PostgreSQL.
    """

    def __init__(self, sessions: sessionmaker[Any], per_minute: int, *, scope: str,
                 clock: Callable[[], float] = time.time) -> None:
        _check(per_minute)
        dialect = sessions.kw["bind"].dialect.name
        if dialect not in ("postgresql", "sqlite"):
            raise ValueError(f"shared rate limits need SQLite or PostgreSQL, got a {dialect} database")
        self.sessions, self.per_minute, self.scope, self.clock = sessions, per_minute, scope, clock
        self._postgresql = dialect == "postgresql"
        self._insert = postgresql.insert if self._postgresql else sqlite.insert
        self._forgotten_at = -math.inf

    def wait_for(self, key: str) -> float:
        """Take one token for ``key``: 0.0 if allowed now, else the seconds until the next one."""
        if not self.per_minute:
            return 0.0
        now, stored = self.clock(), limit_key(f"{self.scope}:{key}")
        # The row, made full if new, stays locked until the commit: processes asking for one key take turns
        # (on SQLite the whole database does: every transaction begins IMMEDIATE).
        new = self._insert(RateBucket).values(key=stored, tokens=float(self.per_minute), updated_at=now)
        locked = new.on_conflict_do_update(index_elements=[RateBucket.key], set_={"tokens": RateBucket.tokens})
        with self.sessions.begin() as db:
            if self._postgresql:  # a bucket is not worth a disk flush per request: a crash forgets a moment's takes
                db.execute(text("SET LOCAL synchronous_commit TO OFF"))
            tokens, at = db.execute(locked.returning(RateBucket.tokens, RateBucket.updated_at)).one()
            left, wait = take(tokens, at, now, self.per_minute)
            if not wait:  # a refusal leaves the bucket as it was: it refills from there all the same
                db.execute(update(RateBucket).where(RateBucket.key == stored)
                           .values(tokens=left, updated_at=max(at, now)))
        if now - self._forgotten_at >= REFILL_SECONDS:
            self._forget_idle(now)
        return wait

    def _forget_idle(self, now: float) -> None:
        """Delete the buckets full by now (of every scope: all refill in a minute), in batches; rows another
        process is deleting or using are skipped (PostgreSQL; SQLite runs one transaction at a time)."""
        self._forgotten_at = now
        idle = (select(RateBucket.key).where(RateBucket.updated_at <= now - REFILL_SECONDS)
                .limit(FORGET_BATCH).with_for_update(skip_locked=True))
        while True:
            with self.sessions.begin() as db:
                gone = db.execute(delete(RateBucket).where(RateBucket.key.in_(idle))
                                  .execution_options(synchronize_session=False))
            if gone.rowcount < FORGET_BATCH:  # type: ignore[attr-defined]
                return
