"""A box score derived from liveData play-by-play events, one event at a time.

:class:`BoxScoreBuilder` applies ``game.actions`` in the feed's order (``orderNumber``) and
keeps every player's and team's counting stats, minutes and plus-minus current, so that a
live engine can recompute only what an event changed. The NBA's box score conventions it
follows (checked against every recorded game):

- a field goal attempt counts for the shooter; a made one adds 2 or 3 points and an assist
  for ``assistPersonId``; steals and blocks come from their own ``steal``/``block`` actions;
- rebounds and turnovers without a player (``personId`` 0, qualifier ``team``) are the
  team's own: they count in the team line, not in any player's;
- every foul except a technical one is a personal foul (PF);
- minutes run from a player's entry to his exit. Period-1 starters come from the boxscore's
  ``starter`` flags when given; a player not yet placed in a period who acts or is subbed
  out before being subbed in was on the floor since the period began (credited back then,
  and, in the first period, marked as a starter);
- plus-minus counts the points scored while a player is on the floor, and a substitution
  made between a foul and its last free throw takes effect after that free throw (the
  NBA credits the free throws to the five on the floor at the foul).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from courtside.model import DataError, GameSnapshot, StatLine
from courtside.sources.livedata import parse_feed_time, parse_iso_minutes

__all__ = [
    "BoxScoreBuilder",
    "builder_for",
    "clock_seconds",
    "derive_boxscore",
    "period_seconds",
    "sorted_actions",
    "teams_from_actions",
]

_COUNTED = ("PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB",
            "AST", "STL", "BLK", "TOV", "PF")
# Actions that say nothing about who is on the floor (bench technicals, coaches, timeouts).
_NOT_ON_COURT = {"substitution", "timeout", "period", "game", "ejection", "stoppage",
                 "instantreplay", "memo"}

# What may come between a foul and its last free throw without ending the trip.
_WITHIN_FREE_THROW_TRIP = {"substitution", "freethrow", "timeout", "rebound", "instantreplay"}


def period_seconds(period: int, regulation_periods: int = 4) -> float:
    """The length of a period in seconds: 12 minutes, 5 for overtimes."""
    return 720.0 if period <= regulation_periods else 300.0


def clock_seconds(text: str, *, nba_tenths: bool = False) -> float:
    """Seconds left on a game clock such as ``PT05M12.30S``.

    With ``nba_tenths`` the fraction is read the way the NBA's box score minutes read it:
    tenths as hundredths (0:10.9 counts as 10.09 seconds). Summed over a player's stints this
    reproduces the NBA's published minutes exactly; without it the result is true clock time.
    """
    total = round(parse_iso_minutes(text) * 60.0, 2)
    if not nba_tenths:
        return total
    whole = float(int(total))
    return whole + round(total - whole, 2) / 10.0


def sorted_actions(actions: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Actions in the feed's order (``orderNumber``; late-inserted actions sort in place)."""
    return sorted(actions, key=lambda a: (a.get("orderNumber", 0), a.get("actionNumber", 0)))


class _Mark(NamedTuple):
    """A moment of the game: elapsed seconds and both teams' points then."""

    elapsed: float
    points: dict[str, float]


@dataclass(slots=True)
class _Player:
    person_id: str
    team_id: str
    name: str
    starter: bool = False
    counts: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_COUNTED, 0.0))
    seconds: float = 0.0
    plus_minus: float = 0.0
    on_since: _Mark | None = None  # set while on the floor
    placed_period: int = 0  # the last period in which we know whether he is on the floor


