"""The result cache (LRU, TTL, invalidation by version) and the task tracker (statuses)."""

from __future__ import annotations

import asyncio

import pytest

from courtside.live.cache import CacheKey, ResultCache, inputs_digest
from courtside.live.tasks import TaskTracker, percentile
from courtside.model import CalculationStatus, ConfigError, DataError


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_lru_bound_evicts_least_recently_used() -> None:
    cache = ResultCache(capacity=2, ttl_seconds=None)
    k = [CacheKey("TS_PCT", 1, f"player:{i}@g", 1) for i in range(3)]
    cache.put(k[0], 0.5)
    cache.put(k[1], 0.6)
    assert cache.get(k[0]) == 0.5  # k0 now most recent
    cache.put(k[2], 0.7)
    assert cache.get(k[1], None) is None
    assert cache.get(k[0]) == 0.5 and cache.get(k[2]) == 0.7
    assert cache.stats.evictions == 1
    assert (cache.stats.hits, cache.stats.misses) == (3, 1)


def test_null_results_are_cached_too() -> None:
    cache = ResultCache()
    key = CacheKey("FT_PCT", 1, None, inputs_digest({"FTM": 0, "FTA": 0}))
    cache.put(key, None)
    assert cache.get(key, "miss") is None
    assert cache.stats.hits == 1


def test_ttl_expires_entries() -> None:
    clock = FakeClock()
    cache = ResultCache(ttl_seconds=10, clock=clock)
    key = CacheKey("PER", 1, "player:1@g", 4)
    cache.put(key, 20.0)
    clock.now = 9.9
    assert cache.get(key) == 20.0
    clock.now = 20.0
    assert cache.get(key, None) is None
    assert cache.stats.expirations == 1 and len(cache) == 0


def test_invalidation_by_data_version_and_by_formula_version() -> None:
    cache = ResultCache(ttl_seconds=None)
    for version in (1, 2, 3):
        cache.put(CacheKey("TS_PCT", 1, "player:1@g", version), version / 10)
    cache.put(CacheKey("TS_PCT", 1, "player:2@g", 1), 0.5)
    assert cache.invalidate_entity("player:1@g", 3) == 2
    assert cache.get(CacheKey("TS_PCT", 1, "player:1@g", 3)) == 0.3
    assert cache.get(CacheKey("TS_PCT", 1, "player:1@g", 2), None) is None
    assert cache.get(CacheKey("TS_PCT", 1, "player:2@g", 1)) == 0.5  # other entity kept
    cache.put(CacheKey("MY_F", 1, None, "x"), 1.0)
    cache.put(CacheKey("MY_F", 2, None, "x"), 2.0)
    assert cache.invalidate_formula("MY_F", 2) == 1
    assert cache.get(CacheKey("MY_F", 2, None, "x")) == 2.0
    assert cache.stats.invalidations == 3


def test_inputs_digest_ignores_order_but_not_values() -> None:
    assert inputs_digest({"a": 1, "b": 2}) == inputs_digest({"b": 2, "a": 1})
    assert inputs_digest({"a": 1, "b": 2}) != inputs_digest({"a": 1, "b": 3})


def test_configure_shrinks_and_rejects_nonsense() -> None:
    cache = ResultCache(capacity=4, ttl_seconds=None)
    for i in range(4):
        cache.put(CacheKey("F", 1, None, i), float(i))
    cache.configure(capacity=2)
    assert len(cache) == 2 and cache.get(CacheKey("F", 1, None, 3)) == 3.0
    with pytest.raises(ConfigError, match="capacity"):
        cache.configure(capacity=0)
    with pytest.raises(ConfigError, match="TTL"):
        ResultCache(ttl_seconds=-1)


async def test_tasks_complete_fail_and_time_out() -> None:
    tracker = TaskTracker()

    async def quick(task):
        return 0.5

    async def broken(task):
        raise DataError("FGM > FGA in the input")

    async def slow(task):
        await asyncio.sleep(5)
        return 1.0

    done = await tracker.run(tracker.new("TS_PCT", entity=None, timeout_seconds=1), quick)
    assert done.status == CalculationStatus.COMPLETED and done.result == 0.5
    assert done.duration_ms is not None and done.duration_ms >= 0
    failed = await tracker.run(tracker.new("TS_PCT", entity=None, timeout_seconds=1), broken)
    assert failed.status == CalculationStatus.FAILED and "FGM > FGA" in failed.error
    timed = await tracker.run(tracker.new("PER", entity="player:1@g", timeout_seconds=0.05),
                              slow)
    assert timed.status == CalculationStatus.TIMEOUT and timed.result is None
    assert "no result within 0.05 s" in timed.error
    assert 40 <= timed.duration_ms < 2000
    counts = tracker.count_by_status()
    assert counts["completed"] == 1 and counts["failed"] == 1 and counts["timeout"] == 1
    assert counts["in_progress"] == 0
    assert tracker.get(timed.task_id) is timed
    assert [t.task_id for t in tracker.recent(2)] == [timed.task_id, failed.task_id]


async def test_synchronous_overrun_is_a_timeout_too() -> None:
    tracker = TaskTracker()

    async def hog(task):
        import time
        time.sleep(0.03)  # cannot be interrupted; checked after the fact
        return 1.0

    task = await tracker.run(tracker.new("X", entity=None, timeout_seconds=0.01), hog)
    assert task.status == CalculationStatus.TIMEOUT and task.result is None


def test_percentile_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert percentile([float(i) for i in range(1, 101)], 0.99) == 99.0
