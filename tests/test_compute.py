"""``courtside.compute`` on small hand-made tables whose results are computed by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import courtside
from courtside.batch.compute import compute, derive_context
from courtside.formulas.context import Context
from courtside.model import ConfigError, DataError

STATS = ["MIN", "PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB",
         "AST", "STL", "BLK", "TOV", "PF"]


def game_rows() -> pl.DataFrame:
    """One game, two teams of two players each (minutes per team: 2 x 24, 'half' teams)."""
    rows = [
        # GAME_ID, TEAM, PLAYER, MIN PTS FGM FGA 3M 3A FTM FTA OR DR REB AST STL BLK TOV PF
        ("G1", "AAA", "a1", 30, 20, 8, 15, 2, 5, 2, 2, 1, 5, 6, 4, 1, 0, 2, 3),
        ("G1", "AAA", "a2", 18, 10, 4, 10, 0, 1, 2, 4, 3, 2, 5, 1, 0, 2, 1, 2),
        ("G1", "BBB", "b1", 28, 15, 6, 14, 1, 4, 2, 3, 0, 7, 7, 6, 2, 1, 3, 1),
        ("G1", "BBB", "b2", 20, 12, 5, 9, 2, 3, 0, 0, 2, 3, 5, 2, 1, 0, 0, 4),
    ]
    return pl.DataFrame(rows, schema=["GAME_ID", "TEAM_ABBREVIATION", "PLAYER_NAME", *STATS],
                        orient="row")


def test_output_keeps_ids_then_formulas_named_by_id() -> None:
    out = compute(game_rows(), ["ts%", "EFG_PCT", "GAME_SCORE"])
    assert out.columns == ["GAME_ID", "TEAM_ABBREVIATION", "PLAYER_NAME", "TS_PCT", "EFG_PCT",
                           "GAME_SCORE"]
    assert out["TS_PCT"][0] == pytest.approx(20 / (2 * (15 + 0.44 * 2)))
    assert out["EFG_PCT"][3] == pytest.approx((5 + 1) / 9)


def test_zero_division_gives_null_not_inf() -> None:
    frame = game_rows().with_columns(pl.lit(0).alias("FGA"), pl.lit(0).alias("FTA"))
    out = compute(frame, "TS_PCT,FTA_RATE")
    assert out["TS_PCT"].null_count() == 4 and out["FTA_RATE"].null_count() == 4


def test_nan_inputs_count_as_null_as_in_the_scalar_form() -> None:
    # Polars orders NaN above every number, so NaN > 5 was true in the frame form, while the
    # closure (one entity, live) treats NaN as null; and a NaN stat made its team's total NaN.
    from courtside.formulas.catalog import default_catalog

    catalog = default_catalog().define(["BIG=1 if PTS > 5 else 0"])
    frame = game_rows().with_columns(
        pl.when(pl.col("PLAYER_NAME") == "a2").then(float("nan")).otherwise(pl.col("PTS"))
        .alias("PTS"))
    out = compute(frame, ["BIG", "PIE"], catalog=catalog)
    assert out["BIG"].to_list() == [1.0, None, 1.0, 1.0]
    assert catalog.compile("BIG")({"PTS": float("nan")}) is None
    # The team totals skip the null, as they do for a missing value.
    nulls = compute(frame.with_columns(pl.col("PTS").fill_nan(None)), "PIE")
    assert out["PIE"].to_list() == nulls["PIE"].to_list() and out["PIE"][0] is not None


def test_team_and_opponent_totals_by_game() -> None:
    out = compute(game_rows(), ["USG_PCT", "ORB_PCT", "STL_PCT"])
    a1 = game_rows().row(0, named=True)
    team_min, t_fga, t_fta, t_tov = 48, 25, 6, 3  # AAA's sums
    usg = 100 * ((15 + 0.44 * 2 + 2) * (team_min / 5)) / (30 * (t_fga + 0.44 * t_fta + t_tov))
    assert out["USG_PCT"][0] == pytest.approx(usg)
    # ORB%: AAA's OREB 4, BBB's DREB 10
    assert out["ORB_PCT"][0] == pytest.approx(100 * (a1["OREB"] * team_min / 5) / (30 * (4 + 10)))
    # STL% uses the possessions estimate of both sides.
    aaa = {"FGA": 25, "FTA": 6, "OREB": 4, "DREB": 7, "FGM": 12, "TOV": 3}
    bbb = {"FGA": 23, "FTA": 3, "OREB": 2, "DREB": 10, "FGM": 11, "TOV": 3}

    def side(t: dict, o: dict) -> float:
        return (t["FGA"] + 0.4 * t["FTA"] - 1.07 * (t["OREB"] / (t["OREB"] + o["DREB"]))
                * (t["FGA"] - t["FGM"]) + t["TOV"])

    poss = 0.5 * (side(aaa, bbb) + side(bbb, aaa))
    assert out["STL_PCT"][0] == pytest.approx(100 * (1 * team_min / 5) / (30 * poss))


def test_pie_shares_sum_to_one_per_game() -> None:
    out = compute(game_rows(), ["PIE"])
    assert out["PIE"].sum() == pytest.approx(1.0)


def test_pandas_and_files_give_the_same_result(tmp_path: Path) -> None:
    frame = game_rows()
    expected = compute(frame, ["TS_PCT", "USG_PCT"])
    assert compute(frame.to_pandas(), ["TS_PCT", "USG_PCT"]).equals(expected)
    assert isinstance(frame.to_pandas(), pd.DataFrame)
    for name in ("t.csv", "t.parquet", "t.ndjson"):
        path = tmp_path / name
        getattr(frame, {"csv": "write_csv", "parquet": "write_parquet",
                        "ndjson": "write_ndjson"}[name.split(".")[1]])(path)
        assert compute(path, ["TS_PCT", "USG_PCT"]).equals(expected)
    assert courtside.compute(frame, ["TS_PCT", "USG_PCT"]).equals(expected)


def test_chunks_with_the_whole_inputs_context_equal_one_run() -> None:
    frame = game_rows()
    ids = ["USG_PCT", "AST_PCT", "DRB_PCT", "PER"]
    whole = compute(frame, ids)
    context = derive_context(frame, ids)
    assert context is not None and context.team is not None
    parts = [compute(frame.slice(i, 1), ids, context=context) for i in range(frame.height)]
    # Equal up to float rounding (Polars may order the arithmetic differently per frame).
    assert_frame_equal(pl.concat(parts), whole, rel_tol=1e-12)
    # Without it a one-row chunk sees a one-player team, which changes USG%.
    assert compute(frame.slice(0, 1), ids)["USG_PCT"][0] != pytest.approx(whole["USG_PCT"][0])


def test_no_context_derived_when_not_needed() -> None:
    assert derive_context(game_rows(), ["TS_PCT", "GAME_SCORE"]) is None


def test_aggregate_rows_are_computed_but_left_out_of_totals() -> None:
    season = pl.DataFrame({
        "Player": ["x", "x", "x", "y"], "Tm": ["TOT", "AAA", "BBB", "AAA"],
        "MP": [100, 60, 40, 140], "FG": [10, 6, 4, 20], "FGA": [20, 12, 8, 30],
        "3P": [0, 0, 0, 0], "3PA": [0, 0, 0, 0], "FT": [5, 3, 2, 4], "FTA": [10, 6, 4, 5],
        "ORB": [1, 1, 0, 2], "DRB": [3, 2, 1, 4], "TRB": [4, 3, 1, 6], "AST": [2, 1, 1, 5],
        "STL": [1, 1, 0, 0], "BLK": [0, 0, 0, 1], "TOV": [2, 1, 1, 3], "PF": [1, 1, 0, 2],
        "PTS": [25, 15, 10, 44]})
    out = compute(season, ["TS_PCT", "USG_PCT"], preset="bbr")
    assert out.columns == ["Player", "Tm", "TS_PCT", "USG_PCT"]
    assert out["TS_PCT"][0] == pytest.approx(25 / (2 * (20 + 4.4)))
    assert out["USG_PCT"][0] is None  # TOT has no team context
    # AAA's totals are x's AAA stint plus y: MIN 200, FGA 42, FTA 11, TOV 4.
    usg_y = 100 * ((30 + 0.44 * 5 + 3) * (200 / 5)) / (140 * (42 + 0.44 * 11 + 4))
    assert out["USG_PCT"][3] == pytest.approx(usg_y)


def test_supplied_context_wins_over_derived() -> None:
    frame = game_rows()
    team = pl.DataFrame({"TEAM_ABBREVIATION": ["AAA", "BBB"], "TEAM_FGA": [50.0, 46.0]})
    out = compute(frame, ["USG_PCT"], context=Context.of(team=team))
    usg = 100 * ((15 + 0.44 * 2 + 2) * (48 / 5)) / (30 * (50 + 0.44 * 6 + 3))
    assert out["USG_PCT"][0] == pytest.approx(usg)


def test_team_level_aggregates_players_first() -> None:
    out = compute(game_rows(), ["TS_PCT", "PIE"], level="team")
    assert out.columns == ["GAME_ID", "TEAM_ABBREVIATION", "TS_PCT", "PIE"]
    assert out["TS_PCT"][0] == pytest.approx(30 / (2 * (25 + 0.44 * 6)))
    assert out["PIE"].sum() == pytest.approx(1.0)
    assert out["PIE"][0] == pytest.approx(compute(game_rows(), ["PIE"])["PIE"][:2].sum())


def test_custom_formulas_by_name() -> None:
    out = compute(game_rows(), ["TS_PCT", "Stocks"], define=["Stocks=STL+BLK"])
    assert out.columns[-1] == "Stocks"
    assert out["Stocks"].to_list() == [1.0, 2.0, 3.0, 1.0]


def test_map_and_clear_errors() -> None:
    frame = game_rows().rename({"PTS": "Points"})
    with pytest.raises(DataError, match=r"TS_PCT need PTS.*--map"):
        compute(frame, ["TS_PCT"])
    out = compute(frame, ["TS_PCT"], mapping=["Points=PTS"])
    assert "Points" not in out.columns
    # the mapped column is read as PTS: a1's 20 points on 15 FGA, 2 FTA (by hand)
    assert out["TS_PCT"][0] == pytest.approx(20 / (2 * (15 + 0.44 * 2)))
    with pytest.raises(ConfigError, match="not a canonical stat"):
        compute(frame, ["TS_PCT"], mapping=["Points=POINTS"])
    with pytest.raises(DataError, match=r"opponent totals.*game column"):
        compute(frame.drop("GAME_ID"), ["ORB_PCT"], mapping=["Points=PTS"])
    with pytest.raises(ConfigError, match="unknown preset"):
        compute(frame, ["TS_PCT"], preset="espn")


def test_minutes_as_clock_text() -> None:
    frame = game_rows().with_columns(pl.lit("34:12").alias("MIN"))
    out = compute(frame, ["PTS_PER36"])
    assert out["PTS_PER36"][0] == pytest.approx(20 / 34.2 * 36)


def test_per_100_possessions_by_hand() -> None:
    out = compute(game_rows(), ["PTS_PER100", "AST_PER100", "POSS"])

    def poss(fga: float, fta: float, oreb: float, opp_dreb: float, fgm: float,
             tov: float) -> float:
        return fga + 0.4 * fta - 1.07 * oreb / (oreb + opp_dreb) * (fga - fgm) + tov

    # team totals: AAA FGA 25 FTA 6 OREB 4 DREB 7 FGM 12 TOV 3; BBB 23 3 2 10 11 3
    team_poss = 0.5 * (poss(25, 6, 4, 10, 12, 3) + poss(23, 3, 2, 7, 11, 3))
    assert out["POSS"][0] == pytest.approx(team_poss)
    # a1 played 30 of AAA's 48 minutes, i.e. 30 / (48/5) of its possessions (five on the floor)
    on_court = team_poss * 30 / (48 / 5)
    assert out["PTS_PER100"][0] == pytest.approx(100 * 20 / on_court)
    assert out["AST_PER100"][0] == pytest.approx(100 * 4 / on_court)
    # and it is the per-36 rate rescaled by the team's possessions per minute
    per36 = compute(game_rows(), ["PTS_PER36"])["PTS_PER36"][0]
    assert out["PTS_PER100"][0] == pytest.approx(per36 / 36 * 100 * (48 / 5) / team_poss)


def test_ortg_of_a_player_without_free_throws_by_hand() -> None:
    """b2 took no free throws: the spec's FT_Part divides 0 by 0; the catalog counts it as 0
    (as Basketball-Reference rates such players) and the rest is formulas.md step by step."""
    out = compute(game_rows(), ["ORTG", "FT_PART", "FTXPOSS", "TOTPOSS", "PPROD"])
    b2 = out.row(3, named=True)
    assert b2["FT_PART"] == 0 and b2["FTXPOSS"] == 0
    # b2: MIN 20 PTS 12 FGM 5 FGA 9 FG3M 2 FTM 0 FTA 0 OREB 2 AST 2 TOV 0.
    # BBB: MIN 48 PTS 27 FGM 11 FGA 23 FG3M 3 FTM 2 FTA 3 OREB 2 AST 8 TOV 3; AAA DREB 7.
    share = 20 / (48 / 5)
    q_ast = share * (1.14 * ((8 - 2) / 11)) + (
        ((8 / 48) * 20 * 5 - 2) / ((11 / 48) * 20 * 5 - 5)) * (1 - share)
    fg_part = 5 * (1 - 0.5 * ((12 - 0) / (2 * 9)) * q_ast)
    ast_part = 0.5 * (((27 - 2) - (12 - 0)) / (2 * (23 - 9))) * 2
    team_scoring = 11 + (1 - (1 - 2 / 3) ** 2) * 3 * 0.4
    team_orb = 2 / (2 + 7)
    team_play = team_scoring / (23 + 3 * 0.4 + 3)
    orb_weight = ((1 - team_orb) * team_play) / (
        (1 - team_orb) * team_play + team_orb * (1 - team_play))
    orb_part = 2 * orb_weight * team_play
    keep = 1 - (2 / team_scoring) * orb_weight * team_play
    sc_poss = (fg_part + ast_part + 0) * keep + orb_part
    tot_poss = sc_poss + (9 - 5) * (1 - 1.07 * team_orb) + 0 + 0
    pprod_fg = 2 * (5 + 0.5 * 2) * (1 - 0.5 * ((12 - 0) / (2 * 9)) * q_ast)
    pprod_ast = 2 * ((11 - 5 + 0.5 * (3 - 2)) / (11 - 5)) * ast_part
    pprod = (pprod_fg + pprod_ast + 0) * keep + orb_part * (27 / team_scoring)
    assert b2["TOTPOSS"] == pytest.approx(tot_poss)
    assert b2["PPROD"] == pytest.approx(pprod)
    assert b2["ORTG"] == pytest.approx(100 * pprod / tot_poss)


def test_team_context_table_maps_pace_totals_and_opponents() -> None:
    from courtside.sources.presets import team_context_table

    table = pl.DataFrame({"Tm": ["AAA"], "Year": [2024], "Pace": [99.5], "FGA": [7000],
                          "TOV": [1100], "Opp DRB": [2800], "Arena": ["x"]})
    out = team_context_table(table, "bbr")
    assert out.columns == ["Tm", "Year", "TEAM_PACE", "TEAM_FGA", "TEAM_TOV", "OPP_DREB"]
    assert out.row(0) == ("AAA", 2024, 99.5, 7000.0, 1100.0, 2800.0)
    with pytest.raises(DataError, match="no Pace column"):
        team_context_table(pl.DataFrame({"Tm": ["AAA"], "Arena": ["x"]}), "bbr")


def test_errors_name_the_formulas_that_need_the_missing_context() -> None:
    season = game_rows().drop("GAME_ID")
    with pytest.raises(DataError, match=r"^PER: opponent totals .*TEAM_PACE"):
        compute(season, ["PER"])
    pace = pl.DataFrame({"TEAM_ABBREVIATION": ["AAA", "BBB"], "TEAM_PACE": [98.0, 101.0]})
    out = compute(season, ["PER"], context=Context.of(team=pace, LG_PACE=100.0))
    assert out["PER"].null_count() == 0


def test_contexts_keyed_differently_merge() -> None:
    from courtside.formulas.context import Keys

    keys = Keys(team="Tm", partition=("Year",))
    by_team = Context(team=pl.DataFrame({"Tm": ["AAA", "BBB"], "TEAM_PACE": [98.0, 101.0]}))
    by_season = Context(team=pl.DataFrame({"Year": [2019, 2019, 2024], "Tm": ["AAA", "BBB", "AAA"],
                                           "TEAM_FGA": [1.0, 2.0, 3.0],
                                           "TEAM_PACE": [None, 90.0, None]}))
    merged = by_team.merge(by_season, keys).team
    assert merged is not None
    rows = {(r["Year"], r["Tm"]): (r["TEAM_FGA"], r["TEAM_PACE"])
            for r in merged.iter_rows(named=True)}
    assert rows == {(2019, "AAA"): (1.0, 98.0), (2019, "BBB"): (2.0, 90.0),
                    (2024, "AAA"): (3.0, 98.0)}
    coarse = by_season.merge(by_team, keys).team
    assert coarse is not None and coarse.sort("Year", "Tm")["TEAM_PACE"].to_list() == [
        98.0, 101.0, 98.0]


def test_a_game_named_by_several_columns() -> None:
    frame = game_rows().rename({"GAME_ID": "Date", "TEAM_ABBREVIATION": "Club"}).with_columns(
        pl.lit("Arena 1").alias("Arena"))
    twice = pl.concat([frame, frame.with_columns(pl.lit("Arena 2").alias("Arena"))])
    out = compute(twice, ["ORB_PCT"], mapping=["Date=GAME", "Arena=GAME", "Club=TEAM"])
    expected = compute(game_rows(), ["ORB_PCT"])["ORB_PCT"].to_list()
    assert out["ORB_PCT"].to_list() == pytest.approx(expected * 2)
    with pytest.raises(DataError, match="has 4 teams"):
        compute(twice.with_columns(pl.concat_str(pl.col("Club"), pl.col("Arena")).alias("Club")),
                ["ORB_PCT"], mapping=["Date=GAME", "Club=TEAM"])
