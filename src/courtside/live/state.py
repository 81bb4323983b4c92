"""One live game's state and its incremental recomputation (synchronous, no I/O).

:class:`GameState` holds the box score of one game as formula inputs per entity (a player, a
team, the game itself), the formula values computed from them, a data version per entity and
one for the game. ``apply(snapshot)`` diffs the new box score against the held one and
recomputes only the formulas that read a changed input:

- a player's inputs are his own stats, his team's line as ``TEAM_<stat>``, the opponent's line
  as ``OPP_<stat>`` and the league context (``LG_*``, fixed per game); a team's inputs are its
  own line, the same line as ``TEAM_<stat>`` and the opponent's as ``OPP_<stat>``. So a made
  free throw changes the shooter's FTM/FTA/PTS (his FT-dependent formulas), his team's
  ``TEAM_FTM``/``TEAM_FTA``/``TEAM_PTS`` for every teammate (context formulas such as
  USG_PCT) and ``OPP_PTS`` for every opponent, and nothing else;
- formulas are taken in their given order (the registry's dependency order); each compiled
  formula is self-contained (references are inlined), so none reads another's fresh output.

The result of ``apply`` is one :class:`EntityUpdate` per entity whose published values
changed, holding only those values (own stats and formula results; not the TEAM_/OPP_/LG_
inputs). The async layer (``courtside.live.engine``) publishes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from courtside.formulas.compiler import CompiledFormula
from courtside.model import DataError, GameSnapshot, StatLine

__all__ = [
    "GAME_VALUES",
    "EntityUpdate",
    "GameState",
    "LiveFormula",
    "LiveFormulas",
]

GAME_VALUES = ("GAME_STATUS", "PERIOD", "GAME_CLOCK", "HOME_PTS", "AWAY_PTS", "STALE")
"""The game entity's values: NBA status code (1 scheduled, 2 live, 3 final), period, the clock
as the NBA gives it (``PT05M12.00S``), both scores and whether the data is stale."""


@dataclass(frozen=True, slots=True)
class LiveFormula:
    """A formula the engine keeps current.

    Attributes:
        id: the formula id (the value's name in updates).
        compiled: the compiled formula; its ``.inputs`` (stats, totals, and the ids of the
            formulas it refers to, which are evaluated before it) drive recomputation.
        version: the definition's version (part of cache keys).
        kinds: entity kinds it is computed for (``player``, ``team``).
        publish: False for a step (an intermediate other formulas read): kept as an input,
            not published.
    """

    id: str
    compiled: CompiledFormula
    version: int = 1
    kinds: frozenset[str] = frozenset({"player", "team"})
    publish: bool = True


class LiveFormulas:
    """Live formulas in dependency order (a formula after every formula it reads)."""

    def __init__(self, formulas: Iterable[LiveFormula] = ()) -> None:
        self.by_id: dict[str, LiveFormula] = {}
        for formula in formulas:
            if formula.id in self.by_id:
                raise DataError(f"live formula {formula.id} given twice")
            self.by_id[formula.id] = formula
        for position, formula in enumerate(self.by_id.values()):
            later = [fid for fid in list(self.by_id)[position:] if fid in formula.compiled.inputs]
            if later:
                raise DataError(f"live formula {formula.id} reads {', '.join(later)}, which "
                                "comes at or after it; give formulas in dependency order")
        self._all = {kind: [f for f in self.by_id.values() if kind in f.kinds]
                     for kind in ("player", "team")}

    def __len__(self) -> int:
        return len(self.by_id)

    def __contains__(self, fid: object) -> bool:
        return fid in self.by_id

    def for_kind(self, kind: str) -> list[LiveFormula]:
        """Every formula computed for an entity kind, in dependency order."""
        return self._all.get(kind, [])

    def published(self, kind: str) -> list[LiveFormula]:
        """The formulas of a kind whose values are published (no steps)."""
        return [f for f in self.for_kind(kind) if f.publish]


@dataclass(slots=True)
class EntityUpdate:
    """The changed values of one entity after one applied change.

    Attributes:
        kind, id: the entity (``player`` personId, ``team`` teamId, ``game`` gameId).
        game_id: the game.
        team_id: the entity's team (None for the game).
        name: display name (player name, team tricode, ``AWY @ HOM`` for the game).
        values: changed values only (name -> number, or a string/bool for the game entity).
        version: the entity's data version after the change.
        data_time: when the data describes, if known.
    """

    kind: str
    id: str
    game_id: str
    team_id: str | None
    name: str
    values: dict[str, Any]
    version: int
    data_time: datetime | None = None

    @property
    def key(self) -> str:
        """``player:203925@0022000001``: the cache's entity key."""
        return f"{self.kind}:{self.id}@{self.game_id}"

    def entity(self) -> dict[str, Any]:
        """The entity as published: kind, id, game_id, team_id, name."""
        return {"kind": self.kind, "id": self.id, "game_id": self.game_id,
                "team_id": self.team_id, "name": self.name}


@dataclass(slots=True)
class _Entity:
    kind: str
    id: str
    team_id: str | None
    name: str
    starter: bool = False
    inputs: dict[str, Any] = field(default_factory=dict)  # box score inputs + every formula
    values: dict[str, Any] = field(default_factory=dict)  # published: own stats + formulas
    base: frozenset[str] = frozenset()  # the names in inputs that come from the box score
    version: int = 0


class GameState:
    """The live state of one game (see the module docstring).

    Args:
        game_id: the NBA gameId.
        formulas: the live formulas.
        league: league context values (``LG_*``, ``LG_PACE``, ``LG_APER``...), fixed.
    """

    def __init__(self, game_id: str, formulas: LiveFormulas,
                 league: Mapping[str, float] | None = None) -> None:
        self.game_id = game_id
        self.formulas = formulas
        self.league = dict(league or {})
        self.version = 0
        self.status = 1
        self.period = 0
        self.clock = ""
        self.stale = False
        self.data_time: datetime | None = None
        self.home_team_id = ""
        self.away_team_id = ""
        self.home_tricode = ""
        self.away_tricode = ""
        self.entities: dict[tuple[str, str], _Entity] = {}
        self.lines: dict[tuple[str, str], StatLine] = {}  # the box score as last received
        self.recomputations = 0
        self.track_inputs = True  # False: a change recomputes every formula (benchmarks)
        self.last_recomputed: list[tuple[str, str]] = []  # (entity key, formula id)

    # ------------------------------------------------------------------ reading

    def entity_values(self, kind: str, ident: str) -> dict[str, Any] | None:
        """The published values of an entity (own stats and formula results), or None."""
        entity = self.entities.get((kind, str(ident)))
        return None if entity is None else dict(entity.values)

    def entity_inputs(self, kind: str, ident: str) -> dict[str, Any] | None:
        """Every input an entity's formulas read (own stats, TEAM_, OPP_, LG_), or None."""
        entity = self.entities.get((kind, str(ident)))
        return None if entity is None else dict(entity.inputs)

    def entity_version(self, kind: str, ident: str) -> int | None:
        """An entity's data version, or None when unknown."""
        entity = self.entities.get((kind, str(ident)))
        return None if entity is None else entity.version

    def entity_info(self, kind: str, ident: str) -> dict[str, Any] | None:
        """kind, id, game_id, team_id, name, starter of an entity, or None."""
        e = self.entities.get((kind, str(ident)))
        if e is None:
            return None
        return {"kind": e.kind, "id": e.id, "game_id": self.game_id, "team_id": e.team_id,
                "name": e.name, "starter": e.starter}

    def snapshot_entities(self) -> list[dict[str, Any]]:
        """Every entity with all its current values, game first, then teams, then players."""
        order = {"game": 0, "team": 1, "player": 2}
        out = []
        for (kind, ident), e in sorted(self.entities.items(), key=lambda kv: order[kv[0][0]]):
            out.append({"kind": kind, "id": ident, "game_id": self.game_id,
                        "team_id": e.team_id, "name": e.name, "values": dict(e.values)})
        return out

    def summary(self) -> dict[str, Any]:
        """id, status, period, clock, teams, scores, data version, stale, data_time."""
        game = self.entities.get(("game", self.game_id))
        values = game.values if game else {}
        return {"game_id": self.game_id, "status": self.status, "period": self.period,
                "clock": self.clock, "home_team_id": self.home_team_id,
                "away_team_id": self.away_team_id, "home_tricode": self.home_tricode,
                "away_tricode": self.away_tricode, "home_pts": values.get("HOME_PTS"),
                "away_pts": values.get("AWAY_PTS"), "version": self.version,
                "stale": self.stale,
                "data_time": self.data_time.isoformat() if self.data_time else None}

    def to_snapshot(self) -> GameSnapshot:
        """The box score as held (every line received), e.g. to save and restore it."""
        return GameSnapshot(
            game_id=self.game_id, status=self.status, period=self.period, clock=self.clock,
            home_team_id=self.home_team_id, away_team_id=self.away_team_id,
            home_tricode=self.home_tricode, away_tricode=self.away_tricode,
            players=[line for (kind, _), line in self.lines.items() if kind == "player"],
            teams=[line for (kind, _), line in self.lines.items() if kind == "team"],
            data_time=self.data_time, source="saved", stale=self.stale)

    # ------------------------------------------------------------------ writing

    def apply(self, snapshot: GameSnapshot) -> list[EntityUpdate]:
        """Fold a box score in; one update per entity whose values changed.

        The snapshot may be partial (a sync emits only the lines that changed): lines it
        leaves out keep their last values. A snapshot without lines only moves the game's
        status, period, clock and stale flag.
        """
        if snapshot.game_id != self.game_id:
            raise DataError(f"snapshot of game {snapshot.game_id} applied to game "
                            f"{self.game_id}")
        sides = {snapshot.home_team_id, snapshot.away_team_id}
        if len(sides) != 2 or "" in sides:
            raise DataError(f"game {self.game_id}: a snapshot needs two different team ids, "
                            f"got home {snapshot.home_team_id!r}, away {snapshot.away_team_id!r}")
        for line in (*snapshot.teams, *snapshot.players):
            if line.team_id not in sides:
                raise DataError(f"game {self.game_id}: {line.kind} {line.id} ({line.name}) "
                                f"belongs to team {line.team_id}, which is not in this game")
        self.home_team_id, self.away_team_id = snapshot.home_team_id, snapshot.away_team_id
        self.home_tricode = snapshot.home_tricode or self.home_tricode
        self.away_tricode = snapshot.away_tricode or self.away_tricode
        self.status, self.period, self.clock = snapshot.status, snapshot.period, snapshot.clock
        self.stale = snapshot.stale
        self.data_time = snapshot.data_time or self.data_time
        self.last_recomputed = []

        dirty: dict[tuple[str, str], None] = {}
        for line in snapshot.teams:
            self.lines[("team", line.id)] = line
        for line in snapshot.players:
            self.lines[("player", line.id)] = line
            dirty[("player", line.id)] = None
        if snapshot.teams:
            # team lines are every entity's TEAM_/OPP_ context
            dirty = dict.fromkeys([k for k in self.lines if k[0] == "team"]) | dict.fromkeys(
                k for k in self.lines if k[0] == "player")

        updates: list[EntityUpdate] = []
        home = self.lines.get(("team", snapshot.home_team_id))
        away = self.lines.get(("team", snapshot.away_team_id))
        game_values = {
            "GAME_STATUS": snapshot.status, "PERIOD": snapshot.period,
            "GAME_CLOCK": snapshot.clock,
            "HOME_PTS": home.stats.get("PTS") if home else None,
            "AWAY_PTS": away.stats.get("PTS") if away else None,
            "STALE": snapshot.stale,
        }
        name = f"{self.away_tricode} @ {self.home_tricode}".strip(" @")
        update = self._update_plain("game", self.game_id, None, name, game_values)
        if update:
            updates.append(update)
        context = {}
        for tid in sides:
            line = self.lines.get(("team", tid))
            context[tid] = _prefixed(line.stats) if line else ({}, {})
        for key in dirty:
            line = self.lines[key]
            opp = (snapshot.away_team_id if line.team_id == snapshot.home_team_id
                   else snapshot.home_team_id)
            inputs = {**self.league, **line.stats, **context[line.team_id][0],
                      **context[opp][1]}
            update = self._update_computed(line, inputs)
            if update:
                updates.append(update)
        if updates:
            self.version += 1
        for update in updates:
            update.data_time = self.data_time
        return updates

    def mark_stale(self, stale: bool) -> EntityUpdate | None:
        """Flag the data as stale (its source is failing) or fresh again."""
        self.stale = stale
        update = self._update_plain("game", self.game_id, None,
                                    self.entities.get(("game", self.game_id),
                                                      _Entity("game", "", None, "")).name,
                                    {"STALE": stale})
        if update:
            self.version += 1
            update.data_time = self.data_time
        return update

    def recompute_formulas(self, formula_ids: Iterable[str]) -> list[EntityUpdate]:
        """Recompute the given formulas, and what reads them, for every entity (after a
        formula is (re)defined)."""
        wanted = frozenset(formula_ids)
        self.last_recomputed = []
        updates = []
        for (kind, ident), e in self.entities.items():
            if kind == "game":
                continue
            changed = self._run(e, set(), force=wanted)
            if changed:
                e.version += 1
                updates.append(EntityUpdate(kind, ident, self.game_id, e.team_id, e.name,
                                            changed, e.version, self.data_time))
        if updates:
            self.version += 1
        return updates

    def _update_plain(self, kind: str, ident: str, team_id: str | None, name: str,
                      values: Mapping[str, Any]) -> EntityUpdate | None:
        e = self.entities.get((kind, ident))
        if e is None:
            e = self.entities[(kind, ident)] = _Entity(kind, ident, team_id, name)
        changed = {k: v for k, v in values.items()
                   if k not in e.values or e.values[k] != v}
        if not changed:
            return None
        e.values.update(changed)
        e.inputs.update(changed)
        e.version += 1
        e.name = name or e.name
        return EntityUpdate(kind, ident, self.game_id, team_id, e.name, changed, e.version)

    def _update_computed(self, line: StatLine, base: dict[str, Any]) -> EntityUpdate | None:
        key = (line.kind, line.id)
        e = self.entities.get(key)
        new = e is None
        if e is None:
            e = self.entities[key] = _Entity(line.kind, line.id, line.team_id, line.name,
                                             line.starter)
        inputs = e.inputs
        names = {k for k, v in base.items() if inputs.get(k, _ABSENT) != v}
        removed = e.base - base.keys()
        if not names and not removed and not new:
            return None
        for k in removed:
            inputs.pop(k, None)
        for k in names:
            inputs[k] = base[k]
        if new or removed or len(base) != len(e.base):
            e.base = frozenset(base)
        changed: dict[str, Any] = {k: line.stats[k] for k in names
                                   if k in line.stats and e.values.get(k, _ABSENT) != line.stats[k]}
        names |= removed
        changed.update(self._run(e, names, everything=new or not self.track_inputs))
        if new:
            changed = {**line.stats, **changed}
        if line.name and line.name != e.name:
            e.name = line.name
        if not changed:
            return None
        e.values.update(changed)
        e.version += 1
        return EntityUpdate(line.kind, line.id, self.game_id, line.team_id, e.name, changed,
                            e.version)

    def _run(self, e: _Entity, names: set[str], *, everything: bool = False,
             force: frozenset[str] = frozenset()) -> dict[str, Any]:
        """Evaluate, in dependency order, each formula reading a name in ``names``; a formula
        whose value changes adds its id to ``names`` (what reads it comes later)."""
        changed: dict[str, Any] = {}
        inputs = e.inputs
        ekey = f"{e.kind}:{e.id}"
        for f in self.formulas.for_kind(e.kind):
            if not (everything or f.id in force or not f.compiled.inputs.isdisjoint(names)):
                continue
            value = f.compiled(inputs)
            self.recomputations += 1
            self.last_recomputed.append((ekey, f.id))
            if inputs.get(f.id, _ABSENT) != value or f.id not in inputs:
                inputs[f.id] = value
                names.add(f.id)
                if f.publish:
                    e.values[f.id] = value
                    changed[f.id] = value
        return changed


_ABSENT = object()


def _prefixed(stats: Mapping[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """A team line as TEAM_ names and as OPP_ names."""
    return ({f"TEAM_{k}": v for k, v in stats.items()},
            {f"OPP_{k}": v for k, v in stats.items()})
