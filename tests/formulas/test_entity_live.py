"""Real-time (scalar) evaluation equals the batch (Polars) result on the same numbers.

The game: GSW at BKN, 2020-12-22 (liveData boxscore 0022000001), every active player, with the
game's own team lines as team and opponent context and a fixed league context.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest

from courtside.batch.compute import compute, derive_context
from courtside.formulas.catalog import Catalog, ContextStep, default_catalog
from courtside.formulas.context import Context
from courtside.formulas.entity import (
    _aggregate,
    entity_values,
    evaluate_entity,
    evaluate_snapshot,
    game_inputs,
)
from courtside.formulas.gamelog import game_log_teams, league_context
from courtside.model import DataError, GameSnapshot
from courtside.sources.livedata import parse_boxscore
from courtside.sources.tables import read_table

GAME = "0022000001"


@pytest.fixture(scope="module")
def box(shared_data: Path) -> dict:
    return json.loads((shared_data / "nba-live" / f"boxscore_{GAME}.json").read_text())


@pytest.fixture(scope="module")
def snapshot(box: dict) -> GameSnapshot:
    return parse_boxscore(box)


@pytest.fixture(scope="module")
def league(shared_data: Path) -> dict[str, float]:
    """A real season's league totals (2018-19, from the game log) as the league context."""
    teams = game_log_teams(read_table(
        shared_data / "nba-stats" / "leaguegamelog_2018-19_team.json"))
    row = league_context(teams).row(0, named=True)
    return {k: float(v) for k, v in row.items()}


def _player_formulas() -> list[str]:
    cat = default_catalog()
    return [f.id for f in cat if f.level in ("player", "any") and f.kind in ("stat", "step")]


def test_every_formula_for_every_player_equals_the_batch_result(
        box: dict, snapshot: GameSnapshot, league: dict[str, float]) -> None:
    ids = _player_formulas()
    assert {"ORTG", "DRTG", "OWS", "DWS", "WS", "BPM", "OBPM", "DBPM", "VORP", "PER",
            "ORB_PCT", "STL_PCT"} <= set(ids)
    live = evaluate_snapshot(snapshot, ids, league)
    batch = compute(box, ids, preset="nba-live", context={**league, "TEAM_GP": 1.0})
    assert batch.height == len(snapshot.players) == len(live)
    cat = default_catalog()
    # Formulas reading an aggregate step (BPM's team sums, PER's league aPER) may differ in
    # the last bits: Polars sums in its own order. Every other formula is equal exactly.
    summed = {fid for fid in ids if cat.inputs(fid, {*league, "TEAM_GP"}) & set(cat.steps)}
    assert {"BPM", "VORP", "PER"} <= summed and "DWS" not in summed
    compared = nulls = 0
    for row in batch.iter_rows(named=True):
        values = live[str(row["PLAYER_ID"])]
        for fid in ids:
            mine, theirs = values[fid], row[fid]
            if fid in summed and mine is not None and theirs is not None:
                assert mine == pytest.approx(theirs, rel=1e-12, abs=1e-12), (fid, mine, theirs)
            else:
                assert mine == theirs, (row["PLAYER_NAME"], fid, mine, theirs)
            compared += 1
            nulls += mine is None
    # Players who did not play give nulls (0 minutes); everyone else has numbers.
    assert compared == len(ids) * batch.height and nulls < compared / 5


