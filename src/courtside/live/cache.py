"""The result cache: computed values keyed by (formula version, entity, data version).

A key is ``CacheKey(formula_id, formula_version, entity, data_version)``. For a live entity
``entity`` is its key (``player:203925@0022000001``) and ``data_version`` the entity's data
version in the engine; for explicit inputs ``entity`` is None and ``data_version`` a digest of
the inputs. A data change makes the old version unreachable at once (new lookups use the new
version) and ``invalidate_entity`` frees the stale entries: invalidation is by version, never by
time alone. The TTL only bounds how long an entry is kept; the size bound evicts the least
recently used entry.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from courtside.model import ConfigError

__all__ = ["CacheKey", "CacheStats", "ResultCache", "inputs_digest"]


class CacheKey(NamedTuple):
    """What a cached value depends on."""

    formula_id: str
    formula_version: int
    entity: str | None
    data_version: Hashable  # an int, (int, overrides digest) or an inputs digest


def inputs_digest(values: Mapping[str, Any]) -> frozenset:
    """A data version for explicit inputs: equal inputs (in any order) give an equal digest."""
    return frozenset(values.items())


@dataclass(slots=True)
class CacheStats:
    """Counts since the cache was created (or ``reset_counts``)."""

    hits: int = 0
    misses: int = 0
    evictions: int = 0
    expirations: int = 0
    invalidations: int = 0

    @property
    def hit_rate(self) -> float | None:
        """Hits over lookups, or None before the first lookup."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else None


_MISSING = object()


def _version_of(data_version: Hashable) -> Hashable:
    # a live entity's value with explicit overrides is keyed (version, overrides digest)
    return data_version[0] if isinstance(data_version, tuple) else data_version


class ResultCache:
    """An LRU map with a TTL and version-based invalidation.

    Args:
        capacity: most entries kept (at least 1).
        ttl_seconds: how long an entry may be served; None for no limit.
        clock: seconds, monotonic; injectable for tests.
    """

    def __init__(self, capacity: int = 10_000, ttl_seconds: float | None = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._check(capacity, ttl_seconds)
        self.capacity = capacity
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._data: OrderedDict[CacheKey, tuple[float, float | None]] = OrderedDict()
        # entity -> keys cached for it, so a version change frees them without a scan
        self._by_entity: dict[str, set[CacheKey]] = {}
        self.stats = CacheStats()

    @staticmethod
    def _check(capacity: int, ttl_seconds: float | None) -> None:
        if not isinstance(capacity, int) or capacity < 1:
            raise ConfigError(f"cache capacity must be a whole number >= 1, got {capacity!r}")
        if ttl_seconds is not None and ttl_seconds <= 0:
            raise ConfigError(f"cache TTL must be positive seconds or None, got {ttl_seconds!r}")

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: CacheKey, default: Any = _MISSING) -> Any:
        """The cached value (which may be None: a null result), counting a hit or a miss.

        Returns ``default`` on a miss; without ``default`` a miss raises KeyError.
        """
        item = self._data.get(key)
        if item is not None:
            stored_at, value = item
            if self.ttl_seconds is None or self._clock() - stored_at <= self.ttl_seconds:
                self._data.move_to_end(key)
                self.stats.hits += 1
                return value
            self._drop(key)
            self.stats.expirations += 1
        self.stats.misses += 1
        if default is _MISSING:
            raise KeyError(key)
        return default

    def put(self, key: CacheKey, value: float | None) -> None:
        """Store a value, evicting the least recently used entries past the capacity."""
        self._data[key] = (self._clock(), value)
        self._data.move_to_end(key)
        if key.entity is not None:
            self._by_entity.setdefault(key.entity, set()).add(key)
        while len(self._data) > self.capacity:
            old, _ = self._data.popitem(last=False)
            self._unindex(old)
            self.stats.evictions += 1

    def invalidate_entity(self, entity: str, current_version: int | None = None) -> int:
        """Drop an entity's entries older than ``current_version`` (all when None)."""
        keys = self._by_entity.get(entity)
        if not keys:
            return 0
        stale = [k for k in keys if current_version is None
                 or _version_of(k.data_version) != current_version]
        for key in stale:
            self._drop(key)
        self.stats.invalidations += len(stale)
        return len(stale)

    def invalidate_formula(self, formula_id: str, current_version: int | None = None) -> int:
        """Drop a formula's entries of other versions (all when None): a redefinition."""
        stale = [k for k in self._data
                 if k.formula_id == formula_id
                 and (current_version is None or k.formula_version != current_version)]
        for key in stale:
            self._drop(key)
        self.stats.invalidations += len(stale)
        return len(stale)

    def clear(self) -> None:
        """Drop everything (counts are kept)."""
        self._data.clear()
        self._by_entity.clear()

    def configure(self, *, capacity: int | None = None,
                  ttl_seconds: float | object | None = _MISSING) -> None:
        """Change the size bound and/or TTL at run time (used by the optimiser)."""
        new_capacity = self.capacity if capacity is None else capacity
        new_ttl = self.ttl_seconds if ttl_seconds is _MISSING else ttl_seconds
        self._check(new_capacity, new_ttl)  # type: ignore[arg-type]
        self.capacity, self.ttl_seconds = new_capacity, new_ttl  # type: ignore[assignment]
        while len(self._data) > self.capacity:
            old, _ = self._data.popitem(last=False)
            self._unindex(old)
            self.stats.evictions += 1

    def reset_counts(self) -> None:
        """Zero the hit/miss counts (the entries stay)."""
        self.stats = CacheStats()

    def info(self) -> dict[str, Any]:
        """Figures for the status: size, capacity, TTL and counts."""
        s = self.stats
        return {"size": len(self._data), "capacity": self.capacity,
                "ttl_seconds": self.ttl_seconds, "hits": s.hits, "misses": s.misses,
                "hit_rate": s.hit_rate, "evictions": s.evictions,
                "expirations": s.expirations, "invalidations": s.invalidations}

    def _drop(self, key: CacheKey) -> None:
        self._data.pop(key, None)
        self._unindex(key)

    def _unindex(self, key: CacheKey) -> None:
        if key.entity is None:
            return
        keys = self._by_entity.get(key.entity)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_entity[key.entity]