class BoxScoreBuilder:
    """Keeps a game's box score current from its play-by-play actions.

    Args:
        game_id: the NBA gameId.
        home_team_id, away_team_id: teamIds (strings or ints).
        home_tricode, away_tricode: three-letter codes for the team lines.
        starters: personIds on the floor at the opening tip (from the boxscore), if known.
        players: personId -> (teamId, name) for players known in advance (names, zero lines).
        regulation_periods: 4 in the NBA; later periods are 5-minute overtimes.
        nba_minutes: reproduce the NBA's published minutes, which read the clock's tenths as
            hundredths (see :func:`clock_seconds`); False counts true clock time. They differ
            by at most 0.81 s per stint that starts or ends with tenths on the clock.
    """

    def __init__(self, game_id: str, home_team_id: str | int, away_team_id: str | int, *,
                 home_tricode: str = "", away_tricode: str = "",
                 starters: Iterable[str | int] = (),
                 players: Mapping[str | int, tuple[str | int, str]] | None = None,
                 regulation_periods: int = 4, nba_minutes: bool = True) -> None:
        self.game_id = str(game_id)
        self.home_team_id, self.away_team_id = str(home_team_id), str(away_team_id)
        self.tricodes = {self.home_team_id: home_tricode, self.away_team_id: away_tricode}
        self.regulation_periods = regulation_periods
        self.nba_minutes = nba_minutes
        self.status = 1
        self.period = 0
        self.clock = ""
        self.data_time = None
        self._period_left = 0.0  # seconds left in the current period
        self._period_start = _Mark(0.0, self._zero_points())
        self._players: dict[str, _Player] = {}
        self._team_counts = {t: dict.fromkeys(_COUNTED, 0.0) for t in self.tricodes}
        self._points = self._zero_points()
        self._free_throws_due = False
        self._deferred: list[tuple[Mapping[str, Any], float]] = []
        for pid, (team, name) in (players or {}).items():
            self._player(str(pid), str(team), name)
        for pid in starters:
            player = self._players.get(str(pid))
            if player is None:
                raise DataError(f"starter {pid} of game {self.game_id} is not among the known "
                                "players: pass his (teamId, name) in players=")
            player.starter = True
            player.on_since = self._period_start
            player.placed_period = 1

    # ------------------------------------------------------------------ clock

    def _zero_points(self) -> dict[str, float]:
        return {self.home_team_id: 0.0, self.away_team_id: 0.0}

    def _elapsed(self, left: float | None = None) -> float:
        """Seconds played in the game when ``left`` seconds remain in the current period."""
        if self.period == 0:  # before the first period starts: nothing played yet
            return 0.0
        done = sum(period_seconds(p, self.regulation_periods) for p in range(1, self.period))
        left = self._period_left if left is None else left
        return done + period_seconds(self.period, self.regulation_periods) - left

    def _now(self, left: float | None = None) -> _Mark:
        return _Mark(self._elapsed(left), dict(self._points))

    def _opponent(self, team_id: str) -> str:
        return self.away_team_id if team_id == self.home_team_id else self.home_team_id

    # ------------------------------------------------------------------ players

    def _player(self, person_id: str, team_id: str, name: str = "") -> _Player:
        player = self._players.get(person_id)
        if player is None:
            if team_id not in self.tricodes:
                raise DataError(f"game {self.game_id}: person {person_id} plays for team "
                                f"{team_id}, which is neither {self.home_team_id} nor "
                                f"{self.away_team_id}")
            player = self._players[person_id] = _Player(person_id, team_id, name or person_id)
        elif name and player.name == player.person_id:
            player.name = name
        return player

    def _credit(self, player: _Player, until: _Mark, changed: set[str]) -> None:
        """Close a stint on the floor: minutes and plus-minus up to ``until``."""
        since = player.on_since
        if since is None:
            return
        player.seconds += until.elapsed - since.elapsed
        opp = self._opponent(player.team_id)
        player.plus_minus += ((until.points[player.team_id] - since.points[player.team_id])
                              - (until.points[opp] - since.points[opp]))
        player.on_since = None
        changed.add(player.person_id)

    def _seen_on_court(self, player: _Player) -> None:
        """Evidence that he is on the floor: if not yet placed, he started the period."""
        if player.placed_period < self.period:
            player.placed_period = self.period
            player.on_since = self._period_start
            if self.period == 1:
                player.starter = True

    def _on_court(self) -> list[_Player]:
        return [p for p in self._players.values() if p.on_since is not None]

    # ------------------------------------------------------------------ events

    def apply(self, action: Mapping[str, Any]) -> set[str]:
        """Apply one action; return the ids (personIds, teamIds) whose box score lines changed.

        Moving the clock changes the minutes of everyone on the floor, so they are included
        whenever the game clock advances.
        """
        changed: set[str] = set()
        kind = str(action.get("actionType", ""))
        period = int(action.get("period") or self.period or 1)
        if period > self.period:
            self._start_period(period, changed)
        if action.get("clock"):
            left = clock_seconds(action["clock"], nba_tenths=self.nba_minutes)
            if left != self._period_left:
                changed.update(p.person_id for p in self._on_court())
                changed.update(self.tricodes)
            self._period_left = left
            self.clock = str(action["clock"])
        if action.get("timeActual"):
            self.data_time = parse_feed_time(action["timeActual"])
        self.status = max(self.status, 2)
        if self._deferred and kind not in _WITHIN_FREE_THROW_TRIP:
            self._flush_substitutions(changed)
        if kind == "substitution" and self._free_throws_due:
            self._deferred.append((action, self._period_left))
        else:
            handler = _HANDLERS.get(kind)
            if handler is not None:
                handler(self, action, changed)
        self._track_free_throw_trip(action, changed)
        if kind not in _NOT_ON_COURT and not _is_technical(action):
            self._note_presence(action)
        return changed

    def _track_free_throw_trip(self, action: Mapping[str, Any], changed: set[str]) -> None:
        # The NBA credits free throws' plus-minus to the five on the floor at the foul: a
        # substitution between a foul and its last free throw takes effect after that throw.
        kind = action.get("actionType")
        if kind == "foul" and not _is_technical(action):
            for qualifier in action.get("qualifiers") or ():
                if qualifier.endswith("freethrow") and qualifier[:1].isdigit():
                    self._free_throws_due = True
        elif kind == "freethrow" and "technical" not in str(action.get("descriptor", "")):
            shot, _, of = str(action.get("subType", "")).partition(" of ")
            if shot == of:
                self._free_throws_due = False
                self._flush_substitutions(changed)

    def _flush_substitutions(self, changed: set[str]) -> None:
        self._free_throws_due = False
        queued, self._deferred = self._deferred, []
        for action, left in queued:
            self._substitution(action, changed, left)

    def _start_period(self, period: int, changed: set[str]) -> None:
        if self.period:
            self._end_period(changed)
        self.period = period
        self._period_left = period_seconds(period, self.regulation_periods)
        self._period_start = self._now()
        self.clock = f"PT{int(self._period_left // 60):02d}M00.00S"

    def _end_period(self, changed: set[str]) -> None:
        self._flush_substitutions(changed)
        self._period_left = 0.0
        end = self._now()
        for player in self._on_court():
            self._credit(player, end, changed)
        changed.update(self.tricodes)

    def _note_presence(self, action: Mapping[str, Any]) -> None:
        team = _team_of(action)
        pid = _person_of(action)
        if pid is not None and team is not None:
            self._seen_on_court(self._player(pid, team, _name_of(action)))
        for key in ("assistPersonId", "stealPersonId", "blockPersonId", "foulDrawnPersonId",
                    "jumpBallWonPersonId", "jumpBallLostPersonId", "jumpBallRecoverdPersonId"):
            other = action.get(key)
            if other and str(other) in self._players:
                self._seen_on_court(self._players[str(other)])

    def _count(self, action: Mapping[str, Any], changed: set[str], **deltas: float) -> None:
        """Add to the actor's line, or the team's own line for a team action."""
        team = _team_of(action)
        if team is None:
            raise DataError(f"game {self.game_id}: action {action.get('actionNumber')} "
                            f"({action.get('actionType')}) has no teamId")
        pid = _person_of(action)
        counts = (self._team_counts[team] if pid is None
                  else self._player(pid, team, _name_of(action)).counts)
        for stat, delta in deltas.items():
            counts[stat] += delta
        changed.update({team} if pid is None else {team, pid})

    def _credit_other(self, person: Any, team_id: str, stat: str, changed: set[str]) -> None:
        if person:
            player = self._player(str(person), team_id)
            player.counts[stat] += 1
            changed.update({player.person_id, team_id})

    def _shot(self, action: Mapping[str, Any], changed: set[str]) -> None:
        three = action.get("actionType") == "3pt"
        made = action.get("shotResult") == "Made"
        value = 3 if three else 2
        self._count(action, changed, FGA=1, FG3A=int(three), FGM=int(made),
                    FG3M=int(made and three), PTS=value * int(made))
        if made:
            team = _team_of(action)
            self._points[team] += value
            self._credit_other(action.get("assistPersonId"), team, "AST", changed)
            changed.add(self._opponent(team))

    def _free_throw(self, action: Mapping[str, Any], changed: set[str]) -> None:
        made = action.get("shotResult") == "Made"
        self._count(action, changed, FTA=1, FTM=int(made), PTS=int(made))
        if made:
            team = _team_of(action)
            self._points[team] += 1
            changed.add(self._opponent(team))

    def _rebound(self, action: Mapping[str, Any], changed: set[str]) -> None:
        stat = "OREB" if action.get("subType") == "offensive" else "DREB"
        self._count(action, changed, **{stat: 1})

    def _turnover(self, action: Mapping[str, Any], changed: set[str]) -> None:
        self._count(action, changed, TOV=1)

    def _steal(self, action: Mapping[str, Any], changed: set[str]) -> None:
        if _person_of(action) is not None:
            self._count(action, changed, STL=1)

    def _block(self, action: Mapping[str, Any], changed: set[str]) -> None:
        if _person_of(action) is not None:
            self._count(action, changed, BLK=1)

    def _foul(self, action: Mapping[str, Any], changed: set[str]) -> None:
        # Technical fouls are not personal fouls; they may come from the bench or a coach.
        if not _is_technical(action) and _person_of(action) is not None:
            self._count(action, changed, PF=1)

    def _substitution(self, action: Mapping[str, Any], changed: set[str],
                      left: float | None = None) -> None:
        team, pid = _team_of(action), _person_of(action)
        if team is None or pid is None:
            return
        player = self._player(pid, team, _name_of(action))
        now = self._now(left)
        if action.get("subType") == "out":
            self._seen_on_court(player)
            self._credit(player, now, changed)
        elif action.get("subType") == "in" and player.on_since is None:
            player.on_since = now
            changed.add(pid)
        player.placed_period = self.period

    def _period(self, action: Mapping[str, Any], changed: set[str]) -> None:
        if action.get("subType") == "end":
            self._end_period(changed)

    def _game(self, action: Mapping[str, Any], changed: set[str]) -> None:
        if action.get("subType") == "end":
            self._end_period(changed)
            self.status = 3

    # ------------------------------------------------------------------ output

    def minutes(self, person_id: str) -> float:
        """A player's minutes so far, the current stint included."""
        player = self._players[str(person_id)]
        running = 0.0
        if player.on_since is not None:
            running = self._elapsed() - player.on_since.elapsed
        return (player.seconds + running) / 60.0

    def _player_line(self, player: _Player) -> StatLine:
        stats = {"MIN": self.minutes(player.person_id), **player.counts}
        stats["REB"] = stats["OREB"] + stats["DREB"]
        pm = player.plus_minus
        if player.on_since is not None:
            opp = self._opponent(player.team_id)
            since = player.on_since.points
            pm += ((self._points[player.team_id] - since[player.team_id])
                   - (self._points[opp] - since[opp]))
        stats["PLUS_MINUS"] = pm
        return StatLine(kind="player", id=player.person_id, team_id=player.team_id,
                        name=player.name, stats=stats, starter=player.starter)

    def _team_line(self, team_id: str) -> StatLine:
        stats = {"MIN": 5.0 * self._elapsed() / 60.0, **self._team_counts[team_id]}
        for player in self._players.values():
            if player.team_id == team_id:
                for stat, value in player.counts.items():
                    stats[stat] += value
        stats["REB"] = stats["OREB"] + stats["DREB"]
        stats["PLUS_MINUS"] = self._points[team_id] - self._points[self._opponent(team_id)]
        return StatLine(kind="team", id=team_id, team_id=team_id,
                        name=self.tricodes[team_id], stats=stats)

    def snapshot(self, *, source: str = "") -> GameSnapshot:
        """The box score as it stands: every player seen so far and both team lines."""
        players = [self._player_line(p) for p in self._players.values()]
        return GameSnapshot(
            game_id=self.game_id, status=self.status, period=self.period, clock=self.clock,
            home_team_id=self.home_team_id, away_team_id=self.away_team_id,
            home_tricode=self.tricodes[self.home_team_id],
            away_tricode=self.tricodes[self.away_team_id],
            players=players,
            teams=[self._team_line(t) for t in (self.home_team_id, self.away_team_id)],
            data_time=self.data_time, source=source,
        )