def test_bpm_team_adjustment_in_one_game(snapshot: GameSnapshot,
                                         league: dict[str, float]) -> None:
    live = evaluate_snapshot(snapshot, ["BPM", "OBPM", "MIN_SHARE", "BPM_TEAM_RATING",
                                        "OBPM_TEAM_RATING", "BPM_POS", "NET_RTG"], league)
    for team in snapshot.teams:
        rows = [live[p.id] for p in snapshot.players
                if p.team_id == team.id and live[p.id]["BPM"] is not None]
        share = sum(v["MIN_SHARE"] for v in rows)
        assert share == pytest.approx(5.0, abs=1e-6)  # the feed's minutes add up
        assert sum(v["BPM"] * v["MIN_SHARE"] for v in rows) == pytest.approx(
            rows[0]["BPM_TEAM_RATING"], abs=1e-6)
        assert sum(v["OBPM"] * v["MIN_SHARE"] for v in rows) == pytest.approx(
            rows[0]["OBPM_TEAM_RATING"], abs=1e-6)
        assert sum(v["BPM_POS"] * v["MIN_SHARE"] for v in rows) == pytest.approx(15.0, abs=0.05)
    # Brooklyn won 125-99: a net rating far above zero, and the lead bonus on top of it.
    bkn = next(v for p, v in ((p, live[p.id]) for p in snapshot.players)
               if p.team_id == snapshot.home_team_id and v["BPM"] is not None)
    assert bkn["NET_RTG"] > 20 and bkn["BPM_TEAM_RATING"] > bkn["NET_RTG"]


def test_one_player_from_plain_dicts(snapshot: GameSnapshot, league: dict[str, float]) -> None:
    player = max(snapshot.players, key=lambda p: p.stats["PTS"])
    team = next(t for t in snapshot.teams if t.id == player.team_id)
    opp = next(t for t in snapshot.teams if t.id != player.team_id)
    ids = ["ORTG", "DRTG", "OWS", "DWS", "USG_PCT", "BPM", "VORP"]
    live = evaluate_snapshot(snapshot, ids, league)[player.id]
    for fid in ("ORTG", "DRTG", "OWS", "DWS", "USG_PCT"):
        value = evaluate_entity(fid, player.stats, team.stats, opp.stats,
                                {**league, "TEAM_GP": 1.0})
        assert value == live[fid]
    assert math.isfinite(live["ORTG"]) and 60 < live["ORTG"] < 180
    # BPM needs its team steps: a clear error without them...
    with pytest.raises(DataError, match="TEAM_RAW_BPM"):
        evaluate_entity("BPM", player.stats, team.stats, opp.stats, league)
    # ...and the same value when the game's step values are supplied with the context.
    inputs = game_inputs(snapshot, ["BPM", "VORP"], league)[player.id]
    steps = {k: v for k, v in inputs.items() if k in default_catalog().steps}
    assert {"TEAM_RAW_BPM", "BPM_POS_AVG1", "TEAM_THRESH_PTS"} <= set(steps)
    for fid in ("BPM", "VORP"):
        assert evaluate_entity(fid, player.stats, team.stats, opp.stats,
                               {**league, **steps, "TEAM_GP": 1.0}) == live[fid]


def test_plain_dict_hand_computed_usage() -> None:
    """USG% by hand: 100*((FGA + 0.44*FTA + TOV)*(TEAM_MIN/5)) / (MIN*(team plays))."""
    player = {"MIN": 36.0, "FGA": 20.0, "FTA": 10.0, "TOV": 3.0}
    team = {"MIN": 240.0, "FGA": 88.0, "FTA": 22.0, "TOV": 14.0}
    usg = evaluate_entity("USG_PCT", player, team)
    assert usg == pytest.approx(100 * (27.4 * 48) / (36 * (88 + 9.68 + 14)))
    assert entity_values(player, team)["TEAM_FGA"] == 88.0


def test_a_snapshot_without_both_team_lines_is_rejected(snapshot: GameSnapshot) -> None:
    partial = GameSnapshot(game_id=snapshot.game_id, status=2, period=1, clock="PT05M00.00S",
                           home_team_id=snapshot.home_team_id,
                           away_team_id=snapshot.away_team_id,
                           players=snapshot.players, teams=snapshot.teams[:1])
    with pytest.raises(DataError, match="both teams"):
        evaluate_snapshot(partial, ["ORTG"])


