"""Alert rules: storage, evaluation, cooldown, delivery to a real local webhook, callbacks, log."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from courtside.model import ConfigError, NotFoundError
from courtside.storage.usage import insert_events
from courtside.usage.alerts import (
    AlertEvaluator,
    AlertRule,
    add_rule,
    alert_history,
    list_rules,
    remove_rule,
    set_rule_enabled,
)
from courtside.usage.events import make_event

from .server import free_port, serve

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


def calls(db, n, *, errors=0, end=NOW, tool="calculate", ms=10.0, spacing=10):
    """``n`` calls ending just before ``end``, ``spacing`` seconds apart; the last ``errors`` fail."""
    ev = [make_event(tool=tool, started_at=end - timedelta(seconds=spacing * (n - k)),
                     duration_ms=ms, outcome="error" if k >= n - errors else "ok",
                     error_code="invalid_data" if k >= n - errors else None) for k in range(n)]
    insert_events(db, [e.to_row() for e in ev])


@pytest.fixture
def receiver():
    got: list[dict] = []

    async def hook(request: Request):
        got.append(await request.json())
        return JSONResponse({"ok": True})

    with serve(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as base:
        yield f"{base}/hook", got


def test_rules_are_stored_validated_and_removed(db):
    add_rule(db, AlertRule("errors", "error_rate", ">", 0.1, filters={"tool": "calculate"}))
    add_rule(db, AlertRule("slow", "p95_latency_ms", ">=", 500, window_seconds=60))
    assert [(r.name, r.metric, r.filters) for r in list_rules(db)] == [
        ("errors", "error_rate", {"tool": "calculate"}), ("slow", "p95_latency_ms", {})]
    set_rule_enabled(db, "slow", False)
    assert [r.name for r in list_rules(db, enabled_only=True)] == ["errors"]
    remove_rule(db, "slow")
    assert [r.name for r in list_rules(db)] == ["errors"]
    with pytest.raises(ConfigError, match="metric 'latency' is not one of"):
        add_rule(db, AlertRule("x", "latency", ">", 1))
    with pytest.raises(ConfigError, match="comparison '=>' is not one of"):
        add_rule(db, AlertRule("x", "volume", "=>", 1))
    with pytest.raises(ConfigError, match="already exists"):
        add_rule(db, AlertRule("errors", "volume", "<", 1))
    with pytest.raises(ConfigError, match="usage filter 'team'"):
        add_rule(db, AlertRule("x", "volume", "<", 1, filters={"team": "LAL"}))
    with pytest.raises(NotFoundError):
        remove_rule(db, "nope")


def test_fires_with_the_measured_value_then_cools_down(db, receiver, caplog):
    url, got = receiver
    calls(db, 10, errors=3)  # 3 of 10 calls in the last 100 s failed
    calls(db, 5, errors=5, tool="batch")  # filtered out by the rule
    add_rule(db, AlertRule("calc-errors", "error_rate", ">", 0.2, window_seconds=300,
                           cooldown_seconds=600, filters={"tool": "calculate"}))
    add_rule(db, AlertRule("calc-slow", "p95_latency_ms", ">", 50, window_seconds=300))
    seen = []
    ev = AlertEvaluator(db, webhook_urls=[url], callbacks=[seen.append])
    with caplog.at_level(logging.WARNING, logger="courtside.usage.alerts"):
        fired = ev.evaluate(now=NOW)
    assert [(a.rule_name, a.value, a.events) for a in fired] == [("calc-errors", 0.3, 10)]
    assert "error_rate was 0.3 (> 0.2) over the last 300 s (10 events, tool=calculate)" in fired[0].message
    assert [(g["rule_name"], g["value"], g["events"]) for g in got] == [("calc-errors", 0.3, 10)]
    assert seen == fired and "calc-errors: error_rate was 0.3" in caplog.text
    assert fired[0].deliveries == {"log": "ok", url: "ok", "callback:append": "ok"}
    # Within the cooldown: the same condition does not fire again.
    assert ev.evaluate(now=NOW + timedelta(seconds=60)) == [] and ev.suppressed == 1
    # After the cooldown the old failures have left the 300 s window: nothing fires, new ones do.
    later = NOW + timedelta(seconds=700)
    assert ev.evaluate(now=later) == []
    calls(db, 4, errors=2, end=later)
    again = ev.evaluate(now=later)
    assert [(a.rule_name, a.value) for a in again] == [("calc-errors", 0.5)]
    hist = alert_history(db)
    assert [(h.rule_name, h.value) for h in hist] == [("calc-errors", 0.5), ("calc-errors", 0.3)]
    assert hist[1].deliveries[url] == "ok" and len(got) == 2


def test_volume_rule_catches_silence_and_min_events_guards_rates(db):
    add_rule(db, AlertRule("quiet", "volume", "<", 1, window_seconds=60, cooldown_seconds=0))
    add_rule(db, AlertRule("errors", "error_rate", ">=", 0.5, min_events=5))
    calls(db, 2, errors=2, end=NOW - timedelta(seconds=120))  # 100% errors but only 2 calls
    fired = AlertEvaluator(db, log_alerts=False).evaluate(now=NOW)
    assert [(a.rule_name, a.value, a.events) for a in fired] == [("quiet", 0.0, 0)]


def test_a_dead_webhook_is_recorded_and_other_channels_still_deliver(db):
    dead = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    calls(db, 3)
    add_rule(db, AlertRule("busy", "volume", ">=", 3, webhook_url=dead))
    seen = []
    fired = AlertEvaluator(db, callbacks=[seen.append], http_timeout=2).evaluate(now=NOW)
    assert len(seen) == 1
    d = alert_history(db)[0].deliveries
    assert d[dead].startswith("error: ConnectError") and d["callback:append"] == "ok"
    assert fired[0].value == 3


async def test_continuous_evaluation_publishes_to_an_async_callback(db, receiver):
    url, got = receiver
    published: asyncio.Queue = asyncio.Queue()

    async def publish_alerts_topic(ev):  # what the service will do with the `alerts` topic
        await published.put(ev)

    add_rule(db, AlertRule("any-errors", "error_rate", ">", 0, window_seconds=60,
                           cooldown_seconds=3600))
    ev = AlertEvaluator(db, webhook_urls=[url], callbacks=[publish_alerts_topic])
    ev.start(interval=0.05)
    try:
        async with asyncio.timeout(10):  # a few evaluations have run (polled, not slept)
            while ev.evaluations < 3:
                await asyncio.sleep(0.01)
        assert published.empty()  # nothing has failed yet
        calls(db, 2, errors=1, end=datetime.now(UTC), spacing=1)
        alert = await asyncio.wait_for(published.get(), timeout=5)
        assert alert.rule_name == "any-errors" and alert.value == 0.5
        # Later evaluations see the same condition but are deduplicated by the cooldown.
        for _ in range(200):
            if ev.suppressed >= 2:
                break
            await asyncio.sleep(0.05)
        assert ev.suppressed >= 2 and published.empty()
    finally:
        await ev.stop()
    assert [g["rule_name"] for g in got] == ["any-errors"]
    assert alert_history(db)[0].deliveries["callback:publish_alerts_topic"] == "ok"


@pytest.mark.postgres
def test_rules_evaluation_and_history_on_postgresql(postgres_url):
    import uuid

    from courtside.storage.db import Database

    db = Database(postgres_url)
    db.migrate()
    tag = uuid.uuid4().hex[:8]  # the shared test database may hold other runs' rows
    name, client = f"pg-errors-{tag}", f"pg-{tag}"
    ev = [make_event(tool="calculate", client=client, duration_ms=5,
                     outcome="error" if k < 2 else "ok", error_code="x" if k < 2 else None,
                     started_at=NOW - timedelta(seconds=10 * (k + 1))) for k in range(8)]
    insert_events(db, [e.to_row() for e in ev])
    add_rule(db, AlertRule(name, "error_rate", ">=", 0.25, filters={"client": client}))
    try:
        seen = []
        fired = [a for a in AlertEvaluator(db, callbacks=[seen.append], log_alerts=False)
                 .evaluate(now=NOW) if a.rule_name == name]
        assert [(a.value, a.events) for a in fired] == [(0.25, 8)]
        hist = alert_history(db, rule=name)
        assert [(h.value, h.deliveries) for h in hist] == [(0.25, {"callback:append": "ok"})]
        assert hist[0].fired_at == NOW
    finally:
        remove_rule(db, name)
        db.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql",
                                                             marks=pytest.mark.postgres)])
def test_evaluators_racing_on_one_database_fire_a_rule_once(backend, request, tmp_path):
    # Several service instances share a database: each evaluates every rule, but the cooldown
    # must hold across them, so an alert is delivered once, not once per instance.
    import threading

    from courtside.storage.db import Database

    url = (request.getfixturevalue("postgres_url") if backend == "postgresql"
           else f"sqlite:///{tmp_path / 'shared.db'}")
    db = Database(url)
    db.migrate()
    calls(db, 8, errors=4, tool="raced")
    add_rule(db, AlertRule("racing", "error_rate", ">=", 0.25, cooldown_seconds=600,
                           filters={"tool": "raced"}))
    evaluators = [AlertEvaluator(Database(url), log_alerts=False) for _ in range(6)]
    start = threading.Barrier(len(evaluators))
    fired: list = []

    def run(evaluator: AlertEvaluator) -> None:
        start.wait()
        fired.extend(evaluator.evaluate(now=NOW))

    try:
        threads = [threading.Thread(target=run, args=(e,)) for e in evaluators]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(fired) == 1
        assert len(alert_history(db, rule="racing")) == 1
        assert sum(e.suppressed for e in evaluators) == len(evaluators) - 1
    finally:
        remove_rule(db, "racing")
        for e in evaluators:
            e.db.dispose()
        db.dispose()
