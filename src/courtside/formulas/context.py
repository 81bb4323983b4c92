"""Context: the team, opponent and league totals (and aggregate steps) formulas read.

Pure: frames in, frames out. Rows are canonical stat rows (``STATS`` columns) plus key columns
named by :class:`Keys`. From them:

- team totals ``TEAM_<stat>``: summed per team group (season/partition, game if any, team);
- opponent totals ``OPP_<stat>``: the other team's totals in the same game (needs a game key and
  both sides of the game in the data; otherwise null);
- league totals ``LG_<stat>``: summed per partition (season);
- context steps (``LG_APER``...): a formula evaluated on every row, then aggregated.

Multi-team aggregate rows (Basketball-Reference ``TOT``, ``2TM``...) are left out of every sum
and step, yet formulas are still computed on them (their team context is null).

A caller may supply any of these (a :class:`Context`): supplied columns win over derived ones,
and nothing is derived that no requested formula needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import polars as pl

from courtside.formulas.catalog import INPUT_NAMES, Catalog
from courtside.formulas.compiler import staged_select
from courtside.model import DataError

__all__ = [
    "AGGREGATE_TEAMS",
    "Context",
    "Keys",
    "attach",
    "base_rows",
    "build_context",
    "league_totals",
    "needed_names",
    "opponent_totals",
    "team_totals",
]

AGGREGATE_TEAMS: frozenset[str] = frozenset({"TOT", "2TM", "3TM", "4TM", "5TM", "6TM"})
"""Team values that mark a multi-team aggregate row (Basketball-Reference)."""


@dataclass(frozen=True, slots=True)
class Keys:
    """Which input columns identify a row's team, game and season.

    Attributes:
        team: the column holding the team (abbreviation or id), or None.
        game: the columns identifying a game (empty for season rows).
        partition: columns splitting the data into separate leagues, e.g. the season.
        aggregates: team values that mark multi-team aggregate rows.
    """

    team: str | None = None
    game: tuple[str, ...] = ()
    partition: tuple[str, ...] = ()
    aggregates: frozenset[str] = AGGREGATE_TEAMS

    @property
    def group(self) -> tuple[str, ...]:
        """The columns of one team group: partition, game, team."""
        return (*self.partition, *self.game, *((self.team,) if self.team else ()))

    @property
    def columns(self) -> tuple[str, ...]:
        """Every key column."""
        return self.group


@dataclass(frozen=True, slots=True)
class Context:
    """Team-level and league-level context columns.

    Attributes:
        team: a frame keyed by some of ``Keys.group`` (e.g. just the team column) whose other
            columns are context names (``TEAM_FGA``, ``OPP_DREB``, ``TEAM_PACE``, team steps).
        league: a frame keyed by some of ``Keys.partition`` (or by nothing: one row for all)
            with ``LG_*`` columns, ``LG_PACE`` and league steps.
    """

    team: pl.DataFrame | None = None
    league: pl.DataFrame | None = None
    notes: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, team: pl.DataFrame | None = None, league: pl.DataFrame | None = None,
           **values: float) -> Context:
        """A context from frames and constants, e.g. ``Context.of(LG_PACE=100.4)``."""
        if values:
            row = pl.DataFrame({k.upper(): [float(v)] for k, v in values.items()})
            league = row if league is None else league.join(row, how="cross")
        return cls(team=team, league=league)

    def names(self, keys: Keys) -> set[str]:
        """The context names this context supplies (columns that are not keys)."""
        out: set[str] = set()
        for frame in (self.team, self.league):
            if frame is not None:
                out |= {c for c in frame.columns if c not in keys.columns}
        return out

    def merge(self, other: Context | None, keys: Keys) -> Context:
        """This context with ``other``'s columns added; ``other`` wins where both have one."""
        if other is None:
            return self
        return Context(team=_merge(self.team, other.team, keys),
                       league=_merge(self.league, other.league, keys),
                       notes=(*self.notes, *other.notes))


def _key_columns(frame: pl.DataFrame | pl.LazyFrame, keys: Keys) -> list[str]:
    names = frame.collect_schema().names() if isinstance(frame, pl.LazyFrame) else frame.columns
    return [c for c in keys.columns if c in names]


