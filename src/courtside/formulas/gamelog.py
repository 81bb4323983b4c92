"""Team and opponent season context from a game log (one row per team per game).

A stats.nba.com ``leaguegamelog`` with ``PlayerOrTeam=T`` holds both sides of every game: each
row is one team's box score of one game. Pairing the two rows of a game gives, for every team,
its own totals (``TEAM_<stat>``) and its opponents' (``OPP_<stat>``), games played, wins and
losses; the catalog's context formulas then give possessions and pace (``TEAM_POSS``,
``TEAM_PACE``) exactly as Basketball-Reference computes them from the same totals.

Pure: frames in, frames out. Reading the file is the data layer's job:
:func:`courtside.sources.tables.read_table` reads a saved stats.nba.com response (its
``resultSets``) as it comes from the API.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

from courtside.formulas.catalog import STATS, Catalog, default_catalog
from courtside.formulas.context import Context
from courtside.model import DataError

__all__ = [
    "GAMELOG_STATS",
    "TEAM_RATINGS",
    "context_from_teams",
    "game_log_teams",
    "league_context",
    "league_from_teams",
    "season_key",
    "team_context",
    "with_ratings",
]

GAMELOG_STATS: tuple[str, ...] = tuple(s for s in STATS if s != "PLUS_MINUS")
"""The counting stats summed into team and opponent totals (PLUS_MINUS is the margin)."""

_TEAM_COLUMNS = ("TEAM_ABBREVIATION", "TEAM_ID", "TEAM")
_EXTRA_TEAM_COLUMNS = ("TEAM_ID", "TEAM_NAME")
_SEASON_COLUMNS = ("SEASON_ID", "SEASON", "SEASON_YEAR")


def season_key(frame: pl.DataFrame) -> list[str]:
    """The season columns a game log has (they split it into separate leagues)."""
    return [c for c in _SEASON_COLUMNS if c in frame.columns]


def _team_column(frame: pl.DataFrame, team: str | None) -> str:
    if team is not None:
        if team not in frame.columns:
            raise DataError(f"the game log has no team column {team!r}; "
                            f"its columns are {', '.join(frame.columns)}")
        return team
    for name in _TEAM_COLUMNS:
        if name in frame.columns:
            return name
    raise DataError("the game log has no team column (TEAM_ABBREVIATION, TEAM_ID or TEAM); "
                    "is it a team game log (leaguegamelog with PlayerOrTeam=T)?")


def _require_keys(games: pl.DataFrame, team_col: str) -> None:
    """Every row names its game and its team: a null there would drop the row from the
    pairing and surface as a wrong count."""
    no_game = games["GAME_ID"].null_count()
    if no_game:
        raise DataError(f"{no_game} row(s) have no GAME_ID; every row of the game log names "
                        "its game (opponent totals pair the two rows of each game by it). "
                        "Fill in the missing GAME_IDs or use an unfiltered league game log")
    missing = games.filter(pl.col(team_col).is_null())
    if missing.height:
        where = missing["GAME_ID"].unique(maintain_order=True)
        listed = ", ".join(str(g) for g in where.head(5))
        more = f" and {len(where) - 5} more" if len(where) > 5 else ""
        others = [c for c in _TEAM_COLUMNS if c in games.columns and c != team_col
                  and games[c].null_count() == 0]
        hint = f", or pass team={others[0]!r} (that column is complete)" if others else \
            ", or pass team= naming a team column that every row fills"
        raise DataError(f"{missing.height} row(s) have no team in column {team_col!r} "
                        f"(game(s) {listed}{more}); every row needs its team to pair it "
                        f"with its opponent. Fill in {team_col!r} for those rows{hint}")


def team_context(games: pl.DataFrame, *, team: str | None = None,
                 stats: Sequence[str] = GAMELOG_STATS) -> pl.DataFrame:
    """Per team and season: ``TEAM_GP``, ``TEAM_W``, ``TEAM_L``, ``TEAM_<stat>``, ``OPP_<stat>``.

    ``games`` has one row per team per game (``GAME_ID``, a team column and the stats in
    canonical names). Every game must have exactly its two sides; a game with one side or
    more than two is an error naming it (a partial log would give wrong opponent totals).
    Keys kept: the team column, ``TEAM_ID``/``TEAM_NAME`` when present, the season columns.
    """
    if games.height == 0:
        raise DataError("the game log has no rows")
    team_col = _team_column(games, team)
    if "GAME_ID" not in games.columns:
        raise DataError("the game log has no GAME_ID column; opponent totals pair the two "
                        "rows of each game by it")
    lacking = [s for s in stats if s not in games.columns]
    if lacking:
        raise DataError(f"the game log lacks stat column(s) {', '.join(lacking)}; "
                        "a leaguegamelog (PlayerOrTeam=T) has them all")
    seasons = season_key(games)
    game = [*seasons, "GAME_ID"]
    _require_keys(games, team_col)
    sides = games.group_by(game).agg(pl.len().alias("sides"))
    bad = sides.filter(pl.col("sides") != 2).sort("GAME_ID")
    if bad.height:
        listed = ", ".join(f"{g} ({n} row{'s' if n != 1 else ''})"
                           for g, n in zip(bad["GAME_ID"].head(5), bad["sides"].head(5),
                                           strict=True))
        more = f" and {bad.height - 5} more" if bad.height > 5 else ""
        raise DataError(f"every game needs both teams' rows; game(s) {listed}{more} do not "
                        "have exactly two. Use the full league game log (PlayerOrTeam=T), "
                        "not one team's")
    numeric = [pl.col(s).cast(pl.Float64) for s in stats]
    own = games.select([*game, team_col, *numeric,
                        *[c for c in _EXTRA_TEAM_COLUMNS if c in games.columns and c != team_col]])
    other = games.select([*game, pl.col(team_col).alias("__opp"),
                          *[pl.col(s).cast(pl.Float64).alias(f"OPP_{s}") for s in stats]])
    paired = own.join(other, on=game, how="inner").filter(pl.col("__opp") != pl.col(team_col))
    if paired.height != games.height:
        raise DataError("a game lists the same team twice; check the team column "
                        f"{team_col!r} of the game log")
    keys = [*seasons, team_col, *[c for c in _EXTRA_TEAM_COLUMNS
                                  if c in own.columns and c != team_col]]
    won = pl.col("PTS") > pl.col("OPP_PTS")
    return (paired.group_by(keys, maintain_order=True)
            .agg([pl.len().cast(pl.Float64).alias("TEAM_GP"),
                  won.sum().cast(pl.Float64).alias("TEAM_W"),
                  (~won).sum().cast(pl.Float64).alias("TEAM_L"),
                  *[pl.col(s).sum().alias(f"TEAM_{s}") for s in stats],
                  *[pl.col(f"OPP_{s}").sum() for s in stats]])
            .sort(keys))


def league_context(teams: pl.DataFrame, *, by: Iterable[str] = ()) -> pl.DataFrame:
    """League totals from team rows: ``LG_<stat>`` = the sum of ``TEAM_<stat>`` over teams.

    Also ``LG_GP`` (team-games: each game counted once per side, so ``LG_PTS/LG_GP`` is
    points per team per game) and ``LG_POSS`` (the league's possessions are its teams'
    possessions added up) when the rows have ``TEAM_GP`` and ``TEAM_POSS``. ``by`` splits the
    league (the season columns).
    """
    by = [c for c in by if c in teams.columns]
    summed = [f"TEAM_{s}" for s in STATS] + ["TEAM_GP", "TEAM_POSS"]
    aggs = [pl.col(c).cast(pl.Float64).sum().alias("LG_" + c[5:])
            for c in summed if c in teams.columns]
    if not aggs:
        raise DataError("the team context has no TEAM_<stat> totals to sum into league totals")
    if by:
        return teams.group_by(by, maintain_order=True).agg(aggs).sort(by)
    return teams.select(aggs)


def league_from_teams(teams: pl.DataFrame, *, by: Iterable[str] = ()) -> pl.DataFrame | None:
    """League totals summed from a whole league's team table, or None when it holds no team
    totals (a table of paces only): formulas then derive the league from the input rows."""
    if not any(f"TEAM_{s}" in teams.columns for s in STATS):
        return None
    return league_context(teams, by=by)


TEAM_RATINGS: tuple[str, ...] = ("TEAM_POSS", "OPP_POSS", "TEAM_PACE", "TEAM_ORTG",
                                 "TEAM_DRTG", "NET_RTG")
"""Catalog formulas added to each team row of a game-log context."""


def with_ratings(teams: pl.DataFrame, catalog: Catalog | None = None,
                 formulas: Sequence[str] = TEAM_RATINGS) -> pl.DataFrame:
    """Team rows (``TEAM_``/``OPP_`` totals) with possessions, pace and ratings added.

    The values come from the catalog's compiled formulas, so they are the ones every other
    formula derives from the same totals.
    """
    cat = catalog or default_catalog()
    return teams.with_columns([cat.compile(f).expr for f in formulas])


def game_log_teams(games: pl.DataFrame, *, team: str | None = None,
                   catalog: Catalog | None = None) -> pl.DataFrame:
    """A game log's team context: totals, games, wins, possessions, pace and ratings."""
    return with_ratings(team_context(games, team=team), catalog)


def context_from_teams(teams: pl.DataFrame, *, team: str, seasons: Sequence[str] = (),
                       ) -> Context:
    """A :class:`Context` from team rows: the rows as team context, their sums as league.

    ``team`` names the rows' team column as the input spells it; ``seasons`` are the season
    columns both share (they split the league).
    """
    if team not in teams.columns:
        raise DataError(f"the team context has no column {team!r}")
    keys = [c for c in (*seasons, team) if c in teams.columns]
    ratings = [c for c in teams.columns if c in _RATING_COLUMNS]
    team_frame = teams.drop(ratings)
    league = league_context(teams, by=[c for c in seasons if c in teams.columns])
    return Context(team=team_frame.select([*keys, *[c for c in team_frame.columns
                                                    if c not in keys]]),
                   league=league)


# Ratings in a context file are results, not inputs: formulas derive them again from the
# totals (so one rounding in a file cannot disagree with the totals beside it).
_RATING_COLUMNS = frozenset({"TEAM_ORTG", "TEAM_DRTG", "NET_RTG"})
