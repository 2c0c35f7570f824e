"""Per-client rate limit (token buckets) and a bounded gate on concurrent answers."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from assistant.errors import Busy

MAX_CLIENTS = 10_000  # buckets kept in memory; full buckets are dropped first when over


class RateLimiter:
    """In-memory token bucket per key: `per_minute` requests, refilled continuously."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute <= 0:
            raise ValueError(f"per_minute must be greater than 0. Currently, per_minute is {per_minute}")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill time)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token of `key`; 0.0 when allowed, else the seconds to wait before retrying."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                self._evict(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def _evict(self, now: float) -> None:
        if len(self._buckets) <= MAX_CLIENTS:
            return
        # a bucket that has refilled is the same as no bucket: forget those first
        full = [k for k, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.capacity]
        for key in full or list(self._buckets)[: len(self._buckets) - MAX_CLIENTS]:
            del self._buckets[key]


class AnswerGate:
    """At most `limit` answers run at once, `queue` more wait; beyond that, `enter` raises Busy at once."""

    def __init__(self, limit: int, queue: int) -> None:
        if limit <= 0:
            raise ValueError(f"limit must be greater than 0. Currently, limit is {limit}")
        if queue < 0:
            raise ValueError(f"queue must be 0 or more. Currently, queue is {queue}")
        self.limit, self.queue = limit, queue
        self.admitted = 0  # running + waiting
        self._slots: asyncio.Semaphore | None = None  # created in the server's event loop

    async def enter(self) -> None:
        """Take a slot, waiting in the queue if needed; raises Busy when the queue is full."""
        if self.admitted >= self.limit + self.queue:
            raise Busy()
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        self.admitted += 1
        try:
            await self._slots.acquire()
        except BaseException:
            self.admitted -= 1
            raise

    def leave(self) -> None:
        """Give the slot back (call exactly once per successful `enter`)."""
        assert self._slots is not None
        self.admitted -= 1
        self._slots.release()