def _merge(base: pl.DataFrame | None, over: pl.DataFrame | None,
           keys: Keys) -> pl.DataFrame | None:
    if base is None or over is None:
        return over if base is None else base
    base_keys = _key_columns(base, keys)
    over_keys = _key_columns(over, keys)
    if set(over_keys) - set(base_keys):
        # ``over`` is keyed more finely (e.g. season and team, against team only): keep its
        # rows and spread ``base``'s values over them, ``over`` still winning.
        common = [k for k in over_keys if k in base_keys]
        base = _align_keys(base, over.schema, common)
        both = [c for c in base.columns if c in over.columns and c not in over_keys]
        joined = (over.join(base, on=common, how="left", suffix="__base", nulls_equal=True)
                  if common else over.join(base, how="cross", suffix="__base"))
        return joined.with_columns(
            [pl.coalesce(pl.col(c), pl.col(f"{c}__base")).alias(c) for c in both]
        ).drop([f"{c}__base" for c in both])
    over = _align_keys(over, base.schema, over_keys)
    both = [c for c in over.columns if c in base.columns and c not in over_keys]
    if over_keys:
        joined = base.join(over, on=over_keys, how="left", suffix="__over", nulls_equal=True)
    else:
        joined = base.join(over, how="cross", suffix="__over")
    return joined.with_columns(
        [pl.coalesce(pl.col(f"{c}__over"), pl.col(c)).alias(c) for c in both]
    ).drop([f"{c}__over" for c in both])


def _align_keys(frame: pl.DataFrame, schema: Mapping[str, pl.DataType],
                on: Iterable[str]) -> pl.DataFrame:
    casts = [pl.col(c).cast(schema[c]) for c in on if c in schema and frame.schema[c] != schema[c]]
    return frame.with_columns(casts) if casts else frame


# --------------------------------------------------------------------------- totals


def base_rows(rows: pl.LazyFrame, keys: Keys) -> pl.LazyFrame:
    """The rows that count towards totals: not multi-team aggregates."""
    if keys.team is None or not keys.aggregates:
        return rows
    team = pl.col(keys.team).cast(pl.String)
    return rows.filter(team.is_null() | ~team.is_in(sorted(keys.aggregates)))


def team_totals(rows: pl.LazyFrame, keys: Keys, stats: Iterable[str]) -> pl.LazyFrame:
    """``TEAM_<stat>`` summed per team group (aggregate rows left out)."""
    if keys.team is None:
        raise DataError("team totals need a team column; map one with --map COLUMN=TEAM "
                        "or supply the team totals as context (--team-context FILE)")
    return (base_rows(rows, keys)
            .filter(pl.col(keys.team).is_not_null())
            .group_by(list(keys.group))
            .agg([pl.col(s).cast(pl.Float64).sum().alias(f"TEAM_{s}") for s in stats]))


def opponent_totals(teams: pl.LazyFrame, keys: Keys, stats: Iterable[str]) -> pl.LazyFrame:
    """``OPP_<stat>`` per team group: the other team of the same game.

    ``teams`` holds ``TEAM_<stat>`` per team group. A game with a single side in the data
    gives null opponent totals; a game with more than two teams is an error.
    """
    if not keys.game:
        raise DataError(f"opponent totals ({', '.join(f'OPP_{s}' for s in stats)}) need a "
                        "game column (one row per team per game, both sides in the data); a "
                        "season table has none. Supply what needs them: the teams' pace for "
                        "PER (--team-context FILE with a Pace column, or a TEAM_PACE context "
                        "column), opponent totals as OPP_<stat> context columns, or leave out "
                        "the opponent-based formulas")
    stats = list(stats)
    game = [*keys.partition, *keys.game]
    assert keys.team is not None
    other = teams.select([*game, pl.col(keys.team).alias("__opp_team"),
                          *[pl.col(f"TEAM_{s}").alias(f"OPP_{s}") for s in stats]])
    joined = (teams.select(list(keys.group))
              .join(other, on=game, how="left", nulls_equal=True)
              .filter(pl.col("__opp_team").is_null()
                      | (pl.col("__opp_team") != pl.col(keys.team))))
    counts = teams.group_by(game).agg(pl.len().alias("__teams")).filter(pl.col("__teams") > 2)
    bad = counts.head(1).collect()
    if bad.height:
        where = ", ".join(f"{c}={bad[c][0]}" for c in game)
        raise DataError(f"game {where} has {bad['__teams'][0]} teams; a game has two. "
                        "Is the game column right (--map COLUMN=GAME)?")
    # Teams alone in their game keep a row with null opponent totals.
    alone = (teams.select(list(keys.group))
             .join(joined.select(list(keys.group)), on=list(keys.group), how="anti",
                   nulls_equal=True))
    return pl.concat([joined.drop("__opp_team"), alone], how="diagonal_relaxed")


