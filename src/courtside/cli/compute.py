"""``courtside compute``: formulas over a table file, written to a table file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from courtside.cli import app
from courtside.cli.options import OutputTable
from courtside.model import CourtsideError

HELP = """Compute formulas over a table of box scores (one row per player or team).

INPUT and --output are CSV, Parquet, JSON or NDJSON, chosen by extension; '-' is stdin/stdout
(CSV). The output keeps every input column that is not a stat (ids, names, team), then one
column per formula, named by its id. Shooting percentages are fractions (TS_PCT 0.612), rates
are 0-100 (USG_PCT 28.4), as on Basketball-Reference.

\b
A season's advanced stats from a Basketball-Reference totals table (Tm, MP, FG, 3P, ...):
  courtside compute totals.csv --preset bbr --team-context team_pace.csv --league-pace 99.2 \\
      --formulas TS_PCT,FG3A_RATE,FTA_RATE,TOV_PCT,AST_PCT,USG_PCT,PER --output advanced.csv
  (team_pace.csv: columns Tm,Pace; a season table has no opponents, so PER needs the paces.)

\b
Basketball-Reference's advanced table (ORB% ... WS, BPM, VORP) from the season's team game
log (stats.nba.com leaguegamelog, PlayerOrTeam=T) and the player totals:
  courtside context --game-log leaguegamelog_2018-19_team.json --output teams.csv
  courtside compute totals_2019.csv --preset bbr --team-context teams.csv \\
      --formulas ORB_PCT,DRB_PCT,STL_PCT,BLK_PCT,ORTG,DRTG,OWS,DWS,WS,WS_48,BPM,VORP -o adv.csv

\b
From a stats.nba.com / nba_api player game log (both sides of every game, so team,
opponent and league totals and paces are derived from the data itself):
  courtside compute leaguegamelog.json --preset nba-stats \\
      --formulas TS_PCT,USG_PCT,ORB_PCT,STL_PCT,PIE,PER --output games.parquet

\b
A live box score file from cdn.nba.com, per player or per team:
  courtside compute boxscore_0022000001.json --preset nba-live --formulas TS_PCT,USG_PCT -o -
  courtside compute boxscore_0022000001.json --preset nba-live --level team --formulas TS_PCT -o -

Other vocabularies: --map 'Points=PTS' --map 'Club=TEAM'. Your own formulas:
--define 'STOCKS=STL+BLK' --formulas TS_PCT,STOCKS. `courtside formulas list` shows every id.
"""


@app.command("compute", help=HELP)
def compute_command(
    input: Annotated[str, typer.Argument(
        help="Input table (CSV, Parquet, JSON, NDJSON) or '-'.")],
    formulas: Annotated[str, typer.Option(
        "--formulas", "-f", help="Comma-separated formula ids or aliases, e.g. TS_PCT,PER.")],
    output: OutputTable = "-",
    preset: Annotated[str | None, typer.Option(
        "--preset", "-p", help="Input vocabulary: nba-stats, nba-live or bbr.")] = None,
    level: Annotated[str, typer.Option(
        "--level", help="player: rows as given; team: players summed to teams first.")
    ] = "player",
    team_context: Annotated[Path | None, typer.Option(
        "--team-context", exists=True, dir_okay=False,
        help="CSV keyed by the preset's team column (e.g. Tm) with a Pace column and "
             "optionally team totals (OPP_-prefixed columns: opponent totals); a whole "
             "league's table, such as `courtside context` writes from a game log, also "
             "gives the league totals.")] = None,
    league_pace: Annotated[float | None, typer.Option(
        "--league-pace", help="The league's pace (possessions per 48).")] = None,
    define: Annotated[list[str] | None, typer.Option(
        "--define", "-d", help="A custom formula NAME=EXPR (repeatable).")] = None,
    mapping: Annotated[list[str] | None, typer.Option(
        "--map", "-m", help="SOURCE=CANONICAL column mapping (repeatable); CANONICAL is a "
                            "stat (PTS) or TEAM, GAME, SEASON.")] = None,
) -> None:
    from courtside.batch.compute import compute
    from courtside.formulas.context import Context
    from courtside.formulas.gamelog import league_from_teams
    from courtside.sources.presets import team_context_table
    from courtside.sources.tables import read_table, write_table

    try:
        context = None
        if team_context is not None:
            team = team_context_table(read_table(team_context), preset, mapping)
            context = Context.of(team=team, league=league_from_teams(team))
        if league_pace is not None:
            context = Context.of(team=context.team if context else None,
                                 league=context.league if context else None,
                                 LG_PACE=league_pace)
        result = compute(input, formulas, preset=preset, context=context,
                         define=define or None, level=level, mapping=mapping or None)
        write_table(result, output)
    except CourtsideError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if output != "-":
        typer.echo(f"wrote {result.height} rows, {len(result.columns)} columns to {output}",
                   err=True)
