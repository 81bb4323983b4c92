"""Presets: other vocabularies of box-score tables, mapped to the canonical stat names.

A preset names, for one kind of source, which column holds which canonical stat, which
columns identify the team, the game and the season, and which other columns are stats too
(percentages, games played) and so are not carried to the output. ``--map SOURCE=CANONICAL``
adds to or overrides a preset; the canonical side is a stat name (``PTS``) or a key role
(``TEAM``, ``GAME``, ``SEASON``).

- ``nba-stats``: stats.nba.com / nba_api result sets (already canonical names).
- ``nba-live``: a cdn.nba.com liveData boxscore JSON document: both teams' players, minutes
  from ISO durations, and the file's own team totals (team turnovers and rebounds included).
- ``bbr``: Basketball-Reference tables (MP FG 3P ORB TRB Tm...; ``TOT``/``2TM`` rows are
  multi-team aggregates).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from courtside.model import ConfigError, DataError
from courtside.sources.livedata import CANONICAL_STATS, parse_boxscore
from courtside.sources.teamcodes import position_expr

__all__ = [
    "KEY_ROLES",
    "PRESETS",
    "PreparedTable",
    "Preset",
    "get_preset",
    "live_boxscore_table",
    "parse_mapping",
    "prepare",
    "team_context_table",
]

KEY_ROLES = ("TEAM", "GAME", "SEASON")
"""Targets of ``--map`` that name a key column rather than a stat."""


@dataclass(frozen=True, slots=True)
class Preset:
    """One source vocabulary.

    Attributes:
        name: the preset's name (``--preset``).
        description: one line for ``--help``.
        stats: source column -> canonical stat.
        team: candidate team columns; the first one present is used.
        game: candidate game-id columns; the first one present is used.
        season: candidate season columns; every one present splits the league.
        other_stats: source columns that are stats but no formula input (FG%, G...): left
            out of the output.
    """

    name: str
    description: str
    stats: Mapping[str, str] = field(default_factory=dict)
    team: tuple[str, ...] = ()
    game: tuple[str, ...] = ()
    season: tuple[str, ...] = ()
    other_stats: frozenset[str] = frozenset()


_CANONICAL = {s: s for s in CANONICAL_STATS}

PRESETS: dict[str, Preset] = {
    "nba-stats": Preset(
        name="nba-stats",
        description="stats.nba.com / nba_api result sets (MIN FGM FG3M OREB TOV TEAM_ABBREVIATION)",
        stats=_CANONICAL,
        team=("TEAM_ABBREVIATION", "TEAM_ID", "TEAM"),
        game=("GAME_ID",),
        season=("SEASON_ID", "SEASON", "SEASON_YEAR"),
        other_stats=frozenset({"FG_PCT", "FG3_PCT", "FT_PCT", "GP", "W", "L", "W_PCT",
                               "FANTASY_PTS", "DD2", "TD3", "BLKA", "PFD", "NBA_FANTASY_PTS"}),
    ),
    "nba-live": Preset(
        name="nba-live",
        description="a cdn.nba.com liveData boxscore JSON file (both teams' players)",
        stats=_CANONICAL,
        team=("TEAM_ABBREVIATION",),
        game=("GAME_ID",),
    ),
    "bbr": Preset(
        name="bbr",
        description="Basketball-Reference tables (MP FG 3P 3PA FT ORB DRB TRB TOV Tm)",
        stats={"MP": "MIN", "PTS": "PTS", "FG": "FGM", "FGA": "FGA", "3P": "FG3M",
               "3PA": "FG3A", "FT": "FTM", "FTA": "FTA", "ORB": "OREB", "DRB": "DREB",
               "TRB": "REB", "AST": "AST", "STL": "STL", "BLK": "BLK", "TOV": "TOV",
               "PF": "PF", "+/-": "PLUS_MINUS"},
        team=("Tm", "Team"),
        game=("Game_ID", "game_id"),
        season=("Year", "Season"),
        other_stats=frozenset({"FG%", "3P%", "2P", "2PA", "2P%", "eFG%", "FT%", "G", "GS"}),
    ),
}

_POSITION_COLUMNS = ("Pos", "POSITION", "position")
"""Listed-position columns; BPM reads them as ``POS_LISTED`` (PG 1 ... C 5)."""
_GUESS_TEAM = ("TEAM_ABBREVIATION", "TEAM", "Team", "Tm", "team", "TEAM_ID", "teamTricode")
_GUESS_GAME = ("GAME_ID", "game_id", "gameId")
_GUESS_SEASON = ("SEASON_ID", "SEASON", "Season", "season", "Year")


@dataclass(slots=True)
class PreparedTable:
    """A table in canonical names, ready for formulas.

    Attributes:
        frame: the input columns plus one column per canonical stat found.
        passthrough: the input columns that are not stats, in input order (the output's ids).
        team, game, season: the key columns found (None / empty when absent).
        team_rows: the source's own team rows, when it has them (nba-live), for team level.
        team_context: ``TEAM_<stat>`` and ``OPP_<stat>`` totals from the source itself
            (nba-live), keyed by game and team.
    """

    frame: pl.DataFrame
    passthrough: list[str]
    team: str | None = None
    game: tuple[str, ...] = ()
    season: tuple[str, ...] = ()
    team_rows: pl.DataFrame | None = None
    team_context: pl.DataFrame | None = None


def get_preset(name: str | None) -> Preset | None:
    """A preset by name (None for none); ``ConfigError`` listing the known ones."""
    if name is None:
        return None
    preset = PRESETS.get(name.lower())
    if preset is None:
        raise ConfigError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}")
    return preset


def parse_mapping(items: Iterable[str] | Mapping[str, str] | None) -> dict[str, str]:
    """``SOURCE=CANONICAL`` texts (or a dict) as a dict; the canonical side is checked."""
    if not items:
        return {}
    pairs = items.items() if isinstance(items, Mapping) else (_split(i) for i in items)
    out: dict[str, str] = {}
    for source, target in pairs:
        canon = target.strip().upper()
        if canon not in CANONICAL_STATS and canon not in KEY_ROLES:
            raise ConfigError(f"--map {source}={target}: {target!r} is not a canonical stat "
                              f"({' '.join(CANONICAL_STATS)}) or a key ({', '.join(KEY_ROLES)})")
        out[source.strip()] = canon
    return out


def _split(item: str) -> tuple[str, str]:
    source, sep, target = item.rpartition("=")
    if not sep or not source or not target:
        raise ConfigError(f"--map takes SOURCE=CANONICAL (e.g. Points=PTS), not {item!r}")
    return source, target


_CLOCK = re.compile(r"^\s*(\d+):(\d+(?:\.\d+)?)\s*$")


def _minutes_expr(col: str) -> pl.Expr:
    """Minutes as a float from text: ``34:12``, ``PT34M12.00S`` or a plain number."""
    text = pl.col(col).cast(pl.String).str.strip_chars()
    clock = text.str.extract_groups(r"^(\d+):(\d+(?:\.\d+)?)$")
    iso = text.str.extract_groups(r"^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$")
    from_clock = (clock.struct.field("1").cast(pl.Float64)
                  + clock.struct.field("2").cast(pl.Float64) / 60)
    from_iso = (iso.struct.field("1").cast(pl.Float64).fill_null(0) * 60
                + iso.struct.field("2").cast(pl.Float64).fill_null(0)
                + iso.struct.field("3").cast(pl.Float64).fill_null(0) / 60)
    return (pl.when(text.str.starts_with("PT")).then(from_iso)
            .when(clock.struct.field("1").is_not_null()).then(from_clock)
            .otherwise(text.cast(pl.Float64, strict=False))).alias("MIN")


def prepare(frame: pl.DataFrame, preset: str | Preset | None = None,
            mapping: Iterable[str] | Mapping[str, str] | None = None) -> PreparedTable:
    """Map a table's columns to canonical stats and find its key columns.

    Stats already under canonical names are used as they are; text stat columns are read as
    numbers (blanks and dashes become null); MIN given as ``34:12`` or ``PT34M12S`` becomes
    minutes; REB, OREB or DREB missing is derived from the other two.
    """
    spec = preset if isinstance(preset, Preset) else get_preset(preset)
    maps = parse_mapping(mapping)
    stat_map: dict[str, str] = dict(spec.stats) if spec else {}
    stat_map.update({s: t for s, t in maps.items() if t not in KEY_ROLES})
    roles: dict[str, list[str]] = {}
    for source, target in maps.items():
        if target in KEY_ROLES:
            roles.setdefault(target, []).append(source)
    if len(roles.get("TEAM", [])) > 1:
        raise ConfigError(f"--map: one team column, not {', '.join(roles['TEAM'])}")
    for source in (s for sources in roles.values() for s in sources):
        if source not in frame.columns:
            raise ConfigError(f"--map {source}=...: the input has no column {source!r}")
    for source, target in maps.items():
        if target not in KEY_ROLES and source not in frame.columns:
            raise ConfigError(f"--map {source}={target}: the input has no column {source!r}; "
                              f"its columns are {', '.join(frame.columns[:40])}")

    schema = frame.schema
    columns = set(schema)
    present = {s: t for s, t in stat_map.items() if s in columns}
    # A canonical column present under its own name is a stat unless something maps onto it.
    targets = set(present.values())
    for stat in CANONICAL_STATS:
        if stat in columns and stat not in targets and stat not in present:
            present[stat] = stat
    exprs: list[pl.Expr] = []
    for source, target in present.items():
        col = pl.col(source)
        dtype = schema[source]
        if target == "MIN" and dtype == pl.String:
            exprs.append(_minutes_expr(source))
            continue
        if dtype == pl.String:
            col = col.str.strip_chars().cast(pl.Float64, strict=False)
        elif not dtype.is_numeric():
            raise DataError(f"column {source!r} ({target}) holds {dtype}, not numbers")
        if source != target or dtype == pl.String:
            exprs.append(col.alias(target))
    prepared = frame.with_columns(exprs) if exprs else frame
    have = set(prepared.columns)
    derived = []
    if "REB" not in have and {"OREB", "DREB"} <= have:
        derived.append((pl.col("OREB") + pl.col("DREB")).alias("REB"))
    if "DREB" not in have and {"REB", "OREB"} <= have:
        derived.append((pl.col("REB") - pl.col("OREB")).alias("DREB"))
    if "OREB" not in have and {"REB", "DREB"} <= have:
        derived.append((pl.col("REB") - pl.col("DREB")).alias("OREB"))
    position = _first(frame.columns, _POSITION_COLUMNS)
    if "POS_LISTED" not in have and position is not None:
        derived.append(position_expr(frame[position]).alias("POS_LISTED"))
    if derived:
        prepared = prepared.with_columns(derived)

    stat_sources = set(present) | set(present.values()) | set(CANONICAL_STATS)
    if spec:
        stat_sources |= spec.other_stats
    passthrough = [c for c in frame.columns if c not in stat_sources]
    team = (roles["TEAM"][0] if "TEAM" in roles
            else _first(frame.columns, spec.team if spec else _GUESS_TEAM))
    # A game may be named by several columns together (--map Date=GAME --map Home=GAME).
    game = (tuple(roles["GAME"]) if "GAME" in roles else
            tuple(c for c in [_first(frame.columns, spec.game if spec else _GUESS_GAME)] if c))
    seasons = (tuple(roles["SEASON"]) if "SEASON" in roles else
               tuple(c for c in (spec.season if spec else _GUESS_SEASON) if c in columns)[:1])
    return PreparedTable(frame=prepared, passthrough=passthrough, team=team, game=game,
                         season=seasons)


def _first(columns: Iterable[str], candidates: Iterable[str]) -> str | None:
    have = set(columns)
    return next((c for c in candidates if c in have), None)


def guess_preset(columns: Iterable[str]) -> str | None:
    """The preset whose vocabulary a table's columns look like (a hint for error messages)."""
    have = set(columns)
    if {"MP", "FG", "3P"} <= have:
        return "bbr"
    if {"GAME_ID", "FGM", "FG3M"} <= have:
        return "nba-stats"
    return None


# --------------------------------------------------------------------------- nba-live


def live_boxscore_table(doc: Mapping[str, Any] | str | Path) -> PreparedTable:
    """A liveData boxscore (a document or its JSON file) as a prepared player table.

    Both teams' active players, one row each; ``team_rows`` holds the file's team totals (team
    turnovers and rebounds included) and ``team_context`` the same as ``TEAM_``/``OPP_``
    totals, which the formulas use as the team context.
    """
    if not isinstance(doc, Mapping):
        path = Path(doc)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise DataError(f"cannot read liveData boxscore {path}: {exc}") from None
        if not isinstance(doc, Mapping):
            raise DataError(f"{path}: not a liveData boxscore document (no 'game' object)")
    snap = parse_boxscore(doc)
    tricodes = {snap.home_team_id: snap.home_tricode, snap.away_team_id: snap.away_tricode}

    def rows(lines: list, players: bool) -> pl.DataFrame:
        data = []
        for line in lines:
            row: dict[str, Any] = {"GAME_ID": snap.game_id, "TEAM_ID": line.team_id,
                                   "TEAM_ABBREVIATION": tricodes.get(line.team_id, "")}
            if players:
                row |= {"PLAYER_ID": line.id, "PLAYER_NAME": line.name,
                        "STARTER": line.starter}
            row |= {s: float(line.stats.get(s, 0.0)) for s in CANONICAL_STATS}
            data.append(row)
        return pl.DataFrame(data) if data else pl.DataFrame()

    players = rows(snap.players, True)
    teams = rows(snap.teams, False)
    context = None
    if teams.height:
        keys = ["GAME_ID", "TEAM_ABBREVIATION"]
        own = teams.select([*keys, *[pl.col(s).alias(f"TEAM_{s}") for s in CANONICAL_STATS]])
        opp = teams.select([pl.col("GAME_ID"), pl.col("TEAM_ABBREVIATION").alias("__opp"),
                            *[pl.col(s).alias(f"OPP_{s}") for s in CANONICAL_STATS]])
        context = (own.join(opp, on="GAME_ID", how="left")
                   .filter(pl.col("__opp").is_null()
                           | (pl.col("__opp") != pl.col("TEAM_ABBREVIATION")))
                   .drop("__opp"))
    passthrough = ["GAME_ID", "TEAM_ID", "TEAM_ABBREVIATION", "PLAYER_ID", "PLAYER_NAME",
                   "STARTER"]
    if players.is_empty():
        raise DataError(f"liveData boxscore {snap.game_id} has no active players yet")
    return PreparedTable(frame=players, passthrough=passthrough, team="TEAM_ABBREVIATION",
                         game=("GAME_ID",), team_rows=teams if teams.height else None,
                         team_context=context)


# --------------------------------------------------------------------------- team context


def team_context_table(frame: pl.DataFrame, preset: str | Preset | None = None,
                       mapping: Iterable[str] | Mapping[str, str] | None = None,
                       *, team: str | None = None) -> pl.DataFrame:
    """A caller's team context table in canonical context names.

    ``frame`` is keyed by the preset's team column (and optionally its season/game columns).
    ``Pace`` becomes ``TEAM_PACE``; columns in the preset's vocabulary become ``TEAM_<stat>``;
    columns prefixed ``OPP_``/``Opp ``/``opp_`` become ``OPP_<stat>``; columns already named
    ``TEAM_<stat>``, ``OPP_<stat>``, ``TEAM_POSS`` or ``OPP_POSS`` are kept.
    """
    spec = preset if isinstance(preset, Preset) else get_preset(preset)
    stat_map: dict[str, str] = dict(spec.stats) if spec else {}
    stat_map.update({s: s for s in CANONICAL_STATS})
    stat_map.update({s: t for s, t in parse_mapping(mapping).items() if t not in KEY_ROLES})
    team = team or _first(frame.columns, (spec.team if spec else ()) + _GUESS_TEAM)
    if team is None:
        raise DataError("the team context table needs a team column "
                        f"(one of {', '.join((spec.team if spec else ()) + _GUESS_TEAM)})")
    keys = [team] + [c for c in (*(spec.season if spec else _GUESS_SEASON),
                                  *(spec.game if spec else _GUESS_GAME))
                     if c in frame.columns and c != team]
    out: list[pl.Expr] = [pl.col(k) for k in keys]
    named: set[str] = set()
    for col in frame.columns:
        if col in keys:
            continue
        name = None
        upper = col.upper()
        if upper in ("PACE", "TEAM_PACE"):
            name = "TEAM_PACE"
        elif upper in ("POSS", "TEAM_POSS"):
            name = "TEAM_POSS"
        elif upper == "OPP_POSS":
            name = "OPP_POSS"
        elif upper in ("TEAM_GP", "AVG_LEAD") or (upper.startswith(("TEAM_", "OPP_")) and upper.split("_", 1)[1] in CANONICAL_STATS):  # games played, BPM's average lead
            name = upper
        elif col.startswith(("Opp ", "OPP_", "opp_")):
            stat = stat_map.get(col[4:])
            name = f"OPP_{stat}" if stat else None
        elif col in stat_map:
            name = f"TEAM_{stat_map[col]}"
        if name and name not in named:
            named.add(name)
            out.append(pl.col(col).cast(pl.Float64, strict=False).alias(name))
    if not named:
        raise DataError("the team context table has no Pace column and no team totals; "
                        f"its columns are {', '.join(frame.columns)}")
    return frame.select(out)