def league_totals(rows: pl.LazyFrame, keys: Keys, stats: Iterable[str]) -> pl.LazyFrame:
    """``LG_<stat>`` summed per partition (aggregate rows left out)."""
    aggs = [pl.col(s).cast(pl.Float64).sum().alias(f"LG_{s}") for s in stats]
    base = base_rows(rows, keys)
    if keys.partition:
        return base.group_by(list(keys.partition)).agg(aggs)
    return base.select(aggs)


# --------------------------------------------------------------------------- attaching


def attach(rows: pl.LazyFrame, keys: Keys, context: Context | None) -> pl.LazyFrame:
    """Rows with the context's columns joined on (team by team group, league by partition)."""
    if context is None:
        return rows
    schema = rows.collect_schema()
    for frame in (context.team, context.league):
        if frame is None:
            continue
        on = [c for c in _key_columns(frame, keys) if c in schema]
        values = [c for c in frame.columns if c not in keys.columns and c not in schema]
        if not values:
            continue
        frame = _align_keys(frame.select([*on, *values]), schema, on)
        if on:
            rows = rows.join(frame.lazy(), on=on, how="left", nulls_equal=True,
                             maintain_order="left")
        else:
            rows = rows.join(frame.lazy(), how="cross", maintain_order="left")
    return rows


# --------------------------------------------------------------------------- building


def needed_names(catalog: Catalog, formulas: Iterable[str],
                 provided: Iterable[str] = ()) -> set[str]:
    """Every input name the formulas read, steps' own inputs included."""
    provided = set(provided)
    names: set[str] = set()
    todo = [catalog.inputs(f, provided) for f in formulas]
    seen_steps: set[str] = set()
    while todo:
        for name in todo.pop():
            names.add(name)
            step = catalog.steps.get(name)
            if step is not None and name not in provided and name not in seen_steps:
                seen_steps.add(name)
                todo.append(catalog.inputs(step.formula, provided))
                if step.weight:
                    todo.append(frozenset({step.weight}))
    return names


def build_context(rows: pl.LazyFrame | pl.DataFrame, keys: Keys, catalog: Catalog,
                  formulas: Iterable[str], given: Context | None = None) -> Context | None:
    """The context the formulas need over ``rows``, derived where ``given`` lacks it.

    Returns None when the formulas need no context at all.
    """
    lazy = rows.lazy()
    given = given or Context()
    # A context value present as an input column (POS_LISTED, TEAM_PACE) is used as given.
    provided = given.names(keys) | (set(lazy.collect_schema().names()) & catalog.context_values)
    formulas = list(formulas)
    needed = needed_names(catalog, formulas, provided)
    missing = {n for n in needed if n not in provided}
    team_stats = sorted({n[5:] for n in missing if n.startswith("TEAM_") and n in INPUT_NAMES})
    opp_stats = sorted({n[4:] for n in missing if n.startswith("OPP_") and n in INPUT_NAMES})
    lg_stats = sorted({n[3:] for n in missing if n.startswith("LG_") and n in INPUT_NAMES})
    steps = [catalog.steps[n] for n in missing if n in catalog.steps]
    if not (team_stats or opp_stats or lg_stats or steps) and given.team is None \
            and given.league is None:
        return None
    _require_stats(lazy, sorted(set(team_stats) | set(opp_stats) | set(lg_stats)), formulas)

    derived = Context()
    if team_stats or opp_stats:
        teams = team_totals(lazy, keys, sorted(set(team_stats) | set(opp_stats)))
        if opp_stats:
            # Summed once: opponent_totals reads the totals four times (its game check
            # collects on its own), and each lazy read would sum the rows again.
            teams = teams.collect().lazy()
            teams = teams.join(opponent_totals(teams, keys, opp_stats), on=list(keys.group),
                               how="left", nulls_equal=True)
        keep = [*keys.group, *[f"TEAM_{s}" for s in team_stats],
                *[f"OPP_{s}" for s in opp_stats]]
        derived = Context(team=teams.select(keep).collect())
    if lg_stats:
        derived = Context(team=derived.team, league=league_totals(lazy, keys, lg_stats).collect())
    context = derived.merge(given, keys)
    for step in _order_steps(catalog, steps, provided):
        context = context.merge(_evaluate_step(lazy, keys, catalog, step, context), keys)
    return context


