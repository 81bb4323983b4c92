"""Retries with exponential backoff and full jitter (AWS architecture blog's "full jitter")."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from courtside.sources.errors import SourceError

__all__ = ["RetryPolicy", "call_with_retries"]

T = TypeVar("T")


@dataclass(slots=True, frozen=True)
class RetryPolicy:
    """How often and how patiently to retry.

    Attributes:
        attempts: total tries, the first included (1 = no retry).
        base_delay: seconds before the first retry, before jitter.
        max_delay: cap of one delay.
        jitter: True draws each delay uniformly in [0, backoff] so that many clients that
            failed together do not retry together.
    """

    attempts: int = 3
    base_delay: float = 0.25
    max_delay: float = 4.0
    jitter: bool = True

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        backoff = min(self.max_delay, self.base_delay * (2 ** (retry - 1)))
        if not self.jitter:
            return backoff
        return (rng or random).uniform(0.0, backoff)


async def call_with_retries(call: Callable[[], Awaitable[T]], policy: RetryPolicy,
                            sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                            rng: random.Random | None = None) -> T:
    """Await ``call()``, retrying :class:`SourceError` with ``retryable`` set, per ``policy``."""
    attempt = 1
    while True:
        try:
            return await call()
        except SourceError as exc:
            if not exc.retryable or attempt >= policy.attempts:
                raise
            await sleep(policy.delay(attempt, rng))
            attempt += 1
