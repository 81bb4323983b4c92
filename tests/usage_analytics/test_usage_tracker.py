"""UsageTracker: buffered recording, background and shutdown flushes, the durable explicit path."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from courtside.model import ConfigError, NotFoundError
from courtside.storage.db import Database
from courtside.storage.usage import usage_events
from courtside.usage.events import make_event
from courtside.usage.tracker import UsageTracker

SRC = Path(__file__).resolve().parents[2] / "src"


def rows(db: Database) -> list[dict]:
    with db.begin() as conn:
        return [dict(r._mapping) for r in conn.execute(select(usage_events).order_by(usage_events.c.id))]


def count(db: Database) -> int:
    with db.begin() as conn:
        return conn.execute(select(func.count()).select_from(usage_events)).scalar_one()


def wait_for(pred, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def test_events_are_buffered_until_a_flush_and_written_on_close(db):
    tracker = UsageTracker(db, flush_interval=60).start()
    for i in range(25):
        with tracker.track("calculate", interface="rest", client="alice", formula="PER") as call:
            call.cache_hit = i % 5 == 0
    assert tracker.pending == 25
    assert count(db) == 0  # nothing written inside the calls
    tracker.close()
    stored = rows(db)
    assert len(stored) == 25
    assert {r["client"] for r in stored} == {"alice"}
    assert {r["interface"] for r in stored} == {"rest"}
    assert sum(r["cache_hit"] for r in stored) == 5
    assert all(r["outcome"] == "ok" and r["duration_ms"] >= 0 for r in stored)


def test_background_thread_flushes_on_its_interval_and_when_a_batch_fills(db):
    with UsageTracker(db, flush_interval=0.05) as tracker:
        with tracker.track("status", interface="cli"):
            pass
        assert wait_for(lambda: count(db) == 1)
    with UsageTracker(db, flush_interval=3600, batch_size=10) as tracker:
        for _ in range(10):
            with tracker.track("status", interface="cli"):
                pass
        # The interval is an hour: only the full batch can have woken the flusher.
        assert wait_for(lambda: count(db) == 11)
        assert tracker.stats.flushes >= 1


def test_exceptions_are_recorded_with_outcome_and_code_then_reraised(db):
    with UsageTracker(db, flush_interval=60) as tracker:
        with pytest.raises(NotFoundError), tracker.track("describe_formula", interface="mcp"):
            raise NotFoundError("no formula XYZ")
        with pytest.raises(TimeoutError), tracker.track("calculate", interface="rest"):
            raise TimeoutError
        with pytest.raises(KeyError), tracker.track("calculate", interface="rest"):
            raise KeyError("x")
        with tracker.track("calculate", interface="websocket") as call:
            call.fail("invalid_formula")
    got = [(r["tool"], r["outcome"], r["error_code"]) for r in rows(db)]
    assert got == [("describe_formula", "error", "not_found"), ("calculate", "timeout", "timeout"),
                   ("calculate", "error", "KeyError"), ("calculate", "error", "invalid_formula")]


def test_decorator_tracks_sync_and_async_functions_and_their_formula(db):
    tracker = UsageTracker(db, flush_interval=60)

    @tracker.tracked(interface="python", client="nb", formula_arg="formula_id")
    def compute(x, *, formula_id):
        time.sleep(0.02)
        return x * 2

    @tracker.tracked("calculate_async", interface="websocket", formula_arg="formula_id")
    async def compute_async(*, formula_id):
        await asyncio.sleep(0.02)
        raise ValueError("bad")

    assert compute(21, formula_id="TS_PCT") == 42
    with pytest.raises(ValueError):
        asyncio.run(compute_async(formula_id="PER"))
    tracker.close()
    a, b = rows(db)
    assert (a["tool"], a["formula"], a["client"], a["outcome"]) == ("compute", "TS_PCT", "nb", "ok")
    assert (b["tool"], b["formula"], b["interface"], b["outcome"], b["error_code"]) == (
        "calculate_async", "PER", "websocket", "error", "ValueError")
    assert a["duration_ms"] >= 20 and b["duration_ms"] >= 20


def test_a_failed_flush_keeps_the_events_for_the_next_one(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'late.db'}")
    tracker = UsageTracker(db, flush_interval=60, migrate=False)  # no tables yet
    for _ in range(3):
        with tracker.track("calculate"):
            pass
    assert tracker.flush() == 0
    assert tracker.stats.flush_errors == 1 and tracker.pending == 3
    db.migrate()
    assert tracker.flush() == 3
    assert count(db) == 3


def test_a_full_buffer_drops_and_counts_instead_of_growing(db):
    tracker = UsageTracker(db, flush_interval=60, max_buffer=5)
    for _ in range(8):
        with tracker.track("calculate"):
            pass
    assert tracker.pending == 5 and tracker.stats.dropped == 3


def test_make_event_rejects_bad_input_with_a_clear_message():
    with pytest.raises(ConfigError, match="interface 'smtp' is not one of"):
        make_event(tool="x", interface="smtp")
    with pytest.raises(ConfigError, match="outcome 'meh'"):
        make_event(tool="x", outcome="meh")
    with pytest.raises(ConfigError, match="duration_ms must be a finite number >= 0"):
        make_event(tool="x", duration_ms=-1)
    with pytest.raises(ConfigError, match="'tool' is required"):
        make_event(tool=" ")
    with pytest.raises(ConfigError, match="not an ISO 8601 time"):
        make_event(tool="x", started_at="yesterday")


def test_acknowledged_event_survives_kill_9_while_buffered_ones_do_not(tmp_path):
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    script = textwrap.dedent(f"""
        import sys, time
        from courtside.usage.tracker import UsageTracker
        tracker = UsageTracker({url!r}, flush_interval=3600).start()
        with tracker.track("buffered_call", interface="python"):
            pass
        event_id = tracker.track_usage_event(tool="acked_call", interface="mcp", client="agent-7",
                                             formula="PER", duration_ms=12.5, cache_hit=True)
        print("ACK", event_id, flush=True)
        time.sleep(60)
    """)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env,
                            text=True)
    try:
        line = proc.stdout.readline().split()
        assert line[0] == "ACK"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    db = Database(url)
    stored = rows(db)
    assert [(r["id"], r["tool"], r["client"], r["formula"], r["duration_ms"], r["cache_hit"])
            for r in stored] == [(int(line[1]), "acked_call", "agent-7", "PER", 12.5, True)]
    db.dispose()


def test_make_event_limits_are_the_columns_lengths():
    with pytest.raises(ConfigError, match="error_code is 150 characters long; at most 100"):
        make_event(tool="x", outcome="error", error_code="e" * 150)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_event_the_database_refuses_never_blocks_the_others(backend, tmp_path, request):
    url = (request.getfixturevalue("postgres_url") if backend == "postgresql"
           else f"sqlite:///{tmp_path / 'u.db'}")
    db = Database(url)
    try:
        tracker = UsageTracker(db, flush_interval=60)
        with db.begin() as conn:
            conn.execute(usage_events.delete())
        # A 404's raw path is the tool: longer than the column, and PostgreSQL refuses NUL.
        for tool in ("GET /v1/" + "x" * 300, "GET /v1/a\x00b", "GET /v1/games"):
            with tracker.track(tool, interface="rest"):
                pass
        tracker.flush()
        with tracker.track("GET /v1/formulas", interface="rest"):
            pass
        tracker.flush()
        tools = [r["tool"] for r in rows(db)]
        assert tools[0] == ("GET /v1/" + "x" * 300)[:200]
        assert tools[-2:] == ["GET /v1/games", "GET /v1/formulas"]
        assert tracker.pending == 0
        assert tracker.stats.dropped == (1 if backend == "postgresql" else 0)
    finally:
        db.dispose()


def test_a_naive_start_time_is_utc_whatever_the_machine_zone(monkeypatch):
    from datetime import UTC, datetime

    from courtside.usage.events import Interface, UsageEvent

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        ev = UsageEvent(client="a", interface=Interface.PYTHON, tool="t",
                        started_at=datetime(2026, 1, 1, 20, 0), duration_ms=1.0)
        assert ev.to_row()["started_at"] == datetime(2026, 1, 1, 20, 0, tzinfo=UTC)
        assert make_event(tool="t", started_at="2026-01-01T20:00:00").to_row()["started_at"] \
            == datetime(2026, 1, 1, 20, 0, tzinfo=UTC)
    finally:
        monkeypatch.undo()
        time.tzset()
