"""A built-in NBA game simulator that writes liveData-shaped play-by-play.

A seed fixes everything: the two teams (real names and ids from ``nba_api``'s static data),
their rosters (dealt from the league's active players, since the static data has no
rosters), every possession and every timestamp. The actions carry the real feed's keys, so a
simulated game goes through the same :class:`~courtside.sources.playbyplay.BoxScoreBuilder`
and :class:`~courtside.sources.replay.ReplaySource` as a recorded one.

Rates follow the modern NBA: about 100 possessions a team, 40% of shots from three, a
turnover on about 13% of possessions, offensive rebounds on about a quarter of misses,
free-throw trips from shooting fouls and the bonus, and a ten-man rotation whose minutes
add up to 240 a team (265 with one overtime).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from courtside.sources.playbyplay import period_seconds

__all__ = ["SimulatedGame", "simulate_game"]

_START = datetime(2025, 1, 1, 0, 0, tzinfo=UTC)
_POSITIONS = ("PG", "SG", "SF", "PF", "C", "G", "G", "F", "F", "C", "G", "F", "C")


@dataclass(slots=True)
class _Player:
    person_id: int
    first: str
    last: str
    jersey: str
    position: str
    usage: float
    three_rate: float
    fg2: float
    fg3: float
    ft: float
    fouls: int = 0
    points: int = 0

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}".strip()

    @property
    def name_i(self) -> str:
        return f"{self.first[:1]}. {self.last}" if self.first else self.last


@dataclass(slots=True)
class _Team:
    team_id: int
    city: str
    name: str
    tricode: str
    roster: list[_Player]
    on_court: list[_Player] = field(default_factory=list)
    period_fouls: int = 0
    points: int = 0


@dataclass(slots=True, frozen=True)
class SimulatedGame:
    """A simulated game: a liveData play-by-play and a pre-game boxscore (rosters, starters).

    Attributes:
        seed: the seed it was made from.
        game_id: a 10-character gameId, ``0099`` then the seed's last six digits.
        playbyplay: ``{"meta": ..., "game": {"gameId", "actions": [...]}}``.
        boxscore: ``{"meta": ..., "game": {...,"homeTeam": {..., "players": [...]}}}`` with
            names, jersey numbers and ``starter`` flags, as the NBA publishes before tip-off.
    """

    seed: int
    game_id: str
    playbyplay: dict[str, Any]
    boxscore: dict[str, Any]


def _league(rng: random.Random) -> tuple[list[dict], list[dict]]:
    from nba_api.stats.static import players, teams

    all_teams = sorted(teams.get_teams(), key=lambda t: t["id"])
    active = sorted(players.get_active_players(), key=lambda p: p["id"])
    home, away = rng.sample(all_teams, 2)
    chosen = rng.sample(active, 26)
    return [home, away], chosen


def _make_team(info: dict, people: list[dict], rng: random.Random) -> _Team:
    roster = []
    jerseys = rng.sample(range(0, 100), len(people))
    for rank, person in enumerate(people):
        # the rotation's first players get the ball most; bigs shoot fewer threes
        position = _POSITIONS[rank]
        big = position in ("C", "PF")
        roster.append(_Player(
            person_id=person["id"], first=person["first_name"], last=person["last_name"],
            jersey=str(jerseys[rank]), position=position,
            usage=rng.uniform(1.2, 2.0) if rank < 5 else rng.uniform(0.7, 1.2),
            three_rate=min(0.75, max(0.02, rng.gauss(0.33 if big else 0.56, 0.08))),
            fg2=min(0.68, max(0.4, rng.gauss(0.57 if big else 0.53, 0.04))),
            fg3=min(0.45, max(0.25, rng.gauss(0.365, 0.03))),
            ft=min(0.93, max(0.55, rng.gauss(0.78, 0.07))),
        ))
    return _Team(info["id"], info["city"], info["nickname"], info["abbreviation"], roster)


def _clock(left: float) -> str:
    # the feed shows whole seconds above a minute and tenths in the last minute
    left = max(0.0, left)
    left = round(left, 1) if left < 60 else float(int(left))
    return f"PT{int(left // 60):02d}M{left % 60:05.2f}S"


class _Game:
    """The simulation: possessions, rotations and the actions they produce."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.game_id = f"0099{seed % 1_000_000:06d}"
        infos, people = _league(self.rng)
        self.home = _make_team(infos[0], people[:13], self.rng)
        self.away = _make_team(infos[1], people[13:], self.rng)
        self.actions: list[dict[str, Any]] = []
        self.period = 0
        self.left = 0.0
        self.start = _START + timedelta(days=seed % 3650)
        self.wall = self.start
        self.windows: dict[tuple[int, int], list[tuple[float, float]]] = {}

    # ------------------------------------------------------------------ actions

    def emit(self, kind: str, sub: str = "", team: _Team | None = None,
             player: _Player | None = None, **extra: Any) -> dict[str, Any]:
        number = len(self.actions) + 1
        when = self.wall.isoformat().replace("+00:00", "Z")
        action: dict[str, Any] = {
            "actionNumber": number, "clock": _clock(self.left), "timeActual": when,
            "period": self.period,
            "periodType": "REGULAR" if self.period <= 4 else "OVERTIME",
            "actionType": kind, "subType": sub, "qualifiers": extra.pop("qualifiers", []),
            "personId": player.person_id if player else 0,
            "x": None, "y": None, "xLegacy": None, "yLegacy": None, "side": None,
            "possession": extra.pop("possession", team.team_id if team else 0),
            "scoreHome": str(self.home.points), "scoreAway": str(self.away.points),
            "edited": when, "orderNumber": number * 10000, "isFieldGoal": 0,
            "personIdsFilter": [player.person_id] if player else [],
        }
        if team is not None:
            action["teamId"], action["teamTricode"] = team.team_id, team.tricode
        if player is not None:
            action["playerName"], action["playerNameI"] = player.last, player.name_i
        action.update(extra)
        self.actions.append(action)
        return action

    def tick(self, game_seconds: float, stoppage: float = 0.0) -> None:
        """Run the game clock (and the wall clock, which also runs during stoppages)."""
        self.left = max(0.0, self.left - game_seconds)
        self.wall += timedelta(seconds=game_seconds * self.rng.uniform(1.3, 2.2) + stoppage)

    def other(self, team: _Team) -> _Team:
        return self.away if team is self.home else self.home

    def pick(self, team: _Team, weight: str = "usage", exclude: _Player | None = None) -> _Player:
        pool = [p for p in team.on_court if p is not exclude]
        return self.rng.choices(pool, [getattr(p, weight) for p in pool])[0]

    def scored(self, team: _Team, points: int) -> None:
        team.points += points

    # ------------------------------------------------------------------ rotation

    def plan_rotation(self, period: int) -> None:
        """Each starter sits one window a quarter, when the matching reserve plays."""
        length = 720.0 if period <= 4 else 300.0
        for team in (self.home, self.away):
            windows = []
            for slot in range(5):
                start = (90 + slot * 84 + self.rng.uniform(-40, 40)) * length / 720
                windows.append((start, start + (210 + self.rng.uniform(-30, 30)) * length / 720))
            self.windows[period, team.team_id] = windows

    def wanted_lineup(self, team: _Team) -> list[_Player]:
        played = period_seconds(self.period) - self.left
        lineup = []
        for slot, (start, end) in enumerate(self.windows[self.period, team.team_id]):
            starter, reserve = team.roster[slot], team.roster[slot + 5]
            bench = start <= played < end and self.period <= 4
            lineup.append(reserve if bench else starter)
        return lineup

    def substitutions(self, team: _Team, *, period_start: bool = False) -> None:
        wanted = self.wanted_lineup(team)
        going = [p for p in team.on_court if p not in wanted]
        coming = [p for p in wanted if p not in team.on_court]
        qualifiers = ["startperiod"] if period_start else []
        for out, inn in zip(going, coming, strict=True):
            self.emit("substitution", "out", team, out, qualifiers=list(qualifiers),
                      description=f"SUB out: {out.name_i}")
            self.emit("substitution", "in", team, inn, qualifiers=list(qualifiers),
                      description=f"SUB in: {inn.name_i}")
        team.on_court = wanted

    def dead_ball(self) -> None:
        for team in (self.home, self.away):
            self.substitutions(team)

    # ------------------------------------------------------------------ possessions

    def shot(self, team: _Team, shooter: _Player | None = None, *, fouled: bool = False,
             putback: bool = False) -> tuple[bool, bool]:
        """A field goal attempt; returns (made, three)."""
        shooter = shooter or self.pick(team)
        three = not putback and self.rng.random() < shooter.three_rate
        chance = (shooter.fg3 if three else shooter.fg2) * (0.45 if fouled else 1.0)
        made = self.rng.random() < chance
        kind = "3pt" if three else "2pt"
        sub = "Jump Shot" if three else self.rng.choice(["Layup", "Jump Shot", "DUNK", "Hook"])
        distance = round(self.rng.uniform(23.8, 28) if three else self.rng.uniform(0, 20), 2)
        extra: dict[str, Any] = {"isFieldGoal": 1, "shotResult": "Made" if made else "Missed",
                                 "shotDistance": distance,
                                 "qualifiers": ["2ndchance"] if putback else []}
        label = f"{shooter.name_i} {int(distance)}' {'3PT' if three else sub}"
        if made:
            self.scored(team, 3 if three else 2)
            shooter.points += 3 if three else 2
            extra["pointsTotal"] = shooter.points
            assist_rate = 0.8 if three else 0.5
            if not putback and self.rng.random() < assist_rate:
                helper = self.pick(team, exclude=shooter)
                extra.update(assistPersonId=helper.person_id,
                             assistPlayerNameInitial=helper.name_i)
                extra["personIdsFilter"] = [shooter.person_id, helper.person_id]
            extra["description"] = label
        else:
            extra["description"] = f"MISS {label}"
        blocked = not made and not three and self.rng.random() < 0.1
        defender = self.rng.choice(self.other(team).on_court) if blocked else None
        if defender is not None:
            extra.update(blockPersonId=defender.person_id, blockPlayerName=defender.last)
            extra["description"] += " - blocked"
        self.emit(kind, sub, team, shooter, **extra)
        if defender is not None:
            self.emit("block", "", self.other(team), defender,
                      description=f"{defender.name_i} BLOCK")
        return made, three

    def rebound(self, offense: _Team, offensive_rate: float = 0.25) -> _Team:
        """A live rebound after a miss; returns the team with the ball."""
        self.tick(self.rng.uniform(0.5, 2.0))
        offensive = self.rng.random() < offensive_rate
        team = offense if offensive else self.other(offense)
        sub = "offensive" if offensive else "defensive"
        if self.rng.random() < 0.06:
            self.emit("rebound", sub, team, qualifiers=["team"],
                      description=f"TEAM {sub} REBOUND")
        else:
            player = self.rng.choices(team.on_court,
                                      [1.8 if p.position in ("C", "PF") else 1.0
                                       for p in team.on_court])[0]
            self.emit("rebound", sub, team, player, description=f"{player.name_i} REBOUND")
        return team

    def free_throws(self, team: _Team, shooter: _Player, count: int,
                    descriptor: str = "") -> bool:
        """A trip to the line; returns True when the last throw was missed (a live ball)."""
        missed = False
        for n in range(1, count + 1):
            made = self.rng.random() < shooter.ft
            extra: dict[str, Any] = {}
            if made:
                self.scored(team, 1)
                shooter.points += 1
                extra["pointsTotal"] = shooter.points
            self.emit("freethrow", f"{n} of {count}", team, shooter, **extra,
                      shotResult="Made" if made else "Missed", descriptor=descriptor,
                      description=f"{'' if made else 'MISS '}{shooter.name_i} Free Throw {n} of {count}")
            if not made and n < count:
                self.emit("rebound", "offensive", team, qualifiers=["deadball", "team"],
                          description="TEAM offensive REBOUND")
            if n == 1:
                self.dead_ball()  # substitutions between free throws, as in the real feed
            self.wall += timedelta(seconds=self.rng.uniform(8, 20))
            missed = not made
        return missed

    def foul(self, defense: _Team, drawn_by: _Player, shots: int, descriptor: str) -> None:
        candidates = [p for p in defense.on_court if p.fouls < 5] or defense.on_court
        fouler = self.rng.choice(candidates)
        fouler.fouls += 1
        defense.period_fouls += 1
        qualifiers = ([f"{shots}freethrow"] if shots else []) + (
            ["inpenalty"] if defense.period_fouls > 4 else [])
        self.emit("foul", "personal", defense, fouler, descriptor=descriptor,
                  qualifiers=qualifiers, foulDrawnPersonId=drawn_by.person_id,
                  foulDrawnPlayerName=drawn_by.last,
                  personIdsFilter=[fouler.person_id, drawn_by.person_id],
                  description=f"{fouler.name_i} {descriptor} personal FOUL")

    def turnover(self, team: _Team) -> None:
        roll = self.rng.random()
        if roll < 0.05:
            self.emit("turnover", "shot clock", team, qualifiers=["team"],
                      description=f"{team.tricode} shot clock Team TURNOVER")
            return
        player = self.pick(team)
        if roll < 0.55:
            thief = self.rng.choice(self.other(team).on_court)
            self.emit("turnover", self.rng.choice(["bad pass", "lost ball"]), team, player,
                      stealPersonId=thief.person_id, stealPlayerName=thief.last,
                      personIdsFilter=[player.person_id, thief.person_id],
                      description=f"{player.name_i} TURNOVER")
            self.emit("steal", "", self.other(team), thief, description=f"{thief.name_i} STEAL")
            return
        if roll < 0.7:
            drawn = self.pick(self.other(team))
            player.fouls += 1
            self.emit("foul", "offensive", team, player, descriptor="charge",
                      foulDrawnPersonId=drawn.person_id, foulDrawnPlayerName=drawn.last,
                      description=f"{player.name_i} charge offensive FOUL")
            self.emit("turnover", "offensive foul", team, player,
                      description=f"{player.name_i} offensive foul TURNOVER")
        else:
            self.emit("turnover", self.rng.choice(["out-of-bounds", "traveling"]), team, player,
                      description=f"{player.name_i} TURNOVER")
        self.dead_ball()

    def possession(self, offense: _Team) -> _Team:
        """Play one possession; returns the team that has the ball next."""
        defense = self.other(offense)
        self.tick(min(self.left, max(2.0, self.rng.gauss(13.8, 4.5))))
        roll = self.rng.random()
        if roll < 0.14:
            self.turnover(offense)
            return defense
        if roll < 0.25:  # a foul away from the shot: the bonus gives two shots
            drawn = self.pick(offense)
            shots = 2 if defense.period_fouls >= 4 else 0
            self.foul(defense, drawn, shots, "loose ball" if shots else "personal")
            self.dead_ball()
            if shots:
                return self.after_free_throws(offense, drawn, shots)
            self.tick(min(self.left, self.rng.uniform(2, 8)))
        shooting_foul = self.rng.random() < 0.1
        second_chance = False
        while True:
            shooter = self.pick(offense)
            made, three = self.shot(offense, shooter, fouled=shooting_foul, putback=second_chance)
            if shooting_foul:
                self.foul(defense, shooter, 1 if made else (3 if three else 2), "shooting")
                self.dead_ball()
                return self.after_free_throws(offense, shooter, 1 if made else (3 if three else 2))
            if made:
                return defense
            if self.rebound(offense) is not offense or self.left <= 0:
                return defense
            second_chance = True
            self.tick(min(self.left, self.rng.uniform(1, 6)))

    def after_free_throws(self, offense: _Team, shooter: _Player, shots: int) -> _Team:
        if self.free_throws(offense, shooter, shots):
            return offense if self.rebound(offense, 0.12) is offense else self.other(offense)
        return self.other(offense)

    # ------------------------------------------------------------------ periods

    def play_period(self, period: int, first: _Team) -> None:
        self.period = period
        self.left = period_seconds(period)
        self.plan_rotation(period)
        for team in (self.home, self.away):
            team.period_fouls = 0
            if period == 1:
                team.on_court = team.roster[:5]
            else:
                self.substitutions(team, period_start=True)
        self.emit("period", "start", description=f"Start of {period} period")
        offense = first
        if period == 1:
            won, lost, got = first.on_court[4], self.other(first).on_court[4], self.pick(first)
            self.emit("jumpball", "recovered", first, got, descriptor="startperiod",
                      jumpBallWonPersonId=won.person_id, jumpBallWonPlayerName=won.last,
                      jumpBallLostPersonId=lost.person_id, jumpBallLostPlayerName=lost.last,
                      jumpBallRecoverdPersonId=got.person_id, jumpBallRecoveredName=got.name_i,
                      personIdsFilter=[got.person_id, won.person_id, lost.person_id],
                      description=f"Jump Ball {won.name_i} vs. {lost.name_i}: Tip to {got.name_i}")
        timeout_at = period_seconds(period) / 2
        while self.left > 0:
            offense = self.possession(offense)
            if 0 < self.left < timeout_at:
                timeout_at = -1.0
                self.emit("timeout", "full", offense, qualifiers=["team"],
                          description=f"{offense.tricode} Timeout")
                self.wall += timedelta(seconds=self.rng.uniform(75, 130))
                self.dead_ball()
        self.emit("period", "end", description=f"End of {period} period")
        self.wall += timedelta(seconds=900 if period == 2 else 130)

    def play(self) -> None:
        first = self.rng.choice([self.home, self.away])
        period = 1
        while period <= 4 or self.home.points == self.away.points:
            starter = first if period in (1, 4) or period > 4 else self.other(first)
            self.play_period(period, starter)
            period += 1
        self.emit("game", "end", description="Game End")

    # ------------------------------------------------------------------ documents

    def documents(self) -> tuple[dict[str, Any], dict[str, Any]]:
        meta = {"version": 1, "code": 200, "request": f"simulator://seed/{self.seed}",
                "time": self.start.strftime("%Y-%m-%d %H:%M:%S.%f")}
        pbp = {"meta": meta, "game": {"gameId": self.game_id, "actions": self.actions}}

        def side(team: _Team) -> dict[str, Any]:
            return {"teamId": team.team_id, "teamName": team.name, "teamCity": team.city,
                    "teamTricode": team.tricode, "score": 0, "players": [
                        {"status": "ACTIVE", "order": i + 1, "personId": p.person_id,
                         "jerseyNum": p.jersey, "position": p.position,
                         "starter": "1" if i < 5 else "0", "name": p.name, "nameI": p.name_i,
                         "firstName": p.first, "familyName": p.last}
                        for i, p in enumerate(team.roster)]}

        box = {"meta": meta, "game": {
            "gameId": self.game_id, "gameStatus": 1, "gameStatusText": "Scheduled",
            "period": 0, "gameClock": "", "regulationPeriods": 4,
            "gameTimeUTC": self.start.isoformat().replace("+00:00", "Z"),
            "homeTeam": side(self.home), "awayTeam": side(self.away)}}
        return pbp, box


def simulate_game(seed: int) -> SimulatedGame:
    """Simulate one whole game; the same seed always gives the same game."""
    game = _Game(int(seed))
    game.play()
    pbp, box = game.documents()
    return SimulatedGame(seed=int(seed), game_id=game.game_id, playbyplay=pbp, boxscore=box)