def _require_stats(rows: pl.LazyFrame, stats: list[str], formulas: list[str]) -> None:
    have = set(rows.collect_schema().names())
    lacking = [s for s in stats if s not in have]
    if lacking:
        raise DataError(f"{', '.join(formulas)}: the totals need column(s) "
                        f"{', '.join(lacking)}, which the input lacks; map them "
                        "(--map SOURCE=CANONICAL) or supply the totals as context")


def _order_steps(catalog: Catalog, steps: list, provided: set[str]) -> list:
    """Steps in dependency order (a step whose formula reads another step comes after it)."""
    ordered: list = []

    def visit(step, stack: tuple[str, ...] = ()) -> None:  # type: ignore[no-untyped-def]
        if step in ordered:
            return
        for name in catalog.inputs(step.formula, provided):
            inner = catalog.steps.get(name)
            if inner is not None and name not in provided and name not in stack:
                visit(inner, (*stack, step.name))
        ordered.append(step)

    for step in steps:
        visit(step)
    return ordered


def _ordered_sum(expr: pl.Expr) -> pl.Expr:
    """A float sum whose last bits depend on neither the row order nor the threads.

    Float addition is not associative. A grouped ``sum`` may split a group's rows between
    threads and add the partial sums in whatever order they finish (Polars also drops a
    ``sort`` before a ``sum`` as pointless), so BPM's team averages changed in the last bits
    from run to run. Here each group's values are sorted and added one after the other
    (a running sum cannot be split), so the same values always give the same bits.
    Nothing to add (no rows, every value null) gives 0, as ``sum`` does.
    """
    return expr.drop_nulls().sort().cum_sum().last().fill_null(0.0)


def _evaluate_step(rows: pl.LazyFrame, keys: Keys, catalog: Catalog, step,  # type: ignore[no-untyped-def]
                   context: Context) -> Context:
    provided = context.names(keys) | (set(rows.collect_schema().names())
                                      & catalog.context_values)
    compiled = catalog.compile(step.formula, provided)
    # Collected into one chunk before summing: a float sum over a lazily joined frame adds
    # its parts in whatever order threads finish, which changes the last bits run to run.
    # Only the columns the aggregation reads are kept, so this costs little. The formula is
    # evaluated eagerly: lazy planning of large inlined formulas (BPM) costs seconds.
    keep = [c for c in dict.fromkeys([*keys.group, step.weight or "MIN"])
            if c != compiled.name and c in rows.collect_schema()]
    frame = staged_select(attach(base_rows(rows, keys), keys, context).collect(),
                          [compiled], keep).rechunk().lazy()
    col = pl.col(compiled.name)
    if step.how == "weighted_mean":
        weight = pl.col(step.weight or "MIN").cast(pl.Float64)
        weight = pl.when(col.is_not_null()).then(weight)
        # A total weight of 0 (nobody has played yet) is a division by zero: null, as the
        # scalar aggregation gives, not NaN (which comparisons order above every number).
        total = _ordered_sum(weight)
        agg = pl.when(total != 0).then(_ordered_sum(col * weight) / total)
    elif step.how == "mean":
        agg = pl.when(col.count() > 0).then(_ordered_sum(col) / col.count())
    else:
        agg = _ordered_sum(col)
    agg = agg.alias(step.name)
    if step.scope == "league":
        if keys.partition:
            # One season at a time, each in one chunk: a threaded group_by merges partial
            # float sums in a varying order, so the last bits would change run to run.
            collected = frame.collect()
            seasons = collected.partition_by(list(keys.partition), maintain_order=True)
            per_season = [season.rechunk().select(*[pl.first(k) for k in keys.partition], agg)
                          for season in seasons]
            if not per_season:  # no rows: the empty result of the same aggregation
                return Context(league=collected.group_by(list(keys.partition)).agg(agg))
            return Context(league=pl.concat(per_season))
        return Context(league=frame.select(agg).collect())
    if keys.team is None:
        raise DataError(f"{step.name} is computed per team and needs a team column")
    return Context(team=frame.filter(pl.col(keys.team).is_not_null())
                   .group_by(list(keys.group)).agg(agg).collect())

