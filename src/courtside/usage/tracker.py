"""Recording usage events without slowing the calls they describe.

A tracked call costs a clock read and a deque append; a background thread writes the
buffered events to the database in batches (every ``flush_interval`` seconds, sooner when a
batch fills) and on ``close``. The explicit ``track_usage_event`` (an agent reporting an event
through MCP) is different: it is acknowledged, so it is written and committed before returning
and survives the process being killed.
"""

from __future__ import annotations

import atexit
import functools
import inspect
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, Self, TypeVar

from sqlalchemy.exc import DataError, IntegrityError, StatementError

from courtside.model import ConfigError, CourtsideError
from courtside.storage.db import Database
from courtside.storage.usage import insert_event, insert_events
from courtside.usage.events import Interface, Outcome, UsageEvent, make_event

log = logging.getLogger(__name__)

# StrEnum members hash and compare as their values: one lookup validates str and enum alike.
_INTERFACES: dict[str, str] = {i.value: i.value for i in Interface}

P = ParamSpec("P")
R = TypeVar("R")


class CallRecord:
    """One tracked call in progress: the handle ``track`` yields.

    The call may set ``formula``, ``resource``, ``cache_hit``, ``items`` or ``client`` while it
    runs, or ``fail`` without raising. A plain class with slots rather than a generator-based
    context manager: this object is the whole per-call cost of tracking.
    """

    __slots__ = ("_t0", "_tracker", "_wall", "cache_hit", "client", "error_code", "formula",
                 "interface", "items", "outcome", "resource", "tool")

    def __init__(self, tracker: UsageTracker, tool: str, interface: str, client: str | None,
                 formula: str | None, resource: str | None) -> None:
        self._tracker = tracker
        self.tool = tool
        self.interface = interface
        self.client = client
        self.formula = formula
        self.resource = resource
        self.cache_hit: bool | None = None
        self.items: int | None = None
        self.outcome: str | None = None
        self.error_code: str | None = None

    def fail(self, code: str, *, timeout: bool = False) -> None:
        """Mark the call failed without raising (e.g. a handler that returns an error reply)."""
        self.outcome = Outcome.TIMEOUT if timeout else Outcome.ERROR
        self.error_code = code

    def __enter__(self) -> CallRecord:
        self._wall = time.time()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        duration = (time.perf_counter() - self._t0) * 1000.0
        if exc is not None and self.outcome is None:
            self.outcome, self.error_code = classify(exc)
        # started_at stays epoch seconds here; the flush converts it, off the calls' path.
        self._tracker._append({
            "client": self.client or "anonymous", "interface": self.interface,
            "tool": self.tool, "formula": self.formula, "resource": self.resource,
            "started_at": self._wall, "duration_ms": duration,
            "outcome": self.outcome or "ok", "error_code": self.error_code,
            "cache_hit": self.cache_hit, "items": self.items})


@dataclass(slots=True)
class TrackerStats:
    """Counters of one tracker since it was created."""

    recorded: int = 0
    written: int = 0
    dropped: int = 0
    flushes: int = 0
    flush_errors: int = 0
    pending: int = 0


def classify(exc: BaseException) -> tuple[Outcome, str]:
    """The outcome and error code a raised exception stands for."""
    if isinstance(exc, TimeoutError):
        return Outcome.TIMEOUT, "timeout"
    if isinstance(exc, CourtsideError):
        return Outcome.ERROR, exc.code
    if type(exc).__name__ == "CancelledError":
        return Outcome.ERROR, "cancelled"
    return Outcome.ERROR, type(exc).__name__