def test_batch_frame_of_the_same_game_has_no_team_context_gaps(box: dict,
                                                               league: dict[str, float]) -> None:
    frame = compute(box, ["TEAM_POSS", "TEAM_PACE", "TEAM_ORTG"], preset="nba-live",
                    context=Context.of(**league))
    # One game: both teams' possessions are the same estimate, pace is per 48 minutes.
    assert frame["TEAM_POSS"].n_unique() == 1
    assert frame.select(pl.col("TEAM_PACE").n_unique()).item() == 1


def _batch_of(snapshot: GameSnapshot, ids: list[str], league: dict[str, float]) -> dict:
    """courtside.compute over the snapshot's numbers: players as rows, the team lines as the
    team and opponent context."""
    players = pl.DataFrame([{"GAME_ID": snapshot.game_id, "TEAM_ABBREVIATION": p.team_id,
                             "PLAYER_ID": p.id, **p.stats} for p in snapshot.players])
    lines = {t.id: t.stats for t in snapshot.teams}
    other = {snapshot.home_team_id: snapshot.away_team_id,
             snapshot.away_team_id: snapshot.home_team_id}
    teams = pl.DataFrame([{"GAME_ID": snapshot.game_id, "TEAM_ABBREVIATION": tid,
                           **{f"TEAM_{k}": v for k, v in lines[tid].items()},
                           **{f"OPP_{k}": v for k, v in lines[other[tid]].items()}}
                          for tid in lines])
    context = Context.of(team=teams, **league, TEAM_GP=1.0)
    out = compute(players, ids, context=context)
    return {str(r["PLAYER_ID"]): r for r in out.iter_rows(named=True)}


@pytest.mark.parametrize("share", [0.1, 0.5, 0.9])
def test_mid_game_snapshots_equal_the_batch(shared_data: Path, box: dict,
                                            league: dict[str, float], share: float) -> None:
    """A game in progress (rebuilt from the real play-by-play): early on, free throws and
    minutes are few and many values are null; the real-time values still equal the batch's."""
    from courtside.sources.playbyplay import builder_for

    pbp = json.loads((shared_data / "nba-live" / f"playbyplay_{GAME}.json").read_text())
    builder, actions = builder_for(pbp, box)
    for action in actions[: int(len(actions) * share)]:
        builder.apply(action)
    snapshot = builder.snapshot()
    ids = ["ORTG", "DRTG", "FLOOR_PCT", "STOP_PCT", "OWS", "DWS", "WS", "BPM", "OBPM", "VORP",
           "ORB_PCT", "STL_PCT", "BLK_PCT", "USG_PCT", "TEAM_ORTG", "PACE", "FOUR_FACTORS"]
    live = evaluate_snapshot(snapshot, ids, league)
    batch = _batch_of(snapshot, ids, league)
    cat = default_catalog()
    summed = {f for f in ids if cat.inputs(f, {*league, "TEAM_GP"}) & set(cat.steps)}
    played = 0
    for pid, values in live.items():
        for fid in ids:
            mine, theirs = values[fid], batch[pid][fid]
            if fid in summed and mine is not None and theirs is not None:
                assert mine == pytest.approx(theirs, rel=1e-12, abs=1e-12), (pid, fid)
            else:
                assert mine == theirs, (pid, fid, mine, theirs)
        played += values["ORTG"] is not None
    assert played >= 10  # at 10% of the game, the starters have an ORtg already


