"""Recorded games re-played on a clock, rendered back into liveData documents.

A :class:`RecordedGame` holds one game's play-by-play and final boxscore files. At any
elapsed game time it gives the play-by-play truncated to the actions that had happened, the
box score derived from those actions (with the play-by-play helper's ``derive_boxscore``),
rendered in the feed's own boxscore format, and the game's scoreboard entry.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from courtside.model import DataError, GameSnapshot, StatLine

__all__ = ["RecordedGame", "clone_games", "load_games", "render_boxscore"]

_EASTERN = ZoneInfo("America/New_York")

_LIVE_KEYS = {
    "PTS": "points", "FGM": "fieldGoalsMade", "FGA": "fieldGoalsAttempted",
    "FG3M": "threePointersMade", "FG3A": "threePointersAttempted",
    "FTM": "freeThrowsMade", "FTA": "freeThrowsAttempted",
    "OREB": "reboundsOffensive", "DREB": "reboundsDefensive", "REB": "reboundsTotal",
    "AST": "assists", "STL": "steals", "BLK": "blocks", "TOV": "turnovers",
    "PF": "foulsPersonal",
}


def _iso_minutes(minutes: float) -> str:
    seconds = round(minutes * 60.0, 2)
    whole = int(seconds // 60)
    return f"PT{whole:02d}M{seconds - whole * 60:05.2f}S"


def _pct(made: float, att: float) -> float:
    return round(made / att, 3) if att else 0.0


def _fill(stats: dict[str, Any], line: StatLine | None) -> None:
    values = line.stats if line is not None else {}
    for name, key in _LIVE_KEYS.items():
        stats[key] = int(values.get(name, 0))
    stats["minutes"] = _iso_minutes(values.get("MIN", 0.0))
    stats["fieldGoalsPercentage"] = _pct(stats["fieldGoalsMade"], stats["fieldGoalsAttempted"])
    stats["threePointersPercentage"] = _pct(stats["threePointersMade"],
                                            stats["threePointersAttempted"])
    stats["freeThrowsPercentage"] = _pct(stats["freeThrowsMade"], stats["freeThrowsAttempted"])
    stats["twoPointersMade"] = stats["fieldGoalsMade"] - stats["threePointersMade"]
    stats["twoPointersAttempted"] = stats["fieldGoalsAttempted"] - stats["threePointersAttempted"]


def render_boxscore(template: Mapping[str, Any], snap: GameSnapshot, *, status_text: str,
                    meta_time: datetime) -> dict[str, Any]:
    """A liveData boxscore document of ``snap``, on the final file's roster and layout."""
    doc = copy.deepcopy(dict(template))
    game = doc["game"]
    game.update(gameStatus=snap.status, gameStatusText=status_text, period=snap.period,
                gameClock=snap.clock)
    players = {line.id: line for line in snap.players}
    teams = {line.id: line for line in snap.teams}
    for side in ("homeTeam", "awayTeam"):
        team = game[side]
        for player in team.get("players") or []:
            stats = player.setdefault("statistics", {})
            line = players.get(str(player.get("personId")))
            _fill(stats, line)
            stats["plusMinusPoints"] = float(line.stats.get("PLUS_MINUS", 0.0)) if line else 0.0
        line = teams.get(str(team["teamId"]))
        if "statistics" in team:
            stats = team["statistics"]
            _fill(stats, line)
            # Team rebounds and turnovers are inside the derived team line already.
            stats.update(reboundsTeamOffensive=0, reboundsTeamDefensive=0, reboundsTeam=0,
                         turnoversTeam=0, turnoversTotal=stats["turnovers"])
        team["score"] = int(line.stats.get("PTS", 0)) if line else 0
    home, away = game["homeTeam"], game["awayTeam"]
    for us, them in ((home, away), (away, home)):
        if "statistics" in us:
            us["statistics"]["pointsAgainst"] = them["score"]
    doc.setdefault("meta", {})["time"] = meta_time.astimezone(_EASTERN).strftime(
        "%Y-%m-%d %H:%M:%S.%f")
    return doc


def _time(action: Mapping[str, Any]) -> datetime | None:
    raw = action.get("timeActual")
    if not raw:
        return None
    return datetime.fromisoformat(str(raw).replace("Z", "+00:00")).astimezone(UTC)


def _status_text(period: int, clock: str, regulation: int) -> str:
    label = f"Q{period}" if period <= regulation else f"OT{period - regulation}"
    if clock.startswith("PT"):
        mins, _, secs = clock[2:].rstrip("S").partition("M")
        clock = f"{int(float(mins or 0))}:{int(float(secs or 0)):02d}"
    return f"{label} {clock}".strip()