_HANDLERS = {
    "2pt": BoxScoreBuilder._shot,
    "3pt": BoxScoreBuilder._shot,
    "freethrow": BoxScoreBuilder._free_throw,
    "rebound": BoxScoreBuilder._rebound,
    "turnover": BoxScoreBuilder._turnover,
    "steal": BoxScoreBuilder._steal,
    "block": BoxScoreBuilder._block,
    "foul": BoxScoreBuilder._foul,
    "substitution": BoxScoreBuilder._substitution,
    "period": BoxScoreBuilder._period,
    "game": BoxScoreBuilder._game,
}


def _is_technical(action: Mapping[str, Any]) -> bool:
    return action.get("actionType") == "foul" and "technical" in str(action.get("subType", ""))


def _team_of(action: Mapping[str, Any]) -> str | None:
    team = action.get("teamId")
    return str(team) if team else None


def _person_of(action: Mapping[str, Any]) -> str | None:
    """The acting player's id, or None for a team action (personId 0 or the teamId)."""
    pid = action.get("personId")
    if not pid or "team" in (action.get("qualifiers") or ()) or pid == action.get("teamId"):
        return None
    return str(pid)


def _name_of(action: Mapping[str, Any]) -> str:
    return str(action.get("playerNameI") or action.get("playerName") or "")