class UsageTracker:
    """Buffers usage events in memory and writes them to the database in batches.

    Use as a context manager (``with UsageTracker(db) as tracker:``) or call ``start`` and
    ``close``. ``close`` (also run at interpreter exit) writes whatever is still buffered.
    """

    def __init__(self, db: Database | str, *, flush_interval: float = 1.0,
                 batch_size: int = 500, max_buffer: int = 100_000, migrate: bool = True) -> None:
        if flush_interval <= 0 or batch_size <= 0 or max_buffer <= 0:
            raise ValueError("flush_interval, batch_size and max_buffer must be positive")
        self.db = Database(db) if isinstance(db, str) else db
        if migrate:
            self.db.migrate()
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.max_buffer = max_buffer
        self.stats = TrackerStats()
        self._buffer: deque[dict[str, Any]] = deque()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._atexit: Callable[[], None] | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        """Start the background flusher (idempotent)."""
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="courtside-usage-flush",
                                            daemon=True)
            self._thread.start()
            self._atexit = functools.partial(_close_weak, weakref.ref(self))
            atexit.register(self._atexit)
        return self

    def close(self) -> None:
        """Stop the flusher and write everything still buffered."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._atexit is not None:
            atexit.unregister(self._atexit)
            self._atexit = None
        self.flush()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ recording

    def record(self, event: UsageEvent) -> None:
        """Buffer one event; it reaches the database with the next flush."""
        self._append(event.to_row())

    def _append(self, row: dict[str, Any]) -> None:
        if len(self._buffer) >= self.max_buffer:
            # The database has been unreachable for a while: keep the process healthy.
            self.stats.dropped += 1
            return
        self._buffer.append(row)
        self.stats.recorded += 1
        if len(self._buffer) >= self.batch_size and not self._wake.is_set():
            self._wake.set()

    def track_usage_event(self, event: UsageEvent | None = None, **fields: Any) -> int:
        """Write one event now and return its id: acknowledged events survive a crash.

        Pass a ``UsageEvent`` or the keyword arguments of ``make_event``.
        """
        if event is None:
            event = make_event(**fields)
        elif fields:
            raise TypeError("pass either a UsageEvent or keyword fields, not both")
        event_id = insert_event(self.db, event.to_row())
        self.stats.recorded += 1
        self.stats.written += 1
        return event_id

    def track(self, tool: str, *, interface: Interface | str = Interface.PYTHON,
              client: str | None = None, formula: str | None = None,
              resource: str | None = None) -> CallRecord:
        """Time a ``with`` block and record it as one call; exceptions are recorded and re-raised.

        ``with tracker.track("calculate", interface="rest", client=token) as call:`` then
        ``call.cache_hit = True`` or ``call.formula = "PER"`` as the call learns them.
        """
        iface = _INTERFACES.get(interface)
        if iface is None:
            raise ConfigError(f"usage: interface {interface!r} is not one of "
                              f"{[i.value for i in Interface]}")
        return CallRecord(self, tool, iface, client, formula, resource)

    def tracked(self, tool: str | None = None, *, interface: Interface | str = Interface.PYTHON,
                client: str | None = None,
                formula_arg: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """Decorate a function (sync or async) so every call is tracked.

        ``formula_arg`` names a keyword argument whose value is the formula computed.
        """

        def decorate(fn: Callable[P, R]) -> Callable[P, R]:
            name = tool or fn.__name__

            def formula_of(kwargs: dict[str, Any]) -> str | None:
                value = kwargs.get(formula_arg) if formula_arg else None
                return value if isinstance(value, str) else None

            if inspect.iscoroutinefunction(fn):
                @functools.wraps(fn)
                async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                    with self.track(name, interface=interface, client=client,
                                    formula=formula_of(kwargs)):
                        return await fn(*args, **kwargs)

                return async_wrapper  # type: ignore[return-value]

            @functools.wraps(fn)
            def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
                with self.track(name, interface=interface, client=client,
                                formula=formula_of(kwargs)):
                    return fn(*args, **kwargs)

            return wrapper

        return decorate

    # ------------------------------------------------------------------ flushing

    @property
    def pending(self) -> int:
        """Events buffered and not yet written."""
        return len(self._buffer)

    def flush(self) -> int:
        """Write every buffered event now; returns how many were written."""
        written = 0
        with self._flush_lock:
            while self._buffer:
                batch: list[dict[str, Any]] = []
                while self._buffer and len(batch) < self.batch_size:
                    batch.append(self._buffer.popleft())
                try:
                    insert_events(self.db, batch)
                    done, kept = len(batch), []
                except Exception as exc:
                    self.stats.flush_errors += 1
                    done, kept = (self._write_one_by_one(batch) if _refused_data(exc)
                                  else (0, batch))
                    if kept:
                        log.warning("usage: could not write %d events (%s); will retry",
                                    len(kept), _first_line(exc))
                written += done
                self.stats.written += done
                self.stats.flushes += 1 if done else 0
                if kept:
                    # Keep the events for the next attempt, in their order.
                    self._buffer.extendleft(reversed(kept))
                    break
        self.stats.pending = len(self._buffer)
        return written

    def _write_one_by_one(self, batch: list[dict[str, Any]]) -> tuple[int, list[dict[str, Any]]]:
        """After the database refused a batch for its data (a NUL byte in a path): write its
        events one at a time and drop the ones refused, so that one bad event never blocks
        every later one. Returns how many were written and the events to retry (from the
        first that failed for another reason: the database went away)."""
        done = 0
        for i, row in enumerate(batch):
            try:
                insert_events(self.db, [row])
            except Exception as exc:
                if not _refused_data(exc):
                    return done, batch[i:]
                self.stats.dropped += 1
                log.warning("usage: dropped an event the database refused (%s): %s %r",
                            _first_line(exc), row.get("interface"), row.get("tool"))
            else:
                done += 1
        return done, []

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # never let the flusher die: calls keep being recorded
                log.exception("usage: flush failed")


def _refused_data(exc: BaseException) -> bool:
    """Whether the database refused the values themselves (retrying them cannot help), as
    opposed to being unreachable or without its tables."""
    orig = exc.orig if isinstance(exc, StatementError) else exc
    return isinstance(exc, DataError | IntegrityError) or isinstance(
        orig, ValueError | TypeError | OverflowError)


def _first_line(exc: BaseException) -> str:
    # SQLAlchemy's message goes on with the statement and every row's parameters.
    text = str(exc)
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def _close_weak(ref: weakref.ref[UsageTracker]) -> None:
    tracker = ref()
    if tracker is not None:
        tracker.close()
