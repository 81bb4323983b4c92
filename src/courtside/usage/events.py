"""The usage event: one call through one interface, and its validation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from courtside.model import ConfigError, _JSONShape, utcnow
from courtside.storage.db import as_utc
from courtside.storage.usage import TEXT_LIMITS
from courtside.usage.period import parse_time


class Interface(StrEnum):
    """Where a call came in."""

    REST = "rest"
    WEBSOCKET = "websocket"
    MCP = "mcp"
    CLI = "cli"
    PYTHON = "python"


class Outcome(StrEnum):
    """How a call ended."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"


@dataclass(slots=True)
class UsageEvent(_JSONShape):
    """One tracked call.

    Attributes:
        client: who called: a client id or an API token's name (``anonymous`` when unknown).
        interface: rest, websocket, mcp, cli or python.
        tool: the tool, command or endpoint called (``calculate_formula_realtime``, ``GET /v1/games``).
        formula: the formula computed, when the call computed one.
        resource: what the call read, when it matters for tuning (``game:0022000001``, ``sync:<id>``).
        started_at: when the call started, UTC.
        duration_ms: how long it took.
        outcome: ok, error or timeout.
        error_code: the error's code (``not_found``, ``invalid_formula``...) when it failed.
        cache_hit: whether the result came from the cache; None when no cache was involved.
        items: how many rows or values the call processed (batch calls), when known.
    """

    client: str
    interface: Interface
    tool: str
    started_at: datetime
    duration_ms: float
    outcome: Outcome = Outcome.OK
    formula: str | None = None
    resource: str | None = None
    error_code: str | None = None
    cache_hit: bool | None = None
    items: int | None = None

    def to_row(self) -> dict[str, Any]:
        """The event as a ``usage_events`` row."""
        return {
            "client": self.client, "interface": self.interface.value, "tool": self.tool,
            "formula": self.formula, "resource": self.resource,
            # A naive time is UTC, as in make_event (astimezone would read it as local time).
            "started_at": as_utc(self.started_at), "duration_ms": float(self.duration_ms),
            "outcome": self.outcome.value, "error_code": self.error_code,
            "cache_hit": self.cache_hit, "items": self.items,
        }


def make_event(*, tool: str, interface: str | Interface = Interface.PYTHON,
               client: str | None = None, formula: str | None = None,
               resource: str | None = None, started_at: datetime | str | None = None,
               duration_ms: float = 0.0, outcome: str | Outcome = Outcome.OK,
               error_code: str | None = None, cache_hit: bool | None = None,
               items: int | None = None) -> UsageEvent:
    """Build a validated event from loose arguments (as an MCP tool or REST body gives them).

    Raises ConfigError saying which argument is wrong and what is accepted.
    """
    if not isinstance(tool, str) or not tool.strip():
        raise ConfigError("usage event: 'tool' is required: the tool, command or endpoint called")
    try:
        iface = Interface(interface)
    except ValueError:
        raise ConfigError(f"usage event: interface {interface!r} is not one of "
                          f"{[i.value for i in Interface]}") from None
    try:
        out = Outcome(outcome)
    except ValueError:
        raise ConfigError(f"usage event: outcome {outcome!r} is not one of "
                          f"{[o.value for o in Outcome]}") from None
    when = (parse_time(started_at, "usage event: started_at") if started_at is not None
            else utcnow())
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        duration = float(duration_ms)
    except (TypeError, ValueError):
        raise ConfigError(f"usage event: duration_ms {duration_ms!r} is not a number") from None
    if not duration >= 0 or duration == float("inf"):
        raise ConfigError(f"usage event: duration_ms must be a finite number >= 0, got {duration_ms!r}")
    if items is not None and (not isinstance(items, int) or items < 0):
        raise ConfigError(f"usage event: items must be a whole number >= 0, got {items!r}")
    for name, value in (("tool", tool), ("client", client), ("formula", formula),
                        ("resource", resource), ("error_code", error_code)):
        if value is not None and len(value) > TEXT_LIMITS[name]:
            raise ConfigError(f"usage event: {name} is {len(value)} characters long; "
                              f"at most {TEXT_LIMITS[name]} are kept")
    return UsageEvent(client=client or "anonymous", interface=iface, tool=tool.strip(),
                      started_at=when, duration_ms=duration, outcome=out, formula=formula,
                      resource=resource, error_code=error_code, cache_hit=cache_hit, items=items)
