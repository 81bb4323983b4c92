"""One handle on the usage analytics of a database: what the interfaces call.

:class:`UsageAnalytics` binds the database and the live tracker of a running service, so that a
REST route, an MCP tool and a CLI command asking for the same thing make the same call. Every
read flushes the tracker first: a report always includes the calls made just before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from courtside.model import ConfigError
from courtside.storage.db import Database
from courtside.usage.alerts import (
    AlertCallback,
    AlertEvaluator,
    AlertRule,
    add_rule,
    alert_history,
    list_rules,
    remove_rule,
)
from courtside.usage.dashboard import dashboard_data
from courtside.usage.insights import generate_insights
from courtside.usage.optimise import OptimisationTarget, apply, recommend_actions
from courtside.usage.patterns import analyze_usage_patterns
from courtside.usage.report import build_report, normalise_format, render_report

__all__ = ["UsageAnalytics"]


class UsageAnalytics:
    """Patterns, insights, optimisation, reports, alerts and dashboard data for one database.

    Args:
        db: the usage database.
        tracker: the ``UsageTracker`` recording into it (flushed before each read), or None.
        known_tools, known_formulas: what exists, for the unused-feature insight.
    """

    def __init__(self, db: Database, tracker: Any = None, *, known_tools: Iterable[str] = (),
                 known_formulas: Iterable[str] = ()) -> None:
        self.db = db
        self.tracker = tracker
        self.known_tools = list(known_tools)
        self.known_formulas = list(known_formulas)

    def _fresh(self) -> None:
        if self.tracker is not None:
            self.tracker.flush()

    def track(self, **fields: Any) -> int:
        """Write one event now (acknowledged: it survives a crash); returns its id.

        Fields are those of ``courtside.usage.events.make_event``.
        """
        if self.tracker is None:
            raise ConfigError("usage tracking is not running; start the service first")
        return self.tracker.track_usage_event(**fields)

    def patterns(self, period: str | None = "day", *,
                 filters: Mapping[str, str | None] | None = None, top: int = 10) -> dict[str, Any]:
        """Volume, top formulas/tools/clients, latency percentiles, errors, trends, time of day."""
        self._fresh()
        return analyze_usage_patterns(self.db, period, filters=filters, top=top).to_dict()

    def insights(self, period: str | None = "day", *,
                 filters: Mapping[str, str | None] | None = None) -> list[dict[str, Any]]:
        """Findings computed from the period's events, each with its numbers."""
        self._fresh()
        pats = analyze_usage_patterns(self.db, period, filters=filters)
        return [i.to_dict() for i in generate_insights(
            pats, known_tools=self.known_tools, known_formulas=self.known_formulas)]

    def report(self, period: str | None = "day", fmt: str = "json", *,
               filters: Mapping[str, str | None] | None = None,
               current: Mapping[str, Any] | None = None) -> str:
        """The period's report as text: json, csv, markdown (md) or html (charts inline)."""
        fmt = normalise_format(fmt)
        self._fresh()
        report = build_report(self.db, period, filters=filters, known_tools=self.known_tools,
                              known_formulas=self.known_formulas, current=current)
        return render_report(report, fmt)

    def optimise(self, target: OptimisationTarget, *, period: str | None = "hour",
                 apply_actions: bool = False, current: Mapping[str, Any] | None = None,
                 workload: Callable[[], Any] | None = None) -> dict[str, Any]:
        """Actions derived from the period's usage; applied to ``target`` and measured when
        ``apply_actions`` (the outcome is stored with the optimisation history)."""
        self._fresh()
        pats = analyze_usage_patterns(self.db, period)
        actions = recommend_actions(pats, current=current)
        out: dict[str, Any] = {"period": pats.period.to_dict(), "calls": pats.totals["calls"],
                               "actions": [a.to_dict() for a in actions], "applied": False}
        if apply_actions and actions:
            report = apply(actions, target, workload=workload, db=self.db)
            out.update(applied=True, **report.to_dict())
        return out

    def add_alert_rules(self, rules: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Store alert rules (each: name, metric, comparison, threshold, and optionally
        window_seconds, cooldown_seconds, min_events, filters, webhook_url); all are checked
        before any is stored."""
        checked = []
        for spec in rules:
            try:
                checked.append(AlertRule.from_dict(dict(spec)).validate())
            except TypeError as exc:
                raise ConfigError(f"alert rule {dict(spec)!r}: {exc}") from None
        return [add_rule(self.db, rule).to_dict() for rule in checked]

    def alert_rules(self) -> list[dict[str, Any]]:
        """Every stored alert rule."""
        return [r.to_dict() for r in list_rules(self.db)]

    def remove_alert_rule(self, name_or_id: str | int) -> None:
        """Delete an alert rule by name or id."""
        remove_rule(self.db, name_or_id)

    def alert_history(self, *, rule: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Alerts that fired, newest first."""
        return [e.to_dict() for e in alert_history(self.db, rule=rule, limit=limit)]

    def evaluator(self, *, webhook_urls: Iterable[str] = (),
                  callbacks: Iterable[AlertCallback] = ()) -> AlertEvaluator:
        """An evaluator of the stored rules (``aevaluate`` now, or ``start`` continuously)."""
        return AlertEvaluator(self.db, webhook_urls=webhook_urls, callbacks=callbacks)

    def dashboard(self, period: str | None = "day", *, client: str | None = None) -> dict[str, Any]:
        """What the usage dashboard shows: patterns, insights and the known clients."""
        self._fresh()
        return dashboard_data(self.db, period=period, client=client,
                              known_tools=self.known_tools, known_formulas=self.known_formulas)