def teams_from_actions(actions: Iterable[Mapping[str, Any]]) -> tuple[str, str]:
    """(home, away) teamIds read from the play-by-play: who moves ``scoreHome`` when scoring."""
    teams: list[str] = []
    home = away = None
    last = (0, 0)
    for action in sorted_actions(actions):
        team = _team_of(action)
        if team and team not in teams:
            teams.append(team)
        try:
            score = (int(action.get("scoreHome") or 0), int(action.get("scoreAway") or 0))
        except ValueError:
            continue
        if team and score != last:
            if score[0] != last[0]:
                home = team
            else:
                away = team
        last = score
        if home and away and home != away:
            return home, away
    if len(teams) == 2:
        if home:
            return home, next(t for t in teams if t != home)
        if away:
            return next(t for t in teams if t != away), away
    raise DataError("cannot tell the home team from the play-by-play: no scoring by both "
                    "teams yet; pass the boxscore document too")


def _actions_of(doc: Mapping[str, Any]) -> tuple[str, list[Mapping[str, Any]]]:
    game = doc.get("game") if isinstance(doc, Mapping) else None
    if not isinstance(game, Mapping) or not isinstance(game.get("actions"), list):
        raise DataError("liveData play-by-play document: expected {'game': {'gameId': ..., "
                        "'actions': [...]}}")
    return str(game.get("gameId", "")), sorted_actions(game["actions"])


