"""Token buckets: at most N requests per second to a host, bursts up to a capacity.

stats.nba.com blocks clients that go much above one request per second, so its bucket
defaults to 1/s; other hosts are unlimited unless configured.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

__all__ = ["DEFAULT_HOST_RATES", "HostLimiter", "TokenBucket"]

#: requests per second by host name.
DEFAULT_HOST_RATES: dict[str, float] = {"stats.nba.com": 1.0}


class TokenBucket:
    """``rate`` tokens per second, at most ``capacity`` saved up; ``acquire`` waits for one."""

    def __init__(self, rate: float, capacity: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError(f"token bucket rate must be > 0 requests/s, got {rate}")
        self.rate = rate
        self.capacity = max(1.0, capacity)
        self._clock = clock
        self._tokens = self.capacity
        self._updated = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def try_acquire(self) -> float:
        """Take a token if one is there (returns 0.0), else return the seconds to wait."""
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate

    async def acquire(self) -> float:
        """Wait for a token; returns the seconds waited."""
        waited = 0.0
        # The lock keeps waiters in arrival order, so one busy caller cannot starve others.
        async with self._lock:
            while (delay := self.try_acquire()) > 0:
                await asyncio.sleep(delay)
                waited += delay
        return waited


class HostLimiter:
    """One token bucket per host; hosts without a configured rate are not limited."""

    def __init__(self, rates: Mapping[str, float] | None = None, burst: float = 1.0) -> None:
        self._rates = dict(DEFAULT_HOST_RATES if rates is None else rates)
        self._burst = burst
        self._buckets: dict[str, TokenBucket] = {}

    def bucket(self, url: str) -> TokenBucket | None:
        """The bucket of the URL's host, or None when the host is unlimited."""
        host = urlsplit(url).hostname or ""
        rate = self._rates.get(host)
        if rate is None:
            return None
        if host not in self._buckets:
            self._buckets[host] = TokenBucket(rate, self._burst)
        return self._buckets[host]

    async def acquire(self, url: str) -> float:
        """Wait until a request to the URL's host is allowed; returns the seconds waited."""
        bucket = self.bucket(url)
        return 0.0 if bucket is None else await bucket.acquire()
