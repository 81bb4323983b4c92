"""``compute``: formulas over a whole table in one lazy Polars query.

Flow: read/convert the input -> map it to canonical names (preset, ``--map``) -> optionally
aggregate players to teams -> derive only the context the formulas need (team, opponent,
league totals; steps such as PER's league aPER), merged with what the caller supplies ->
one ``select`` of every compiled expression.

For chunked execution, derive the context once over the whole input with
:func:`derive_context` and pass it to :func:`compute` for each chunk (``context=``): a chunk
then derives nothing, so its values equal those of a single run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from courtside.batch.frames import from_pandas, is_pandas_frame
from courtside.formulas.catalog import STATS, Catalog, default_catalog
from courtside.formulas.compiler import staged_select
from courtside.formulas.context import Context, Keys, attach, base_rows, build_context
from courtside.model import ConfigError, DataError
from courtside.sources.presets import (
    PreparedTable,
    guess_preset,
    live_boxscore_table,
    prepare,
)
from courtside.sources.tables import read_table

__all__ = ["Prepared", "compute", "derive_context", "load", "provided_names",
           "resolve_formulas"]

Data = pl.DataFrame | pl.LazyFrame | Any  # also pandas frames, paths and liveData documents
LEVELS = ("player", "team")
LAZY_PLAN_NODES = 200
"""Formulas of at most this many tree nodes in all are planned lazily (see ``evaluate``)."""


@dataclass(slots=True)
class Prepared:
    """An input ready for formulas: canonical rows, output id columns, keys, own context."""

    rows: pl.DataFrame
    passthrough: list[str]
    keys: Keys
    context: Context | None
    catalog: Catalog
    preset: str | None = None

    def hint(self) -> str:
        """A preset suggestion when the caller gave none and the columns look like one."""
        guess = guess_preset(self.rows.columns) if self.preset is None else None
        return f" (the input looks like a {guess!r} table: add --preset {guess})" if guess else ""


def resolve_formulas(formulas: str | Iterable[str], catalog: Catalog) -> list[str]:
    """Formula ids from ids/aliases (a list, or one comma-separated text), deduplicated."""
    items = formulas.split(",") if isinstance(formulas, str) else list(formulas)
    ids: list[str] = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        fid = catalog.get(item).id
        if fid not in ids:
            ids.append(fid)
    if not ids:
        raise ConfigError("no formulas requested; name some, e.g. --formulas TS_PCT,USG_PCT,PER "
                          "(`courtside formulas list` shows them)")
    return ids


def _catalog(define: Any, catalog: Catalog | None) -> Catalog:
    base = catalog or default_catalog()
    if define is None:
        return base
    if isinstance(define, Catalog):
        return define
    if isinstance(define, str):
        define = [define]
    if isinstance(define, Mapping):
        define = list(define.items())
    return base.define(define)


def _frame(data: Data) -> pl.DataFrame:
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    if isinstance(data, str | Path):
        return read_table(data)
    if is_pandas_frame(data):
        return from_pandas(data)
    raise DataError(f"compute takes a Polars or pandas frame or a file path, not "
                    f"{type(data).__name__}")


def load(data: Data, *, preset: str | None = None, mapping: Any = None,
         level: str = "player", define: Any = None, catalog: Catalog | None = None,
         ) -> Prepared:
    """Read and map an input (and aggregate it to teams for ``level="team"``)."""
    if level not in LEVELS:
        raise ConfigError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    cat = _catalog(define, catalog)
    if preset is not None and preset.lower() == "nba-live":
        if isinstance(data, pl.DataFrame | pl.LazyFrame):
            table = prepare(_frame(data), "nba-live", mapping)
        else:
            table = live_boxscore_table(data)
    else:
        table = prepare(_frame(data), preset, mapping)
    keys = Keys(team=table.team, game=table.game, partition=table.season)
    given = Context(team=table.team_context) if table.team_context is not None else None
    if level == "team":
        table = _to_teams(table, keys)
    return Prepared(rows=_nan_as_null(table.frame), passthrough=table.passthrough, keys=keys,
                    context=given, catalog=cat, preset=preset)


def _nan_as_null(frame: pl.DataFrame) -> pl.DataFrame:
    # The closure form counts NaN as null; Polars would carry it through sums and order it
    # above every number in comparisons, so both forms would disagree on the same row.
    floats = [name for name, dtype in frame.schema.items() if dtype.is_float()]
    return frame.with_columns(pl.col(floats).fill_nan(None)) if floats else frame


def _to_teams(table: PreparedTable, keys: Keys) -> PreparedTable:
    """Player rows summed to one row per team group (the source's own team rows if any)."""
    if table.team_rows is not None:
        frame = table.team_rows
        ids = [c for c in frame.columns if c not in STATS]
        return PreparedTable(frame=frame, passthrough=ids, team=table.team, game=table.game,
                             season=table.season, team_context=table.team_context)
    if keys.team is None:
        raise DataError("--level team needs a team column; map one with --map COLUMN=TEAM")
    stats = [s for s in STATS if s in table.frame.columns]
    frame = (base_rows(table.frame.lazy(), keys)
             .group_by(list(keys.group), maintain_order=True)
             .agg([pl.col(s).sum() for s in stats])
             .collect())
    return PreparedTable(frame=frame, passthrough=list(keys.group), team=table.team,
                         game=table.game, season=table.season)


def _given(prepared: Prepared, context: Context | Mapping[str, float] | None) -> Context | None:
    if context is None:
        return prepared.context
    if isinstance(context, Context):
        context = _align_team_context(prepared, context)
    if isinstance(context, Mapping):
        context = Context.of(**{str(k): float(v) for k, v in context.items()})
    if not isinstance(context, Context):
        raise ConfigError("context must be a courtside Context or a dict of values such as "
                          "{'LG_PACE': 100.4}")
    if prepared.context is None:
        return context
    return prepared.context.merge(context, prepared.keys)


def _context(prepared: Prepared, ids: Sequence[str],
             context: Context | Mapping[str, float] | None) -> Context | None:
    try:
        return build_context(prepared.rows, prepared.keys, prepared.catalog, ids,
                             _given(prepared, context))
    except DataError as exc:
        # Some context errors already name the formulas (the totals' missing columns): once.
        named = f"{', '.join(ids)}: "
        message = str(exc) if str(exc).startswith(named) else f"{named}{exc}"
        raise DataError(f"{message}{prepared.hint()}") from None


def derive_context(data: Data, formulas: str | Iterable[str], *, preset: str | None = None,
                   context: Context | Mapping[str, float] | None = None, define: Any = None,
                   level: str = "player", mapping: Any = None,
                   catalog: Catalog | None = None) -> Context | None:
    """The context ``formulas`` need over the whole of ``data``, to pass to ``compute``.

    Returns None when the formulas need no context. Pass the result as ``context=`` when
    computing chunks of the same input: each chunk then uses the whole input's totals.
    """
    prepared = load(data, preset=preset, mapping=mapping, level=level, define=define,
                    catalog=catalog)
    ids = resolve_formulas(formulas, prepared.catalog)
    return _context(prepared, ids, context)


def compute(data: Data, formulas: str | Iterable[str], *, preset: str | None = None,
            context: Context | Mapping[str, float] | None = None, define: Any = None,
            level: str = "player", mapping: Any = None,
            catalog: Catalog | None = None) -> pl.DataFrame:
    """Compute formulas over a table; one output column per formula, named by its id.

    Args:
        data: a Polars or pandas frame, or a path (CSV, Parquet, JSON, NDJSON; with
            ``preset="nba-live"`` a liveData boxscore JSON file).
        formulas: ids or aliases (``["TS_PCT", "usg%"]`` or ``"TS_PCT,PER"``), custom names.
        preset: the input's vocabulary: ``nba-stats``, ``nba-live`` or ``bbr``.
        context: supplied context (a :class:`Context`, e.g. from :func:`derive_context`, or
            constants such as ``{"LG_PACE": 100.4}``); it wins over derived values.
        define: custom formulas: ``["MY_TS=PTS/(2*TSA)"]``, a dict, or a Catalog.
        level: ``player`` (rows as given) or ``team`` (players summed to teams first).
        mapping: ``{"SOURCE": "CANONICAL"}`` or ``["SOURCE=CANONICAL"]`` column mappings.

    Returns:
        Every input column that is not a stat (ids, names, team), then the formulas.
    """
    prepared = load(data, preset=preset, mapping=mapping, level=level, define=define,
                    catalog=catalog)
    ids = resolve_formulas(formulas, prepared.catalog)
    return evaluate(prepared, ids, context)


def evaluate(prepared: Prepared, ids: Sequence[str],
             context: Context | Mapping[str, float] | None = None) -> pl.DataFrame:
    """Compute resolved formula ids over a prepared input."""
    cat = prepared.catalog
    ctx = _context(prepared, ids, context)
    provided = provided_names(prepared, ctx)
    compiled = [cat.compile(fid, provided) for fid in ids]
    columns = set(prepared.rows.columns)
    lacking = sorted({name for c in compiled for name in c.inputs
                      if name not in columns and name not in provided})
    if lacking:
        raise DataError(f"{', '.join(ids)} need {', '.join(lacking)}, which the input lacks "
                        f"(its columns: {', '.join(prepared.rows.columns[:30])}); map them "
                        "with --map SOURCE=CANONICAL or pick a preset (--preset bbr, "
                        f"nba-stats, nba-live){prepared.hint()}")
    passthrough = [c for c in prepared.passthrough if c not in ids]
    frame = attach(prepared.rows.lazy(), prepared.keys, ctx).collect()
    exprs = [*passthrough, *(c.expr_for(frame.schema) for c in compiled)]
    if sum(c.size for c in compiled) <= LAZY_PLAN_NODES:
        # Small formulas: the lazy planner's common-subexpression elimination shares the
        # casts and sums the formulas have in common, for a few milliseconds of planning.
        return frame.lazy().select(exprs).collect()
    # Large inlined formulas (PER, BPM, Win Shares): lazy planning costs far more than it
    # saves (PER: 80 ms against 7 ms eager on a small frame), so select eagerly, each
    # formula's repeated parts computed once as columns (same values, shallower plans).
    return staged_select(frame, compiled, passthrough)


def provided_names(prepared: Prepared, context: Context | None) -> set[str]:
    """The context values formulas read as given rather than derive: the context's columns
    and the input's own columns of those names (``TEAM_PACE``, ``POS_LISTED``; they win)."""
    provided = context.names(prepared.keys) if context is not None else set()
    return provided | (set(prepared.rows.columns) & prepared.catalog.context_values)


_TEAM_COLUMNS = ("TEAM_ABBREVIATION", "Tm", "TEAM", "Team", "TEAM_ID")


def _align_team_context(prepared: Prepared, context: Context) -> Context:
    """A supplied team context keyed the way the input is: its team column renamed to the
    input's and its team codes spelled as the input spells them (BRK/BKN, CHO/CHA, PHO/PHX).

    Without this, a context keyed by another column would join on nothing (every row to every
    team). A context with one season and an input with several is an error, for the same
    reason.
    """
    from courtside.sources.teamcodes import align_team_codes

    team = prepared.keys.team
    frame = context.team
    if frame is None or team is None:
        return context
    if team not in frame.columns:
        found = next((c for c in _TEAM_COLUMNS if c in frame.columns), None)
        if found is None:
            raise DataError(f"the team context has no team column ({', '.join(_TEAM_COLUMNS)})"
                            f" to match the input's {team!r}; its columns are "
                            f"{', '.join(frame.columns[:20])}")
        frame = frame.rename({found: team})
    frame = align_team_codes(frame, team, prepared.rows[team].unique().to_list())
    league = context.league
    for season in prepared.keys.partition:
        if season in frame.columns:
            continue
        values = prepared.rows[season].drop_nulls().unique()
        if len(values) == 0:  # no rows (an empty chunk): nothing to join
            continue
        if len(values) > 1:
            raise DataError(f"the input holds {len(values)} seasons ({season}) but the team "
                            f"context has no {season} column; filter the input to the "
                            "context's season")
        # One season: the context is that season's (keyed like the rows it joins).
        key = pl.lit(values[0], dtype=values.dtype).alias(season)
        frame = frame.with_columns(key)
        if league is not None and season not in league.columns:
            league = league.with_columns(key)
    return Context(team=frame, league=league, notes=context.notes)