def builder_for(pbp_doc: Mapping[str, Any], boxscore_doc: Mapping[str, Any] | None = None,
                *, nba_minutes: bool = True, home_team_id: str | int | None = None,
                away_team_id: str | int | None = None) -> tuple[BoxScoreBuilder, list]:
    """A fresh builder for a play-by-play document, and its actions in feed order.

    The boxscore document, when given, supplies home/away, tricodes, names and the
    period-1 starters. Without it, pass the teams (from the scoreboard) as
    ``home_team_id``/``away_team_id``, or they are read from the actions, which needs
    scoring already in the game.
    """
    game_id, actions = _actions_of(pbp_doc)
    if boxscore_doc is None:
        if home_team_id is not None and away_team_id is not None:
            home, away = str(home_team_id), str(away_team_id)
        else:
            home, away = teams_from_actions(actions)
        codes = {str(a.get("teamId")): a.get("teamTricode", "") for a in actions if a.get("teamId")}
        return BoxScoreBuilder(game_id, home, away, home_tricode=codes.get(home, ""),
                               away_tricode=codes.get(away, ""),
                               nba_minutes=nba_minutes), actions
    game = boxscore_doc.get("game") or {}
    sides = [game.get("homeTeam") or {}, game.get("awayTeam") or {}]
    if not all("teamId" in s for s in sides):
        raise DataError("boxscore document: missing game.homeTeam/awayTeam.teamId")
    known = {p["personId"]: (s["teamId"], p.get("name") or p.get("nameI") or "")
             for s in sides for p in s.get("players") or []
             if "personId" in p and str(p.get("status", "ACTIVE")).upper() == "ACTIVE"}
    starters = [p["personId"] for s in sides for p in s.get("players") or []
                if str(p.get("starter", "0")) == "1"]
    builder = BoxScoreBuilder(game_id or str(game.get("gameId", "")),
                              sides[0]["teamId"], sides[1]["teamId"],
                              home_tricode=sides[0].get("teamTricode", ""),
                              away_tricode=sides[1].get("teamTricode", ""),
                              starters=starters, players=known,
                              regulation_periods=int(game.get("regulationPeriods") or 4),
                              nba_minutes=nba_minutes)
    return builder, actions


def derive_boxscore(pbp_doc: Mapping[str, Any], boxscore_doc: Mapping[str, Any] | None = None,
                    *, nba_minutes: bool = True, home_team_id: str | int | None = None,
                    away_team_id: str | int | None = None) -> GameSnapshot:
    """The box score at the end of a liveData play-by-play document (all actions applied).

    Teams, names and starters come as in :func:`builder_for`.
    """
    builder, actions = builder_for(pbp_doc, boxscore_doc, nba_minutes=nba_minutes,
                                   home_team_id=home_team_id, away_team_id=away_team_id)
    for action in actions:
        builder.apply(action)
    return builder.snapshot(source="playbyplay")
