"""Parsers of the NBA's cdn.nba.com liveData documents (boxscore, scoreboard).

They turn the feed's JSON (already decoded to dicts) into courtside's normalised shapes:
a boxscore into a :class:`~courtside.model.GameSnapshot` in canonical stat names, a
scoreboard into light game summaries. No I/O here: adapters fetch, these functions parse.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from courtside.model import CANONICAL_STATS, DataError, GameSnapshot, StatLine

__all__ = [
    "CANONICAL_STATS",
    "parse_boxscore",
    "parse_feed_time",
    "parse_iso_minutes",
    "parse_scoreboard",
]

# canonical name -> liveData ``statistics`` key, for players (MIN handled apart).
_PLAYER_KEYS: dict[str, str] = {
    "PTS": "points",
    "FGM": "fieldGoalsMade",
    "FGA": "fieldGoalsAttempted",
    "FG3M": "threePointersMade",
    "FG3A": "threePointersAttempted",
    "FTM": "freeThrowsMade",
    "FTA": "freeThrowsAttempted",
    "OREB": "reboundsOffensive",
    "DREB": "reboundsDefensive",
    "REB": "reboundsTotal",
    "AST": "assists",
    "STL": "steals",
    "BLK": "blocks",
    "TOV": "turnovers",
    "PF": "foulsPersonal",
    "PLUS_MINUS": "plusMinusPoints",
}

_ISO_DURATION = re.compile(r"^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$")

# liveData ``meta.time`` is the NBA's server clock, in US Eastern time without an offset.
_FEED_TZ = ZoneInfo("America/New_York")


def parse_iso_minutes(text: str | None) -> float:
    """Minutes as a float from an ISO 8601 duration such as ``PT34M12.00S`` (34.2).

    An empty string or None (a player who has not played) gives 0.0.
    """
    if text is None or text == "":
        return 0.0
    match = _ISO_DURATION.match(str(text).strip())
    if not match or not any(match.groups()):
        raise DataError(f"cannot read minutes {text!r}: expected an ISO 8601 duration "
                        "such as 'PT34M12.00S'")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return hours * 60.0 + minutes + seconds / 60.0


def parse_feed_time(text: str | None) -> datetime | None:
    """A liveData timestamp as an aware UTC datetime, or None when absent.

    Accepts ISO strings with ``Z`` or an offset (``timeActual``, ``gameTimeUTC``) and the
    offset-less ``meta.time`` (``2020-12-22 23:24:13.537508``), which is US Eastern time.
    """
    if not text:
        return None
    raw = str(text).strip()
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DataError(f"cannot read timestamp {text!r}: expected ISO 8601") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=_FEED_TZ)
    return value.astimezone(UTC)


def _require(obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, Mapping):
        raise DataError(f"liveData {where}: expected an object, got {type(obj).__name__}")
    if key not in obj:
        raise DataError(f"liveData {where}: missing key {key!r} (is this a cdn.nba.com "
                        f"liveData document of the right kind?)")
    return obj[key]


def _number(stats: Mapping[str, Any], key: str, where: str) -> float:
    value = _require(stats, key, where)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DataError(f"liveData {where}.{key}: expected a number, got {value!r}")
    return float(value)


def _player_line(player: Mapping[str, Any], team_id: str, where: str) -> StatLine:
    person = _require(player, "personId", where)
    stats = _require(player, "statistics", where)
    line = {"MIN": parse_iso_minutes(_require(stats, "minutes", f"{where}.statistics"))}
    for name, key in _PLAYER_KEYS.items():
        line[name] = _number(stats, key, f"{where}.statistics")
    return StatLine(kind="player", id=str(person), team_id=team_id,
                    name=str(player.get("name") or player.get("nameI") or person),
                    stats=line, starter=str(player.get("starter", "0")) == "1")


def _team_line(team: Mapping[str, Any], team_id: str, where: str) -> StatLine:
    stats = _require(team, "statistics", where)
    here = f"{where}.statistics"
    line = {"MIN": parse_iso_minutes(_require(stats, "minutes", here))}
    for name, key in _PLAYER_KEYS.items():
        if name != "PLUS_MINUS":
            line[name] = _number(stats, key, here)
    # Team totals include team rebounds and team turnovers (the feed keeps them apart from
    # the players' sums), so that OREB + DREB = REB and TOV counts every lost possession.
    line["OREB"] += float(stats.get("reboundsTeamOffensive", 0) or 0)
    line["DREB"] += float(stats.get("reboundsTeamDefensive", 0) or 0)
    if "turnoversTotal" in stats:
        line["TOV"] = _number(stats, "turnoversTotal", here)
    else:
        line["TOV"] += float(stats.get("turnoversTeam", 0) or 0)
    if "pointsAgainst" in stats:
        line["PLUS_MINUS"] = line["PTS"] - _number(stats, "pointsAgainst", here)
    else:
        line["PLUS_MINUS"] = 0.0
    return StatLine(kind="team", id=team_id, team_id=team_id,
                    name=str(team.get("teamTricode", "")), stats=line)


def parse_boxscore(doc: Mapping[str, Any], *, source: str = "",
                   fetched_at: datetime | None = None) -> GameSnapshot:
    """A liveData boxscore document (``{"meta": ..., "game": ...}``) as a GameSnapshot.

    Players are the ``ACTIVE`` ones (inactive players carry no stats). Team lines hold the
    feed's team totals, team rebounds and team turnovers included. ``data_time`` is the
    document's ``meta.time``.
    """
    game = _require(doc, "game", "boxscore document")
    game_id = str(_require(game, "gameId", "boxscore game"))
    where = f"boxscore {game_id}"
    sides = {}
    for side in ("homeTeam", "awayTeam"):
        team = _require(game, side, where)
        sides[side] = (team, str(_require(team, "teamId", f"{where}.{side}")))
    players: list[StatLine] = []
    teams: list[StatLine] = []
    for side, (team, team_id) in sides.items():
        roster = team.get("players") or []
        if not isinstance(roster, list):
            raise DataError(f"liveData {where}.{side}.players: expected a list")
        for i, player in enumerate(roster):
            if str(player.get("status", "ACTIVE")).upper() != "ACTIVE":
                continue
            players.append(_player_line(player, team_id, f"{where}.{side}.players[{i}]"))
        if "statistics" in team:
            teams.append(_team_line(team, team_id, f"{where}.{side}"))
    meta = doc.get("meta") if isinstance(doc.get("meta"), Mapping) else {}
    return GameSnapshot(
        game_id=game_id,
        status=int(_require(game, "gameStatus", where)),
        period=int(game.get("period") or 0),
        clock=str(game.get("gameClock") or ""),
        home_team_id=sides["homeTeam"][1],
        away_team_id=sides["awayTeam"][1],
        home_tricode=str(sides["homeTeam"][0].get("teamTricode", "")),
        away_tricode=str(sides["awayTeam"][0].get("teamTricode", "")),
        players=players,
        teams=teams,
        data_time=parse_feed_time(meta.get("time")),
        fetched_at=fetched_at,
        source=source,
    )


def _summary_team(team: Mapping[str, Any], where: str) -> dict[str, Any]:
    return {
        "team_id": str(_require(team, "teamId", where)),
        "tricode": str(team.get("teamTricode", "")),
        "name": " ".join(p for p in (team.get("teamCity"), team.get("teamName")) if p),
        "score": int(team.get("score") or 0),
        "wins": team.get("wins"),
        "losses": team.get("losses"),
    }


def parse_scoreboard(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The games of a liveData scoreboard (``todaysScoreboard_00.json``) as light summaries.

    Each summary: ``game_id``, ``status`` (1 scheduled, 2 live, 3 final), ``status_text``,
    ``period``, ``clock``, ``start_time`` (UTC datetime or None), ``home`` and ``away``
    (``team_id``, ``tricode``, ``name``, ``score``, ``wins``, ``losses``).
    """
    board = _require(doc, "scoreboard", "scoreboard document")
    games = _require(board, "games", "scoreboard")
    if not isinstance(games, list):
        raise DataError("liveData scoreboard.games: expected a list")
    out = []
    for i, game in enumerate(games):
        where = f"scoreboard.games[{i}]"
        game_id = str(_require(game, "gameId", where))
        out.append({
            "game_id": game_id,
            "status": int(_require(game, "gameStatus", where)),
            "status_text": str(game.get("gameStatusText", "")).strip(),
            "period": int(game.get("period") or 0),
            "clock": str(game.get("gameClock") or ""),
            "start_time": parse_feed_time(game.get("gameTimeUTC")),
            "home": _summary_team(_require(game, "homeTeam", where), f"{where}.homeTeam"),
            "away": _summary_team(_require(game, "awayTeam", where), f"{where}.awayTeam"),
        })
    return out
