"""The box score derived from play-by-play equals the NBA's own, for every recorded game."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest

from courtside.model import DataError
from courtside.sources.livedata import parse_boxscore
from courtside.sources.pbpfollow import PlayByPlayFollower
from courtside.sources.playbyplay import (
    BoxScoreBuilder,
    builder_for,
    clock_seconds,
    derive_boxscore,
    sorted_actions,
    teams_from_actions,
)
from data_paths import SHARED_DATA

COUNTED = ("PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB",
           "AST", "STL", "BLK", "TOV", "PF", "PLUS_MINUS")
KNOWN = ["0022000001", "0022400710", "0022400711", "0022400712", "0022400713",
         "0022400714", "0022400715", "0022400716", "0022400740"]
# Every recorded game in the data folder is checked, the known nine and any added later.
RECORDED = {p.name[11:-5]: (p, p.with_name(f"boxscore_{p.name[11:]}"))
            for p in sorted((SHARED_DATA / "nba-live").rglob("playbyplay_*.json"))
            if p.with_name(f"boxscore_{p.name[11:]}").exists()}
GAMES = sorted(RECORDED) or KNOWN


@pytest.fixture(scope="module")
def docs(shared_data: Path) -> dict[str, tuple[dict, dict]]:
    return {g: (json.loads(pbp.read_text()), json.loads(box.read_text()))
            for g, (pbp, box) in RECORDED.items()}


def test_every_recorded_game_is_covered(shared_data: Path) -> None:
    assert set(KNOWN) <= set(RECORDED)


@pytest.mark.parametrize("with_boxscore", [True, False], ids=["starters", "inferred"])
@pytest.mark.parametrize("game_id", GAMES)
def test_derived_box_equals_the_nbas(docs, game_id: str, with_boxscore: bool) -> None:
    pbp, box = docs[game_id]
    official = parse_boxscore(box)
    derived = derive_boxscore(pbp, box if with_boxscore else None)
    mine = {p.id: p for p in derived.players}
    played = [p for p in official.players if p.stats["MIN"] > 0]
    assert played and {p.id for p in played} <= set(mine)
    for player in played:
        got = mine[player.id]
        assert got.team_id == player.team_id
        for stat in COUNTED:
            assert got.stats[stat] == player.stats[stat], (player.name, stat)
        # the NBA's minutes to the hundredth of a second (the 2 s of slack are not needed)
        assert got.stats["MIN"] * 60 == pytest.approx(player.stats["MIN"] * 60, abs=0.005), player.name
    # nobody else played
    assert all(p.stats["MIN"] == 0 for p in derived.players if p.id not in {q.id for q in played})
    # team lines, team rebounds and team turnovers included, equal the feed's team totals
    for got, want in zip(derived.teams, official.teams, strict=True):
        assert got.id == want.id
        assert got.stats == pytest.approx(want.stats), got.name
    assert derived.status == 3 and derived.period == official.period
    # starters: given by the boxscore, or inferred from who was on the floor at the tip
    assert {p.id for p in derived.players if p.starter} == {p.id for p in official.players
                                                            if p.starter}


def test_nothing_is_played_before_the_first_period_starts(docs) -> None:
    builder, actions = builder_for(*docs["0022000001"])
    before = builder.snapshot()
    assert sum(p.starter for p in before.players) == 10
    assert all(line.stats["MIN"] == 0 for line in (*before.players, *before.teams))
    builder.apply(actions[0])  # the period start
    assert all(line.stats["MIN"] == 0 for line in (*builder.snapshot().players,))


def test_overtime_game(docs) -> None:
    derived = derive_boxscore(*docs["0022400740"])
    assert derived.period == 5
    assert [t.stats["MIN"] for t in derived.teams] == [265.0, 265.0]
    for team in derived.teams:
        assert sum(p.stats["MIN"] for p in derived.players if p.team_id == team.id) == pytest.approx(265.0)


def test_nba_minutes_read_tenths_as_hundredths(docs) -> None:
    assert clock_seconds("PT00M10.90S") == pytest.approx(10.9)
    assert clock_seconds("PT00M10.90S", nba_tenths=True) == pytest.approx(10.09)
    assert clock_seconds("PT08M12.00S", nba_tenths=True) == 492.0
    # Towns (0022400713) left at 0:10.9 (Q1) and 0:04.7 (Q3) and 0:25.8 (Q4): true time is
    # 0.81 + 0.63 + 0.72 = 2.16 s shorter than the NBA's 38:47.76
    pbp, box = docs["0022400713"]
    true = {p.id: p for p in derive_boxscore(pbp, box, nba_minutes=False).players}
    nba = {p.id: p for p in derive_boxscore(pbp, box).players}
    assert nba["1626157"].stats["MIN"] * 60 == pytest.approx(38 * 60 + 47.76)
    assert true["1626157"].stats["MIN"] * 60 == pytest.approx(38 * 60 + 47.76 - 2.16)
    for team in ("1610612752", "1610612761"):  # true time still sums to 5 x 48 minutes
        assert sum(p.stats["MIN"] for p in true.values() if p.team_id == team) == pytest.approx(240)


def test_score_after_every_action_matches_the_feed(docs) -> None:
    for game_id, (pbp, box) in docs.items():
        builder, actions = builder_for(pbp, box)
        for action in actions:
            builder.apply(action)
            snap = builder.snapshot()
            home, away = snap.teams
            assert (home.stats["PTS"], away.stats["PTS"]) == (
                int(action["scoreHome"]), int(action["scoreAway"])), (game_id, action["actionNumber"])


def test_feed_order_not_action_number(docs) -> None:
    pbp, box = docs["0022400711"]
    order = [a["actionNumber"] for a in sorted_actions(pbp["game"]["actions"])]
    assert order.index(714) < order.index(651)  # a tip-in inserted late keeps its place
    shuffled = copy.deepcopy(pbp)
    random.Random(4).shuffle(shuffled["game"]["actions"])
    assert derive_boxscore(shuffled, box).to_dict() == derive_boxscore(pbp, box).to_dict()


def test_changed_ids(docs) -> None:
    pbp, box = docs["0022400711"]
    builder, actions = builder_for(pbp, box)
    by_number = {a["actionNumber"]: a for a in actions}
    for action in actions:
        if action["actionNumber"] == 16:  # J. Wilson 3PT, N. Claxton assist, clock moved
            changed = builder.apply(action)
            break
        builder.apply(action)
    on_floor = {p.person_id for p in builder._on_court()}
    assert {"1630592", "1629651", "1610612751", "1610612745"} <= changed
    assert changed == on_floor | {"1610612751", "1610612745"}
    # a steal at the turnover's clock changes only the stealer and his team
    builder, _ = builder_for(pbp, box)
    for action in actions:
        changed = builder.apply(action)
        if action is by_number[123]:
            break
    assert changed == {"1626156", "1610612751"}


def test_teams_from_actions_and_bad_documents(docs) -> None:
    pbp, _box = docs["0022000001"]
    assert teams_from_actions(pbp["game"]["actions"]) == ("1610612751", "1610612744")
    with pytest.raises(DataError, match="expected"):
        derive_boxscore({"game": {"gameId": "1"}})
    with pytest.raises(DataError, match="home team"):
        derive_boxscore({"game": {"gameId": "1", "actions": []}})
    # before anyone scores, the teams come from the scoreboard
    early = {"game": {"gameId": "0022000001", "actions": pbp["game"]["actions"][:3]}}
    with pytest.raises(DataError, match="home team"):
        derive_boxscore(early)
    snap = derive_boxscore(early, home_team_id=1610612751, away_team_id=1610612744)
    assert (snap.home_team_id, snap.status, snap.period) == ("1610612751", 2, 1)
    assert [t.stats["TOV"] for t in snap.teams] == [1, 0]  # D. Jordan's bad pass at 11:50
    pregame = derive_boxscore({"game": {"gameId": "9", "actions": []}}, home_team_id=1,
                              away_team_id=2)
    assert pregame.status == 1 and pregame.players == []
    with pytest.raises(DataError, match="neither"):
        b = BoxScoreBuilder("1", "10", "20")
        b.apply({"actionType": "rebound", "subType": "defensive", "teamId": 30, "personId": 5,
                 "period": 1, "clock": "PT11M00.00S"})


def test_follower_applies_new_actions_and_rebuilds_on_corrections(docs) -> None:
    pbp, box = docs["0022400712"]
    actions = sorted_actions(pbp["game"]["actions"])
    follower = PlayByPlayFollower(lambda: builder_for(pbp, box)[0])
    for end in range(0, len(actions) + 1, 50):
        follower.update(actions[:end])
    follower.update(actions)
    assert follower.rebuilds == 0
    assert follower.snapshot(source="playbyplay").to_dict() == derive_boxscore(pbp, box).to_dict()
    # the NBA turns an early made 2 into a 3 (new `edited` time): rebuilt, and only the
    # shooter and both teams (score, plus-minus of those on the floor) change
    edited = copy.deepcopy(actions)
    shot = next(a for a in edited if a["actionType"] == "2pt" and a["shotResult"] == "Made"
                and "assistPersonId" not in a)
    shot["actionType"], shot["edited"] = "3pt", "2099-01-01T00:00:00Z"
    def lines() -> dict:
        snap = follower.snapshot()
        return {line.id: line.stats for line in (*snap.players, *snap.teams)}

    before = lines()
    changed = follower.update(edited)
    after = lines()
    assert follower.rebuilds == 1
    shooter = str(shot["personId"])
    assert after[shooter]["FG3M"] == before[shooter]["FG3M"] + 1
    assert after[shooter]["PTS"] == before[shooter]["PTS"] + 1
    assert shooter in changed and str(shot["teamId"]) in changed
    assert changed == {i for i in after if before[i] != after[i]}
    assert not any(before[i]["PTS"] != after[i]["PTS"] for i in after.keys() - changed)
