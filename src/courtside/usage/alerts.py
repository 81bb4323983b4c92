"""Usage alerts: rules stored in the database, evaluated on demand or continuously, delivered
to webhooks, callbacks (the service publishes to the ``alerts`` topic) and the log, with a
cooldown per rule and a history.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import polars as pl
from sqlalchemy import delete, desc, func, or_, select, update

from courtside.model import ConfigError, NotFoundError, _JSONShape, utcnow
from courtside.storage.db import Database
from courtside.storage.usage import alert_events, alert_rules, as_utc
from courtside.usage.frame import FILTERS, check_filters, events_frame
from courtside.usage.period import Period

log = logging.getLogger(__name__)

METRICS = ("error_rate", "timeout_rate", "p50_latency_ms", "p95_latency_ms", "p99_latency_ms",
           "volume", "cache_hit_rate")
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}

AlertCallback = Callable[["AlertEvent"], Any]


@dataclass(slots=True)
class AlertRule(_JSONShape):
    """A condition on one usage metric over a sliding window.

    Attributes:
        name: unique name.
        metric: error_rate, timeout_rate, p50/p95/p99_latency_ms, volume (calls) or cache_hit_rate.
        comparison: one of > >= < <=; the rule fires when ``metric comparison threshold``.
        threshold: the value compared against (rates are fractions: 0.05 is 5%).
        window_seconds: the metric is computed over the events of the last this many seconds.
        cooldown_seconds: after firing, the rule stays quiet this long (deduplication).
        min_events: fewer events than this in the window and the rule is not judged
            (volume rules are always judged, so that ``volume < n`` catches silence).
        filters: restrict to some events: client, interface, tool, formula.
        webhook_url: an extra webhook for this rule only.
        enabled: False to keep the rule without evaluating it.
        rule_id: set once stored.
    """

    name: str
    metric: str
    comparison: str
    threshold: float
    window_seconds: float = 300.0
    cooldown_seconds: float = 900.0
    min_events: int = 1
    filters: dict[str, str] = field(default_factory=dict)
    webhook_url: str | None = None
    enabled: bool = True
    rule_id: int | None = None

    def validate(self) -> AlertRule:
        """Raise ConfigError naming the bad field and what is accepted; return self when fine."""
        if not self.name or len(self.name) > 200:
            raise ConfigError("alert rule: name is required (at most 200 characters)")
        if self.metric not in METRICS:
            raise ConfigError(f"alert rule {self.name!r}: metric {self.metric!r} is not one of "
                              f"{list(METRICS)}")
        if self.comparison not in COMPARISONS:
            raise ConfigError(f"alert rule {self.name!r}: comparison {self.comparison!r} is not "
                              f"one of {list(COMPARISONS)}")
        if not self.window_seconds > 0:
            raise ConfigError(f"alert rule {self.name!r}: window_seconds must be > 0")
        if self.cooldown_seconds < 0 or self.min_events < 0:
            raise ConfigError(f"alert rule {self.name!r}: cooldown_seconds and min_events "
                              "must be >= 0")
        self.filters = check_filters(self.filters)
        if self.webhook_url and not self.webhook_url.startswith(("http://", "https://")):
            raise ConfigError(f"alert rule {self.name!r}: webhook_url must be an http(s) URL")
        return self

    def describe(self) -> str:
        """The condition in words: ``error_rate > 0.1 over 300 s``."""
        where = "".join(f", {k}={v}" for k, v in sorted(self.filters.items()))
        return (f"{self.metric} {self.comparison} {self.threshold:g} over "
                f"{self.window_seconds:g} s{where}")


@dataclass(slots=True)
class AlertEvent(_JSONShape):
    """A rule that fired.

    Attributes:
        event_id: its row in the history.
        rule_id, rule_name: the rule.
        fired_at: when, UTC.
        metric, value, comparison, threshold: what was measured and the condition it met.
        window_start, window_end: the window measured.
        events: how many usage events the window held.
        message: the alert in one sentence, built from the numbers.
        deliveries: per channel (``log``, a webhook URL, ``callback:<name>``): ``ok`` or the error.
    """

    event_id: int
    rule_id: int
    rule_name: str
    fired_at: datetime
    metric: str
    value: float | None
    comparison: str
    threshold: float
    window_start: datetime
    window_end: datetime
    events: int
    message: str
    deliveries: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------------------ rule storage


def _rule_from_row(row: Mapping[str, Any]) -> AlertRule:
    return AlertRule(name=row["name"], metric=row["metric"], comparison=row["comparison"],
                     threshold=row["threshold"], window_seconds=row["window_seconds"],
                     cooldown_seconds=row["cooldown_seconds"], min_events=row["min_events"],
                     filters=dict(row["filters"] or {}), webhook_url=row["webhook_url"],
                     enabled=row["enabled"], rule_id=row["id"])


def add_rule(db: Database, rule: AlertRule) -> AlertRule:
    """Validate and store a rule (names are unique); returns it with its id."""
    rule.validate()
    with db.begin() as conn:
        if conn.execute(select(alert_rules.c.id).where(alert_rules.c.name == rule.name)).first():
            raise ConfigError(f"alert rule {rule.name!r} already exists; remove it first or "
                              "choose another name")
        res = conn.execute(alert_rules.insert().values(
            name=rule.name, metric=rule.metric, comparison=rule.comparison,
            threshold=float(rule.threshold), window_seconds=float(rule.window_seconds),
            cooldown_seconds=float(rule.cooldown_seconds), min_events=int(rule.min_events),
            filters=rule.filters, webhook_url=rule.webhook_url, enabled=rule.enabled,
            created_at=utcnow()))
        rule.rule_id = int(res.inserted_primary_key[0])
    return rule


def list_rules(db: Database, *, enabled_only: bool = False) -> list[AlertRule]:
    """Every stored rule, oldest first."""
    stmt = select(alert_rules).order_by(alert_rules.c.id)
    if enabled_only:
        stmt = stmt.where(alert_rules.c.enabled.is_(True))
    with db.begin() as conn:
        return [_rule_from_row(r) for r in conn.execute(stmt).mappings()]


def remove_rule(db: Database, name_or_id: str | int) -> None:
    """Delete a rule by name or id (its history stays)."""
    cond = or_(alert_rules.c.name == str(name_or_id),
               alert_rules.c.id == (int(name_or_id) if str(name_or_id).isdigit() else -1))
    with db.begin() as conn:
        if conn.execute(delete(alert_rules).where(cond)).rowcount == 0:
            raise NotFoundError(f"no alert rule named {name_or_id!r}; list them with "
                                "`courtside usage alerts list`")


def set_rule_enabled(db: Database, name: str, enabled: bool) -> None:
    """Pause or resume a rule."""
    with db.begin() as conn:
        res = conn.execute(update(alert_rules).where(alert_rules.c.name == name)
                           .values(enabled=enabled))
        if res.rowcount == 0:
            raise NotFoundError(f"no alert rule named {name!r}")


def alert_history(db: Database, *, rule: str | None = None, limit: int = 100) -> list[AlertEvent]:
    """Fired alerts, newest first."""
    stmt = select(alert_events).order_by(desc(alert_events.c.fired_at), desc(alert_events.c.id))
    if rule is not None:
        stmt = stmt.where(alert_events.c.rule_name == rule)
    with db.begin() as conn:
        rows = conn.execute(stmt.limit(limit)).mappings().all()
    return [AlertEvent(event_id=r["id"], rule_id=r["rule_id"], rule_name=r["rule_name"],
                       fired_at=as_utc(r["fired_at"]), metric=r["metric"], value=r["value"],
                       comparison=r["comparison"], threshold=r["threshold"],
                       window_start=as_utc(r["window_start"]), window_end=as_utc(r["window_end"]),
                       events=r["events"], message=r["message"],
                       deliveries=dict(r["deliveries"] or {})) for r in rows]


# ------------------------------------------------------------------------------ metrics


def measure(df: pl.DataFrame, metric: str) -> float | None:
    """One metric over a window's events; None when there is nothing to measure."""
    if metric == "volume":
        return float(df.height)
    if metric == "cache_hit_rate":
        looked = df.filter(pl.col("cache_hit").is_not_null())
        return float(looked["cache_hit"].mean()) if looked.height else None
    if df.is_empty():
        return None
    if metric == "error_rate":
        return float((df["outcome"] != "ok").mean())
    if metric == "timeout_rate":
        return float((df["outcome"] == "timeout").mean())
    q = {"p50_latency_ms": 0.5, "p95_latency_ms": 0.95, "p99_latency_ms": 0.99}[metric]
    return float(df["duration_ms"].quantile(q, "linear"))


