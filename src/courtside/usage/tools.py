"""The usage analytics as the MCP tools and REST handlers call them: plain arguments in,
JSON-ready values out, one function per tool, each named after it.

Bad arguments raise ``ConfigError`` with a message an agent can act on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from courtside.model import ConfigError
from courtside.storage.db import Database
from courtside.usage import alerts as _alerts
from courtside.usage.dashboard import render_dashboard
from courtside.usage.insights import Thresholds, generate_insights
from courtside.usage.optimise import OptimisationTarget, Policy, apply, recommend_actions
from courtside.usage.patterns import analyze_usage_patterns as _patterns
from courtside.usage.report import build_report, normalise_format, render_report
from courtside.usage.tracker import UsageTracker


def _filters(client: str | None, tool: str | None, formula: str | None,
             interface: str | None) -> dict[str, str | None]:
    return {"client": client, "tool": tool, "formula": formula, "interface": interface}


def _shape(cls: type, values: Mapping[str, Any] | None, what: str) -> Any:
    if values is None:
        return cls()
    if not isinstance(values, Mapping):
        raise ConfigError(f"{what} must be an object of settings, got {type(values).__name__}")
    try:
        return cls.from_dict(dict(values))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{what}: {exc}; the fields are "
                          f"{sorted(cls.__dataclass_fields__)}") from None


def track_usage_event(tracker: UsageTracker, *, tool: str, interface: str = "mcp",
                      client: str | None = None, formula: str | None = None,
                      resource: str | None = None, started_at: str | None = None,
                      duration_ms: float = 0.0, outcome: str = "ok",
                      error_code: str | None = None, cache_hit: bool | None = None,
                      items: int | None = None) -> dict[str, Any]:
    """Record one event durably (committed before this returns); returns its id."""
    event_id = tracker.track_usage_event(
        tool=tool, interface=interface, client=client, formula=formula, resource=resource,
        started_at=started_at, duration_ms=duration_ms, outcome=outcome, error_code=error_code,
        cache_hit=cache_hit, items=items)
    return {"event_id": event_id, "stored": True}


def analyze_usage_patterns(db: Database, *, period: str | None = "day", since: str | None = None,
                           until: str | None = None, client: str | None = None,
                           tool: str | None = None, formula: str | None = None,
                           interface: str | None = None, top: int = 10) -> dict[str, Any]:
    """Volume over time, top formulas/tools/clients, latency percentiles, error rates, trends."""
    if not isinstance(top, int) or not 1 <= top <= 1000:
        raise ConfigError(f"top must be a whole number from 1 to 1000, got {top!r}")
    return _patterns(db, period, since=since, until=until,
                     filters=_filters(client, tool, formula, interface), top=top).to_dict()


def generate_usage_insights(db: Database, *, period: str | None = "day",
                            since: str | None = None, until: str | None = None,
                            client: str | None = None,
                            thresholds: Mapping[str, Any] | None = None,
                            known_tools: Iterable[str] = (),
                            known_formulas: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Findings with their numbers; ``thresholds`` overrides fields of ``Thresholds``."""
    pats = _patterns(db, period, since=since, until=until, filters={"client": client})
    found = generate_insights(pats, thresholds=_shape(Thresholds, thresholds, "thresholds"),
                              known_tools=known_tools, known_formulas=known_formulas)
    return [i.to_dict() for i in found]


def optimize_usage_based_performance(db: Database, target: OptimisationTarget | None = None, *,
                                     period: str | None = "hour", apply_actions: bool = False,
                                     policy: Mapping[str, Any] | None = None,
                                     current: Mapping[str, Any] | None = None
                                     ) -> dict[str, Any]:
    """Actions derived from the period's usage; applied to ``target`` and measured if asked."""
    pats = _patterns(db, period)
    actions = recommend_actions(pats, policy=_shape(Policy, policy, "policy"), current=current)
    out: dict[str, Any] = {"period": pats.period.to_dict(),
                           "actions": [a.to_dict() for a in actions], "applied": None}
    if apply_actions:
        if target is None:
            raise ConfigError("apply_actions needs a running service to apply them to")
        out["applied"] = apply(actions, target, db=db).to_dict()
    return out


def generate_usage_report(db: Database, *, period: str | None = "day", since: str | None = None,
                          until: str | None = None, client: str | None = None,
                          format: str = "markdown",  # the tool's argument name
                          known_tools: Sequence[str] = (),
                          known_formulas: Sequence[str] = ()) -> dict[str, Any]:
    """A report as text in json, csv, markdown or html."""
    fmt = normalise_format(format)
    rep = build_report(db, period, since=since, until=until, filters={"client": client},
                       known_tools=known_tools, known_formulas=known_formulas)
    return {"format": fmt, "period": rep.patterns.period.to_dict(),
            "content": render_report(rep, fmt)}


def setup_usage_alerts(db: Database, *, rules: Sequence[Mapping[str, Any]] = (),
                       remove: Sequence[str] = ()) -> dict[str, Any]:
    """Add rules (each a mapping of ``AlertRule`` fields) and remove rules by name.

    Every rule is validated before any is stored, so a bad one leaves the set unchanged.
    """
    new = []
    for i, r in enumerate(rules):
        if not isinstance(r, Mapping):
            raise ConfigError(f"rules[{i}] must be an object with name, metric, comparison, "
                              "threshold (and optionally window_seconds, cooldown_seconds, "
                              "min_events, filters, webhook_url)")
        if "rule_id" in r:
            raise ConfigError(f"rules[{i}]: rule_id is assigned by the server; leave it out")
        new.append(_shape(_alerts.AlertRule, r, f"rules[{i}]").validate())
    existing = {r.name for r in _alerts.list_rules(db)} - set(remove)
    clash = [r.name for r in new if r.name in existing]
    if clash:
        raise ConfigError(f"alert rule(s) {clash} already exist; remove them in the same call "
                          "or choose other names")
    for name in remove:
        _alerts.remove_rule(db, name)
    for rule in new:
        _alerts.add_rule(db, rule)
    return {"rules": [r.to_dict() for r in _alerts.list_rules(db)]}


def create_usage_dashboard(data_url: str, *, refresh_seconds: float = 10.0,
                           title: str = "courtside usage") -> dict[str, Any]:
    """The dashboard page for a data endpoint (the API serves it at its own URL)."""
    if not data_url or not isinstance(data_url, str):
        raise ConfigError("data_url is required: the URL of the dashboard's JSON endpoint")
    if not 0 < refresh_seconds <= 3600:
        raise ConfigError(f"refresh_seconds must be in (0, 3600], got {refresh_seconds!r}")
    return {"html": render_dashboard(data_url, refresh_seconds=refresh_seconds, title=title),
            "data_url": data_url, "refresh_seconds": refresh_seconds}