@dataclass
class RecordedGame:
    """One recorded game on a replay clock (``elapsed`` seconds since its first action)."""

    game_id: str
    pbp_doc: dict[str, Any]
    box_doc: dict[str, Any]
    actions: list[dict[str, Any]] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)
    first_time: datetime | None = None
    _cache: dict[tuple[str, int], Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.actions = list(self.pbp_doc["game"]["actions"])
        last: datetime | None = None
        for action in self.actions:
            t = _time(action) or last
            if t is None:
                raise DataError(f"game {self.game_id}: the first actions have no timeActual")
            self.times.append(t)
            last = t
        self.first_time = min(self.times)
        self._sorted_times = sorted(self.times)

    @property
    def duration(self) -> float:
        """Seconds from the first to the last action."""
        assert self.first_time is not None
        return (max(self.times) - self.first_time).total_seconds()

    def revealed(self, elapsed: float) -> int:
        """How many actions had happened ``elapsed`` seconds after the first one."""
        if elapsed < 0:
            return -1  # before tip-off
        assert self.first_time is not None
        cutoff = self.first_time + timedelta(seconds=elapsed)
        return sum(1 for t in self.times if t <= cutoff)

    def cutoff(self, count: int) -> datetime:
        """The time of the latest of the first ``count`` actions (tip-off time for none)."""
        assert self.first_time is not None
        return self._sorted_times[count - 1] if count > 0 else self.first_time

    def _actions(self, count: int) -> list[dict[str, Any]]:
        if count >= len(self.actions):
            return self.actions
        if count <= 0:
            return []
        cutoff = self.cutoff(count)
        return [a for a, t in zip(self.actions, self.times, strict=True) if t <= cutoff]

    def status(self, count: int) -> int:
        """1 before tip-off, 2 while actions remain, 3 once all are out."""
        return 1 if count < 0 else (3 if count >= len(self.actions) else 2)

    def playbyplay(self, count: int) -> dict[str, Any]:
        """The play-by-play document as it stood after ``count`` actions."""
        key = ("pbp", count)
        if key not in self._cache:
            doc = {"meta": dict(self.pbp_doc.get("meta") or {}),
                   "game": {**{k: v for k, v in self.pbp_doc["game"].items() if k != "actions"},
                            "actions": self._actions(max(count, 0))}}
            self._cache[key] = doc
        return self._cache[key]

    def boxscore(self, count: int) -> dict[str, Any]:
        """The boxscore document after ``count`` actions: derived while live, the file at the end."""
        if count >= len(self.actions):
            return self.box_doc
        key = ("box", count)
        if key not in self._cache:
            from courtside.sources.playbyplay import derive_boxscore

            actions = self._actions(max(count, 0))
            snap = derive_boxscore({"game": {"gameId": self.game_id, "actions": actions}},
                                   self.box_doc)
            snap.status = self.status(count)
            if count <= 0:
                snap.period, snap.clock = 0, ""
            regulation = int(self.box_doc["game"].get("regulationPeriods") or 4)
            text = (_status_text(snap.period, snap.clock, regulation) if snap.status == 2
                    else "Scheduled")
            if len(self._cache) > 64:  # a live game only moves forward; old states go
                self._cache.clear()
            self._cache[key] = render_boxscore(self.box_doc, snap, status_text=text,
                                               meta_time=self.cutoff(count))
        return self._cache[key]

    def scoreboard_entry(self, count: int, tip_off: datetime) -> dict[str, Any]:
        """The game's entry in a liveData scoreboard."""
        box = self.boxscore(count)["game"]
        status = self.status(count)

        def team(side: str) -> dict[str, Any]:
            t = box[side]
            return {k: t.get(k) for k in ("teamId", "teamName", "teamCity", "teamTricode",
                                          "score")} | {"wins": 0, "losses": 0}

        return {"gameId": self.game_id, "gameStatus": status,
                "gameStatusText": box.get("gameStatusText", "") if status != 3 else "Final",
                "period": box.get("period", 0), "gameClock": box.get("gameClock", ""),
                "gameTimeUTC": tip_off.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "homeTeam": team("homeTeam"), "awayTeam": team("awayTeam")}


def load_games(folder: str | Path) -> dict[str, RecordedGame]:
    """Every game with both ``playbyplay_<id>.json`` and ``boxscore_<id>.json`` under a folder."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"{root}: not a folder; give the folder holding the recorded "
                        "playbyplay_<gameId>.json and boxscore_<gameId>.json files")
    games: dict[str, RecordedGame] = {}
    for pbp in sorted(root.rglob("playbyplay_*.json")):
        game_id = pbp.stem.split("_", 1)[1]
        box = pbp.with_name(f"boxscore_{game_id}.json")
        if not box.exists():
            continue
        games[game_id] = RecordedGame(game_id, json.loads(pbp.read_text()),
                                      json.loads(box.read_text()))
    if not games:
        raise DataError(f"{root}: no recorded game (a playbyplay_<id>.json with its "
                        "boxscore_<id>.json) found")
    return games


def clone_games(games: dict[str, RecordedGame], total: int) -> dict[str, RecordedGame]:
    """At least ``total`` games: the recorded ones, then copies under new game ids."""
    out = dict(games)
    originals = list(games.values())
    i = 0
    while len(out) < total:
        src = originals[i % len(originals)]
        new_id = f"{src.game_id[:2]}9{i // len(originals) + 1:02d}{src.game_id[5:]}"
        pbp = copy.deepcopy(src.pbp_doc)
        box = copy.deepcopy(src.box_doc)
        pbp["game"]["gameId"] = box["game"]["gameId"] = new_id
        out[new_id] = RecordedGame(new_id, pbp, box)
        i += 1
    return out
