"""Per-client rate limits: a token bucket for each key (a browser's address, an API session).

Questions cost work and storage; a script must not be able to flood the queue or the database.
Buckets live in this process (with several processes, each allows the rate); idle ones are
forgotten oldest first once there are ``max_keys``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    """``per_minute`` questions a minute for each key, in bursts of up to ``per_minute``; 0 allows all."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10_000) -> None:
        if per_minute < 0:
            raise ValueError(f"per_minute must be 0 (no limit) or more, got {per_minute}")
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
        capacity, per_second = float(self.per_minute), self.per_minute / 60.0
        with self._lock:
            tokens, at = self._buckets.pop(key, (capacity, now))
            tokens = min(capacity, tokens + (now - at) * per_second)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return 0.0 if allowed else (1.0 - tokens) / per_second
