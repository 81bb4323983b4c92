"""Validation, holding of backwards counters, change detection and REAL_TIME pacing."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from courtside.model import GameSnapshot, StatLine
from courtside.sources.changes import ChangeTracker
from courtside.sources.livedata import parse_boxscore
from courtside.sources.pacing import Pace, realtime_interval
from courtside.sources.validation import SnapshotValidator, line_problems, schema_problems


def real_boxscores(shared_data):
    return sorted((shared_data / "nba-live").rglob("boxscore_*.json"))


def test_every_real_final_box_score_passes(shared_data):
    files = real_boxscores(shared_data)
    assert len(files) == 9
    for path in files:
        snap = parse_boxscore(json.loads(path.read_text()))
        ok, issues = SnapshotValidator().check(snap, None)
        assert ok and issues == [], (path.name, issues)


@pytest.mark.parametrize(("change", "rule"), [
    ({"FGM": 9, "FGA": 8}, "FGM<=FGA"),
    ({"FG3M": 5, "FGM": 4, "FG3A": 6}, "FG3M<=FGM"),
    ({"FTM": 3, "FTA": 2}, "FTM<=FTA"),
    ({"REB": 7, "OREB": 2, "DREB": 4}, "REB=OREB+DREB"),
    ({"AST": -1}, "AST>=0"),
])
def test_impossible_lines_are_named(change, rule):
    stats = {"FGM": 4, "FGA": 8, "FG3M": 1, "FG3A": 3, "FTM": 2, "FTA": 2, "OREB": 1,
             "DREB": 3, "REB": 4, "AST": 2}
    assert line_problems(stats) == []
    assert [r for r, _ in line_problems({**stats, **change})] == [rule]


def snap(pts: float, fgm: float = 4, game: str = "g1", status: int = 2) -> GameSnapshot:
    stats = {"MIN": 10.0, "PTS": pts, "FGM": fgm, "FGA": 9, "FG3M": 0, "FG3A": 1, "FTM": 0,
             "FTA": 0, "OREB": 0, "DREB": 1, "REB": 1, "AST": 0, "STL": 0, "BLK": 0,
             "TOV": 0, "PF": 0}
    return GameSnapshot(game_id=game, status=status, period=1, clock="PT05M00.00S",
                        home_team_id="1", away_team_id="2",
                        players=[StatLine("player", "7", "1", "A", dict(stats))])


def test_backwards_counter_is_held_then_accepted_when_confirmed():
    v = SnapshotValidator(confirm_after=3)
    good = snap(8)
    assert v.check(good, None) == (True, [])
    ok, issues = v.check(snap(6, fgm=3), good)
    assert not ok and issues[0].rule == "backwards" and "PTS 8->6" in issues[0].message
    assert issues[0].entity == "player:7@g1" and issues[0].held
    assert not v.check(snap(6, fgm=3), good)[0]
    ok, issues = v.check(snap(6, fgm=3), good)  # third time in a row: a stat correction
    assert ok and issues[0].rule == "correction" and not issues[0].held


def test_a_one_off_backwards_glitch_does_not_count_towards_confirmation():
    v = SnapshotValidator(confirm_after=2)
    good = snap(8)
    assert not v.check(snap(6, fgm=3), good)[0]
    assert v.check(snap(10, fgm=5), good)[0]  # normal progress resets the count
    assert not v.check(snap(6, fgm=3), good)[0]


def test_schema_problems_reject_the_snapshot():
    bad = snap(8, status=7)
    del bad.players[0].stats["PTS"]
    problems = schema_problems(bad)
    assert any("status 7" in p for p in problems) and any("lacks PTS" in p for p in problems)
    assert SnapshotValidator().check(bad, None)[0] is False


def test_only_changed_lines_are_emitted(shared_data):
    doc = json.loads((shared_data / "nba-live" / "boxscore_0022000001.json").read_text())
    tracker = ChangeTracker()
    first = tracker.snapshot_changes(parse_boxscore(doc))
    assert first is not None and len(first.players) == len(parse_boxscore(doc).players)
    assert tracker.snapshot_changes(parse_boxscore(doc)) is None
    moved = copy.deepcopy(doc)
    moved["game"]["homeTeam"]["players"][0]["statistics"]["assists"] += 1
    change = tracker.snapshot_changes(parse_boxscore(moved))
    pid = str(moved["game"]["homeTeam"]["players"][0]["personId"])
    assert [p.id for p in change.players] == [pid] and change.teams == []
    clock = copy.deepcopy(moved)
    clock["game"]["gameClock"] = "PT01M00.00S"
    header_only = tracker.snapshot_changes(parse_boxscore(clock))
    assert header_only.players == [] and header_only.clock == "PT01M00.00S"


def test_realtime_pace_follows_game_state():
    now = datetime(2025, 2, 5, 23, 0, tzinfo=UTC)
    pace = Pace(live=1, pregame=30, idle=300, final=900, unknown=5, pregame_window=1800)
    live = {"status": 2, "start_time": now}
    soon = {"status": 1, "start_time": now + timedelta(minutes=20)}
    later = {"status": 1, "start_time": now + timedelta(hours=3)}
    in_40 = {"status": 1, "start_time": now + timedelta(minutes=40)}
    final = {"status": 3, "start_time": now - timedelta(hours=3)}
    assert realtime_interval([final, live, later], now, pace) == 1
    assert realtime_interval([final, soon], now, pace) == 30
    assert realtime_interval([final, later], now, pace) == 300
    slow = Pace(idle=3600, pregame=30, pregame_window=1800)
    assert realtime_interval([in_40], now, slow) == 600  # wakes when the pre-game window opens
    assert realtime_interval([final, final], now, pace) == 900
    assert realtime_interval([], now, pace) == 5


def test_recovery_unmarks_games_that_are_no_longer_polled():
    from courtside.model import utcnow
    from courtside.sources.pipeline import SyncPipeline
    from courtside.sources.records import Batch

    pipe = SyncPipeline("s", "s")
    pipe.accept(Batch("s", utcnow(), snapshots=[snap(8, game="g1"), snap(4, game="g2")]))
    failed = pipe.fail("boom")
    assert sorted((s.game_id, s.stale) for s in failed.snapshots) == [("g1", True),
                                                                      ("g2", True)]
    back = pipe.accept(Batch("s", utcnow(), snapshots=[snap(10, game="g1")]))
    assert sorted((s.game_id, s.stale) for s in back.snapshots) == [("g1", False),
                                                                    ("g2", False)]
    assert not pipe.current().stale
