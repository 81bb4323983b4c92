"""Any catalog formula for one entity, in real time, with the scalar (closure) form.

The batch engine evaluates a formula's Polars expression over a frame; here the same compiled
formula's closure runs on one entity's values: its own stats, its team's (``TEAM_``), its
opponent's (``OPP_``) and the league context (``LG_*``, ``LG_PACE``...). Both forms come from
one tree, so for the same numbers they give the same value.

Formulas that read a context step (BPM's recentring and team adjustment, PER's league aPER)
need the rows the step aggregates over. :func:`evaluate_snapshot` has them (the whole game's
box score) and evaluates the steps with the same scalar closures and the same aggregation rules
as :mod:`courtside.formulas.context` (weighted means leave out rows whose value is null).
With plain dicts for one player, steps must be supplied among the league or team values.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from courtside.formulas.catalog import Catalog, ContextStep, default_catalog
from courtside.model import DataError, GameSnapshot, StatLine

__all__ = [
    "entity_values",
    "evaluate_entity",
    "evaluate_snapshot",
    "game_inputs",
    "needed_steps",
    "snapshot_rows",
]

Number = float | int | None


def entity_values(stats: Mapping[str, Number], team: Mapping[str, Number] | None = None,
                  opponent: Mapping[str, Number] | None = None,
                  league: Mapping[str, Number] | None = None) -> dict[str, Number]:
    """One entity's formula inputs: its stats, ``TEAM_``/``OPP_`` totals and league values.

    ``team`` and ``opponent`` hold plain stat names (``FGA``); names that already carry a
    context prefix (``TEAM_PACE``, ``OPP_POSS``) are kept as they are. ``league`` holds
    context names as they are (``LG_FGA``, ``LG_PACE``, ``LG_APER``).
    """
    values: dict[str, Number] = dict(stats)
    for prefix, side in (("TEAM_", team), ("OPP_", opponent)):
        for name, value in (side or {}).items():
            key = name if name.startswith(("TEAM_", "OPP_", "LG_")) else prefix + name
            values[key] = value
    values.update(league or {})
    return values


def needed_steps(catalog: Catalog, formulas: Iterable[str],
                 provided: Iterable[str]) -> list[ContextStep]:
    """The context steps ``formulas`` read and ``provided`` lacks, in dependency order."""
    provided = set(provided)
    ordered: list[ContextStep] = []

    def visit(name: str, stack: tuple[str, ...]) -> None:
        step = catalog.steps.get(name)
        if step is None or name in provided or step in ordered or name in stack:
            return
        inner = set(catalog.inputs(step.formula, provided))
        if step.weight:
            inner.add(step.weight)
        for dep in sorted(inner):
            visit(dep, (*stack, name))
        ordered.append(step)

    for formula in formulas:
        for name in sorted(catalog.inputs(formula, provided)):
            visit(name, ())
    return ordered


def evaluate_entity(formula: str, stats: Mapping[str, Number],
                    team: Mapping[str, Number] | None = None,
                    opponent: Mapping[str, Number] | None = None,
                    league: Mapping[str, Number] | None = None, *,
                    catalog: Catalog | None = None) -> float | None:
    """A formula's value for one entity (null when an input is null or a division is by 0).

    Context values present in the inputs (``TEAM_PACE``, ``LG_PACE``, ``TEAM_GP``...) are used
    as given instead of being derived. Raises ``DataError`` when the formula needs a context
    step (``TEAM_RAW_BPM``, ``LG_APER``...) that is not among the inputs: those aggregate over
    a whole team or league, which :func:`evaluate_snapshot` has.
    """
    cat = catalog or default_catalog()
    values = entity_values(stats, team, opponent, league)
    compiled = cat.compile(formula, values.keys())
    lacking = sorted(n for n in compiled.inputs if n in cat.steps and n not in values)
    if lacking:
        raise DataError(f"{compiled.name} needs the context step(s) {', '.join(lacking)}, "
                        "which aggregate over a whole team or league: evaluate it on the "
                        "game's snapshot (evaluate_snapshot) or supply them")
    return compiled(values)


def snapshot_rows(snapshot: GameSnapshot, league: Mapping[str, Number] | None = None,
                  ) -> list[tuple[StatLine, dict[str, Number]]]:
    """Every player of a snapshot with its formula inputs (the game's team lines as context).

    ``TEAM_GP`` is 1: the snapshot is one game (VORP and the BPM lead estimate read it).
    """
    teams = {line.team_id: line for line in snapshot.teams}
    if len(teams) != 2:
        raise DataError(f"game {snapshot.game_id}: the snapshot has {len(teams)} team line(s); "
                        "team and opponent context need both teams' totals")
    other = {snapshot.home_team_id: snapshot.away_team_id,
             snapshot.away_team_id: snapshot.home_team_id}
    rows = []
    for player in snapshot.players:
        team = teams.get(player.team_id)
        opponent = teams.get(other.get(player.team_id, ""))
        if team is None or opponent is None:
            raise DataError(f"game {snapshot.game_id}: player {player.id} plays for team "
                            f"{player.team_id}, which is not one of the game's two teams")
        values = entity_values(player.stats, team.stats, opponent.stats, league)
        values.setdefault("TEAM_GP", 1.0)
        rows.append((player, values))
    return rows


def _aggregate(step: ContextStep, pairs: Sequence[tuple[float | None, Number]]) -> float | None:
    """One step's value over (value, weight) pairs, as the Polars context step computes it."""
    present = [(v, w) for v, w in pairs if v is not None]
    if step.how == "sum":
        return float(sum(v for v, _ in present))
    if step.how == "mean":
        return sum(v for v, _ in present) / len(present) if present else None
    weighted = [(v, float(w)) for v, w in present if w is not None]
    total = sum(w for _, w in weighted)
    if total == 0:
        return None
    return sum(v * w for v, w in weighted) / total


def game_inputs(snapshot: GameSnapshot, formulas: Sequence[str],
                league: Mapping[str, Number] | None = None, *,
                catalog: Catalog | None = None) -> dict[str, dict[str, Number]]:
    """Every player's formula inputs for a game, context steps included: ``{player_id: values}``.

    Team and opponent context are the snapshot's own team lines (team rebounds and
    turnovers included); ``league`` supplies ``LG_*`` totals and league values. The context
    steps ``formulas`` need are evaluated over the game's players (team steps per team,
    league steps over both teams) unless ``league`` supplies them. Any one player's values
    then evaluate with :func:`evaluate_entity` (or a compiled formula) on their own.
    """
    cat = catalog or default_catalog()
    ids = [cat.get(f).id for f in formulas]
    rows = snapshot_rows(snapshot, league)
    if not rows:
        return {}
    provided = set(rows[0][1])
    for step in needed_steps(cat, ids, provided):
        compiled = cat.compile(step.formula, provided)
        weight = step.weight or "MIN"
        groups: dict[str, list[tuple[float | None, Number]]] = {}
        for player, values in rows:
            key = player.team_id if step.scope == "team" else ""
            groups.setdefault(key, []).append((compiled(values), values.get(weight)))
        results = {key: _aggregate(step, pairs) for key, pairs in groups.items()}
        for player, values in rows:
            values[step.name] = results[player.team_id if step.scope == "team" else ""]
        provided.add(step.name)
    return {player.id: values for player, values in rows}


def evaluate_snapshot(snapshot: GameSnapshot, formulas: Sequence[str],
                      league: Mapping[str, Number] | None = None, *,
                      catalog: Catalog | None = None) -> dict[str, dict[str, float | None]]:
    """Formulas for every player of a game: ``{player_id: {formula_id: value}}``.

    The inputs are :func:`game_inputs`'s; each value is the compiled formula's scalar form.
    """
    cat = catalog or default_catalog()
    ids = [cat.get(f).id for f in formulas]
    inputs = game_inputs(snapshot, ids, league, catalog=cat)
    if not inputs:
        return {}
    provided = next(iter(inputs.values())).keys()
    compiled = [cat.compile(fid, provided) for fid in ids]
    return {pid: {c.name: c(values) for c in compiled} for pid, values in inputs.items()}