# ------------------------------------------------------------------------------ evaluator


@contextlib.contextmanager
def _delivery(ev: AlertEvent, target: str,
              errors: type[Exception] | tuple[type[Exception], ...] = Exception) -> Iterator[None]:
    """Record how delivering ``ev`` to ``target`` went: ``ok``, or ``error: ...`` for one of
    ``errors``, which is kept from the caller (one failed target never stops the others)."""
    try:
        yield
    except errors as exc:
        ev.deliveries[target] = f"error: {exc!r}"
    else:
        ev.deliveries[target] = "ok"


def _callback_target(cb: Callable[..., Any]) -> str:
    return f"callback:{getattr(cb, '__name__', type(cb).__name__)}"


class AlertEvaluator:
    """Evaluates the stored rules and delivers what fires.

    ``webhook_urls`` receive every alert (plus each rule's own URL); ``callbacks`` are called
    with the ``AlertEvent`` (sync or async; the service publishes it to the ``alerts`` topic);
    the log gets a warning per alert. A failing channel is recorded and never stops the others.
    """

    def __init__(self, db: Database, *, webhook_urls: Iterable[str] = (),
                 callbacks: Iterable[AlertCallback] = (), log_alerts: bool = True,
                 http_timeout: float = 5.0) -> None:
        self.db = db
        self.webhook_urls = list(webhook_urls)
        self.callbacks = list(callbacks)
        self.log_alerts = log_alerts
        self.http_timeout = http_timeout
        self.evaluations = 0
        self.suppressed = 0
        self._task: asyncio.Task[None] | None = None

    # -------------------------------------------------------------- detection (database)

    def _check(self, rule: AlertRule, now: datetime) -> AlertEvent | None:
        start = now - timedelta(seconds=rule.window_seconds)
        df = events_frame(self.db, Period(start, now), rule.filters)
        base = df.filter(pl.col("cache_hit").is_not_null()).height \
            if rule.metric == "cache_hit_rate" else df.height
        if rule.metric != "volume" and base < max(rule.min_events, 1):
            return None
        value = measure(df, rule.metric)
        if value is None or not COMPARISONS[rule.comparison](value, rule.threshold):
            return None
        where = "".join(f", {k}={v}" for k, v in sorted(rule.filters.items()))
        message = (f"{rule.name}: {rule.metric} was {value:.4g} ({rule.comparison} "
                   f"{rule.threshold:g}) over the last {rule.window_seconds:g} s "
                   f"({df.height} events{where})")
        with self.db.begin() as conn:
            # Evaluators of several instances share the database: writing the rule's row
            # first takes its lock (PostgreSQL) or the write lock (SQLite), so the cooldown
            # check and the insert below are one step and the alert fires once.
            conn.execute(update(alert_rules).where(alert_rules.c.id == rule.rule_id)
                         .values(id=alert_rules.c.id))
            last = as_utc(conn.execute(select(func.max(alert_events.c.fired_at))
                                       .where(alert_events.c.rule_id == rule.rule_id))
                          .scalar_one())
            if last is not None and (now - last).total_seconds() < rule.cooldown_seconds:
                self.suppressed += 1
                return None
            res = conn.execute(alert_events.insert().values(
                rule_id=rule.rule_id, rule_name=rule.name, fired_at=now, metric=rule.metric,
                value=value, threshold=rule.threshold, comparison=rule.comparison,
                window_start=start, window_end=now, events=df.height, message=message,
                deliveries={}))
            event_id = int(res.inserted_primary_key[0])
        return AlertEvent(event_id, rule.rule_id, rule.name, now, rule.metric, value,  # type: ignore[arg-type]
                          rule.comparison, rule.threshold, start, now, df.height, message)

    def _detect(self, now: datetime | None) -> list[tuple[AlertRule, AlertEvent]]:
        now = now or utcnow()
        self.evaluations += 1
        fired = []
        for rule in list_rules(self.db, enabled_only=True):
            try:
                ev = self._check(rule, now)
            except Exception:  # one broken rule never silences the others
                log.exception("usage alerts: rule %r could not be evaluated", rule.name)
                continue
            if ev is not None:
                fired.append((rule, ev))
        return fired

    def _save_deliveries(self, ev: AlertEvent) -> None:
        with self.db.begin() as conn:
            conn.execute(update(alert_events).where(alert_events.c.id == ev.event_id)
                         .values(deliveries=ev.deliveries))

    def _urls(self, rule: AlertRule) -> list[str]:
        return [*self.webhook_urls, *([rule.webhook_url] if rule.webhook_url else [])]

    def _log(self, ev: AlertEvent) -> None:
        if self.log_alerts:
            log.warning("usage alert: %s", ev.message)
            ev.deliveries["log"] = "ok"

    # -------------------------------------------------------------- on demand

    def evaluate(self, now: datetime | None = None) -> list[AlertEvent]:
        """Evaluate every enabled rule now and deliver what fires (blocking)."""
        out = []
        for rule, ev in self._detect(now):
            self._log(ev)
            urls = self._urls(rule)
            if urls:
                payload = ev.to_dict()
                with httpx.Client(timeout=self.http_timeout) as client:
                    for url in urls:
                        with _delivery(ev, url, httpx.HTTPError):
                            client.post(url, json=payload).raise_for_status()
            for cb in self.callbacks:
                with _delivery(ev, _callback_target(cb)):
                    result = cb(ev)
                    if inspect.isawaitable(result):
                        asyncio.run(result)  # type: ignore[arg-type]
            self._save_deliveries(ev)
            out.append(ev)
        return out

    async def aevaluate(self, now: datetime | None = None) -> list[AlertEvent]:
        """Evaluate every enabled rule and deliver, without blocking the event loop."""
        fired = await asyncio.to_thread(self._detect, now)
        out = []
        async with httpx.AsyncClient(timeout=self.http_timeout) as client:
            for rule, ev in fired:
                self._log(ev)
                payload = ev.to_dict()
                for url in self._urls(rule):
                    with _delivery(ev, url, httpx.HTTPError):
                        (await client.post(url, json=payload)).raise_for_status()
                for cb in self.callbacks:
                    with _delivery(ev, _callback_target(cb)):
                        result = cb(ev)
                        if inspect.isawaitable(result):
                            await result
                await asyncio.to_thread(self._save_deliveries, ev)
                out.append(ev)
        return out

    # -------------------------------------------------------------- continuously

    async def run(self, interval: float = 30.0) -> None:
        """Evaluate every ``interval`` seconds until cancelled."""
        if interval <= 0:
            raise ConfigError("alert evaluation interval must be > 0 seconds")
        while True:
            try:
                await self.aevaluate()
            except Exception:  # a database hiccup must not end the loop
                log.exception("usage alerts: evaluation failed; retrying in %.0f s", interval)
            await asyncio.sleep(interval)

    def start(self, interval: float = 30.0) -> asyncio.Task[None]:
        """Start ``run`` as a task of the running loop (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(interval),
                                                                name="courtside-usage-alerts")
        return self._task

    async def stop(self) -> None:
        """Cancel the continuous evaluation and wait for it to end."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


__all__ = ["COMPARISONS", "FILTERS", "METRICS", "AlertEvaluator", "AlertEvent", "AlertRule",
           "add_rule", "alert_history", "list_rules", "measure", "remove_rule",
           "set_rule_enabled"]
