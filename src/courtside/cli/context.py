"""``courtside context``: team and opponent season context from a game log."""

from __future__ import annotations

from typing import Annotated

import typer

from courtside.cli import app
from courtside.cli.options import OutputTable
from courtside.model import CourtsideError

HELP = """Team and opponent season totals, possessions, pace and ratings from a team game log.

The game log has one row per team per game, both sides of every game: a stats.nba.com
`leaguegamelog` response with PlayerOrTeam=T (the raw JSON, resultSets and all, or the same
as CSV/Parquet). The output has one row per team (and season): TEAM_GP, TEAM_W, TEAM_L, the
team's totals TEAM_<stat>, its opponents' OPP_<stat>, TEAM_POSS, OPP_POSS, TEAM_PACE,
TEAM_ORTG, TEAM_DRTG and NET_RTG. Give it to `courtside compute --team-context` for opponent
context (ORB%, STL%, BLK%, ORtg, DRtg, Win Shares, BPM, VORP).

\b
  courtside context --game-log leaguegamelog_2018-19_team.json --output teams.csv
"""


@app.command("context", help=HELP)
def context_command(
    game_log: Annotated[str, typer.Option(
        "--game-log", "-g", help="Team game log (JSON response, CSV, Parquet) or '-'.")],
    output: OutputTable = "-",
    result_set: Annotated[str | None, typer.Option(
        "--result-set", help="The result set to read from a JSON response "
                             "(default: the first, LeagueGameLog).")] = None,
) -> None:
    from courtside.formulas.gamelog import game_log_teams
    from courtside.sources.tables import read_table, write_table

    try:
        teams = game_log_teams(read_table(game_log, result_set=result_set))
        write_table(teams, output)
    except CourtsideError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if output != "-":
        games = int(teams["TEAM_GP"].sum() // 2)
        typer.echo(f"wrote {teams.height} teams ({games} games) to {output}", err=True)
