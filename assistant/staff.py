"""Staff accounts: passwords stored as salted PBKDF2 hashes, never in clear; failed logins throttled."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

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
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {attempts}")
        if window <= 0:
            raise ValueError(f"window must be positive seconds, got {window}")
        self.attempts, self.window, self.clock, self.max_keys = attempts, window, clock, max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait_for(self, address: str, username: str) -> float:
        """0.0 if a login may be tried now, else the seconds until one may."""
        now = self.clock()
        with self._lock:
            waits = [self._wait(key, now) for key in self._keys(address, username)]
        return max(waits)

    def failed(self, address: str, username: str) -> None:
        now = self.clock()
        with self._lock:
            for key in self._keys(address, username):
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

    @staticmethod
    def _keys(address: str, username: str) -> tuple[str, str]:
        return f"address:{address}", f"login:{username}"