def test_zero_weight_step_is_null_in_batch_as_in_live(shared_data: Path, box: dict,
                                                      league: dict[str, float]) -> None:
    """At tip-off every player has 0 minutes: a minutes-weighted step (the BPM team averages,
    the league's aPER) divides by a total weight of 0, which is null in both forms. Batch
    gave NaN, which a comparison reads as larger than any number."""
    from courtside.sources.playbyplay import builder_for

    pbp = json.loads((shared_data / "nba-live" / f"playbyplay_{GAME}.json").read_text())
    builder, actions = builder_for(pbp, box)
    builder.apply(actions[0])  # the period start: the clock at 12:00, nobody has played
    snapshot = builder.snapshot()
    assert all(not p.stats.get("MIN") for p in snapshot.players)
    cat = default_catalog().define(["TEAM_FLAG=1 if BPM_POS_AVG1 > 0 else 0",
                                    "LG_FLAG=1 if LG_APER > 0 else 0", "LG_VALUE=LG_APER"])
    ids = ["TEAM_FLAG", "LG_FLAG", "LG_VALUE"]
    live = evaluate_snapshot(snapshot, ids, league, catalog=cat)
    players = pl.DataFrame([{"GAME_ID": snapshot.game_id, "TEAM_ABBREVIATION": p.team_id,
                             "PLAYER_ID": p.id, **p.stats} for p in snapshot.players])
    given = {**league, "TEAM_GP": 1.0}
    batch = compute(players, ids, catalog=cat, context=given)
    for row in batch.iter_rows(named=True):
        assert live[str(row["PLAYER_ID"])] == {f: row[f] for f in ids} == dict.fromkeys(ids)
    context = derive_context(players, ids, catalog=cat, context=given)
    assert context is not None and context.team is not None and context.league is not None
    assert context.team["BPM_POS_AVG1"].to_list() == [None, None]
    assert context.league["LG_APER"].to_list() == [None]


def test_zero_weight_with_values_present_is_null_in_batch_as_in_live() -> None:
    """Values present but every weight 0 (a team whose players all have 0 minutes, yet
    shots): the weighted mean is null per team and per league, as the scalar aggregation
    gives; a team with minutes keeps its mean."""
    base = default_catalog()
    cat = Catalog(list(base), [
        *base.steps.values(),
        ContextStep(name="TEAM_TS_AVG", formula="TS_PCT", scope="team", weight="MIN"),
        ContextStep(name="LG_TS_AVG", formula="TS_PCT", scope="league", weight="MIN"),
    ]).define(["SEEN_TEAM=TEAM_TS_AVG", "SEEN_LG=LG_TS_AVG"])
    rows = pl.DataFrame({"SEASON_ID": ["2019"] * 4, "GAME_ID": ["g"] * 4,
                         "TEAM_ABBREVIATION": ["X", "X", "Y", "Y"],
                         "MIN": [0.0, 0.0, 10.0, 30.0], "PTS": [2.0, 4.0, 3.0, 6.0],
                         "FGA": [2.0, 3.0, 2.0, 4.0], "FTA": [0.0, 0.0, 1.0, 2.0]})
    out = compute(rows, ["SEEN_TEAM", "SEEN_LG", "TS_PCT"], catalog=cat)
    team = dict(zip(out["TEAM_ABBREVIATION"], out["SEEN_TEAM"], strict=True))
    expected = _aggregate(cat.steps["TEAM_TS_AVG"], list(zip(out["TS_PCT"][2:],
                                                             rows["MIN"][2:], strict=True)))
    assert team["X"] is None
    assert expected is not None and team["Y"] == pytest.approx(expected, rel=1e-12)
    assert out["SEEN_LG"].n_unique() == 1 and out["SEEN_LG"][0] is not None
    zero = compute(rows.with_columns(pl.lit(0.0).alias("MIN")), ["SEEN_LG"], catalog=cat)
    assert zero["SEEN_LG"].to_list() == [None] * 4
    assert _aggregate(cat.steps["LG_TS_AVG"], [(0.5, 0.0), (0.6, 0.0)]) is None
    context = derive_context(rows.with_columns(pl.lit(0.0).alias("MIN")),
                             ["SEEN_TEAM", "SEEN_LG"], catalog=cat)
    assert context is not None and context.team is not None and context.league is not None
    assert context.team["TEAM_TS_AVG"].to_list() == [None, None]
    assert context.league["LG_TS_AVG"].to_list() == [None]
