"""Staff accounts: passwords stored as salted PBKDF2 hashes, never in clear; failed logins throttled.

``LoginThrottle`` counts failures in this process; ``SharedLoginThrottle`` in the desk's database, for every
process on it. app.py picks one by ``BANSHI_SHARED_LIMITS``, as for the rate limits.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import sessionmaker

from desk.store import LoginFailure, limit_key

ITERATIONS = 200_000


def hash_password(password: str, *, salt: str | None = None, iterations: int = ITERATIONS) -> str:
    """``pbkdf2_sha256$<iterations>$<salt>$<hex digest>``; raises ValueError for a short password."""
    if len(password) < 8:
        raise ValueError(f"a staff password needs at least 8 characters, got {len(password)}")
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations).hex()
    return f"pbkdf2_sha256${iterations}${salt}${digest}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations)).hex()
    return hmac.compare_digest(candidate, digest)


def check_login(accounts: dict[str, str], username: str, password: str) -> bool:
    """Whether ``password`` is ``username``'s. An unknown login costs one hash like a known one, so the time
    taken does not tell which logins exist."""
    stored = accounts.get(username)
    if stored is None:
        verify_password(password, _stand_in(max((_iterations(h) for h in accounts.values()), default=ITERATIONS)))
        return False
    return verify_password(password, stored)


def _iterations(stored: str) -> int:
    parts = stored.split("$")
    return int(parts[1]) if len(parts) == 4 and parts[1].isdigit() else ITERATIONS


@functools.lru_cache(maxsize=4)
def _stand_in(iterations: int) -> str:
    return hash_password(secrets.token_hex(16), iterations=iterations)


class LoginThrottle:
    """After ``attempts`` failed logins within ``window`` seconds from one address, or for one login, further
    tries are refused until the oldest failure leaves the window. Kept in this process, like the rate limits."""

    def __init__(self, attempts: int, window: float, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10_000) -> None:
        _check(attempts, window)
        self.attempts, self.window, self.clock, self.max_keys = attempts, window, clock, max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait_for(self, address: str, username: str) -> float:
        """0.0 if a login may be tried now, else the seconds until one may."""
        now = self.clock()
        with self._lock:
            waits = [self._wait(key, now) for key in _keys(address, username)]
        return max(waits)

    def failed(self, address: str, username: str) -> None:
        now = self.clock()
        with self._lock:
            for key in _keys(address, username):
                self._failures.setdefault(key, deque(maxlen=self.attempts)).append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"login:{username}", None)

    def _wait(self, key: str, now: float) -> float:
        failures = self._failures.get(key)
        if not failures or len(failures) < self.attempts:
            return 0.0
        return max(0.0, failures[0] + self.window - now)


class SharedLoginThrottle:
    """``LoginThrottle``'s rule with the failures in the database of ``sessions`` (the desk's), counted by every
    process on it. ``clock``: seconds, the same in every process (the wall clock). Failures older than the window
    are deleted now and then, whoever made them."""

    def __init__(self, sessions: sessionmaker[Any], attempts: int, window: float, *,
                 clock: Callable[[], float] = time.time) -> None:
        _check(attempts, window)
        self.sessions, self.attempts, self.window, self.clock = sessions, attempts, window, clock
        self._forgotten_at = -math.inf

    def wait_for(self, address: str, username: str) -> float:
        """0.0 if a login may be tried now, else the seconds until one may."""
        now = self.clock()
        with self.sessions() as db:
            # The attempts-th latest failure within the window, if there are that many: the one to wait out.
            oldest = [db.scalar(select(LoginFailure.failed_at)
                                .where(LoginFailure.key == limit_key(key), LoginFailure.failed_at > now - self.window)
                                .order_by(LoginFailure.failed_at.desc()).offset(self.attempts - 1).limit(1))
                      for key in _keys(address, username)]
        return max([0.0, *(at + self.window - now for at in oldest if at is not None)])

    def failed(self, address: str, username: str) -> None:
        now = self.clock()
        with self.sessions.begin() as db:
            db.add_all([LoginFailure(key=limit_key(key), failed_at=now) for key in _keys(address, username)])
            if now - self._forgotten_at >= self.window:
                self._forgotten_at = now
                # Rows another transaction holds are left for next time (PostgreSQL): this waits on no one, so it
                # cannot deadlock with a succeeded() deleting some of the same rows.
                past = (select(LoginFailure.id).where(LoginFailure.failed_at <= now - self.window)
                        .with_for_update(skip_locked=True))
                db.execute(delete(LoginFailure).where(LoginFailure.id.in_(past))
                           .execution_options(synchronize_session=False))

    def succeeded(self, username: str) -> None:
        with self.sessions.begin() as db:
            db.execute(delete(LoginFailure).where(LoginFailure.key == limit_key(f"login:{username}"))
                       .execution_options(synchronize_session=False))


def _check(attempts: int, window: float) -> None:
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    if window <= 0:
        raise ValueError(f"window must be positive seconds, got {window}")


def _keys(address: str, username: str) -> tuple[str, str]:
    return f"address:{address}", f"login:{username}"
