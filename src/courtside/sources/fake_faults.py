"""Fault injection for the fake NBA server: the failures a live feed really produces.

Kinds: ``5xx`` (an error status, 503 by default), ``timeout`` (the answer comes ``delay``
seconds late), ``truncated`` (half the JSON), ``html_403`` (a block page instead of JSON),
``schema_drift`` (a renamed key), ``counter_backwards`` (a player's points and field goals
lower than before). Each fault applies to the next ``count`` matching requests.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass
from typing import Any

from courtside.model import ConfigError

__all__ = ["FAULT_KINDS", "Fault", "FaultInjector", "drift", "lower_a_counter"]

FAULT_KINDS = ("5xx", "timeout", "truncated", "html_403", "schema_drift", "counter_backwards")

BLOCK_PAGE = (b"<!DOCTYPE html><html><head><title>Access Denied</title></head><body>"
              b"<h1>Access Denied</h1><p>You don't have permission to access this resource."
              b"</p></body></html>")


@dataclass(slots=True)
class Fault:
    """One armed fault.

    Attributes:
        kind: one of FAULT_KINDS.
        remaining: requests it still applies to.
        path: only requests whose path contains this text (None: every data request).
        status: the status of a ``5xx`` fault.
        delay: seconds a ``timeout`` fault holds the answer.
    """

    kind: str
    remaining: int
    path: str | None = None
    status: int = 503
    delay: float = 10.0

    def matches(self, path: str, doc: str) -> bool:
        """Whether this fault applies to a request for ``doc`` (boxscore, playbyplay...)."""
        if self.path and self.path not in path:
            return False
        return not (self.kind == "counter_backwards" and doc != "boxscore")


class FaultInjector:
    """A queue of armed faults; each matching request takes one."""

    def __init__(self) -> None:
        self.armed: list[Fault] = []
        self.served: Counter[str] = Counter()

    def add(self, kind: str, count: int = 1, *, path: str | None = None,
            status: int | None = None, delay: float | None = None) -> Fault:
        """Arm a fault; ConfigError for an unknown kind or a bad count."""
        if kind not in FAULT_KINDS:
            raise ConfigError(f"unknown fault kind {kind!r}; use one of {list(FAULT_KINDS)}")
        if int(count) < 1:
            raise ConfigError("count must be at least 1")
        fault = Fault(kind, int(count), path, int(status or 503), float(delay or 10.0))
        if kind == "5xx" and not 500 <= fault.status <= 599:
            raise ConfigError(f"a 5xx fault needs a status from 500 to 599, got {fault.status}")
        self.armed.append(fault)
        return fault

    def take(self, path: str, doc: str) -> Fault | None:
        """The fault that applies to this request, counted as used, or None."""
        for fault in self.armed:
            if fault.matches(path, doc):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.armed.remove(fault)
                self.served[fault.kind] += 1
                return fault
        return None

    def clear(self) -> None:
        """Disarm every fault."""
        self.armed.clear()

    def state(self) -> dict[str, Any]:
        """Armed faults and how many of each kind were served."""
        return {"armed": [{"kind": f.kind, "remaining": f.remaining, "path": f.path}
                          for f in self.armed], "served": dict(self.served)}


def drift(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    """A copy of a document with a key renamed, the way feeds drift between versions."""
    out = copy.deepcopy(doc)
    if kind == "scoreboard":
        out["scoreboard"]["gameList"] = out["scoreboard"].pop("games")
    elif kind == "playbyplay":
        out["game"]["plays"] = out["game"].pop("actions")
    else:
        for side in ("homeTeam", "awayTeam"):
            for player in out["game"][side].get("players") or []:
                player["stats"] = player.pop("statistics", {})
    return out


def lower_a_counter(doc: dict[str, Any]) -> dict[str, Any]:
    """A boxscore copy where the top scorer of a 2 has 2 points and 1 field goal fewer."""
    out = copy.deepcopy(doc)
    players = [p for side in ("homeTeam", "awayTeam")
               for p in out["game"][side].get("players") or []
               if p.get("statistics", {}).get("fieldGoalsMade", 0)
               - p.get("statistics", {}).get("threePointersMade", 0) >= 1]
    if players:
        top = max(players, key=lambda p: p["statistics"]["points"])
        stats = top["statistics"]
        stats["points"] -= 2
        stats["fieldGoalsMade"] -= 1
    return out
