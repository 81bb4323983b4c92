"""The formula catalog: every published id present, names resolved, custom formulas checked."""

from __future__ import annotations

import pytest

from courtside.formulas.catalog import UNITS, Catalog, Formula, default_catalog, parse_definition
from courtside.model import FormulaError, NotFoundError

# formulas.md's table down to PER and PIE (POSS, PACE and team ratings are issue 3's).
PUBLISHED = ["FG_PCT", "FG3_PCT", "FT_PCT", "TSA", "TS_PCT", "EFG_PCT", "FG3A_RATE", "FTA_RATE",
             "TOV_PCT", "AST_TO", "GAME_SCORE", "USG_PCT", "AST_PCT", "ORB_PCT", "DRB_PCT",
             "TRB_PCT", "STL_PCT", "BLK_PCT", "PIE", "PER"]

LINE = {"MIN": 34.0, "PTS": 28.0, "FGM": 10.0, "FGA": 20.0, "FG3M": 3.0, "FG3A": 8.0,
        "FTM": 5.0, "FTA": 6.0, "OREB": 2.0, "DREB": 6.0, "REB": 8.0, "AST": 7.0, "STL": 2.0,
        "BLK": 1.0, "TOV": 3.0, "PF": 2.0, "PLUS_MINUS": 5.0}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return default_catalog()


def test_every_published_formula_is_documented(catalog: Catalog) -> None:
    for fid in PUBLISHED:
        formula = catalog.get(fid)
        assert formula.id == fid
        assert formula.description and formula.citation
        assert formula.unit in UNITS
    per36 = [f.id for f in catalog if f.id.endswith("_PER36")]
    assert "PTS_PER36" in per36 and "REB_PER36" in per36 and len(per36) == 16
    per100 = [f.id for f in catalog if f.id.endswith("_PER100")]
    assert [i.replace("_PER100", "") for i in per100] == [i.replace("_PER36", "") for i in per36]


def test_names_resolve_case_insensitively_through_aliases(catalog: Catalog) -> None:
    assert catalog.get("ts%").id == "TS_PCT"
    assert catalog.get("True_Shooting").id == "TS_PCT"
    assert catalog.get("usg%").id == "USG_PCT"
    assert catalog.get("per").id == "PER"
    assert catalog.compile("ts_pct") is catalog.compile("TS_PCT")
    with pytest.raises(NotFoundError, match="did you mean TS_PCT"):
        catalog.get("TS_PTC")


def test_values_match_hand_computation(catalog: Catalog) -> None:
    tsa = 20 + 0.44 * 6
    assert catalog.compile("TS_PCT")(LINE) == pytest.approx(28 / (2 * tsa))
    assert catalog.compile("EFG_PCT")(LINE) == pytest.approx((10 + 1.5) / 20)
    assert catalog.compile("TOV_PCT")(LINE) == pytest.approx(100 * 3 / (tsa + 3))
    game_score = 28 + 4 - 14 - 0.4 * 1 + 1.4 + 1.8 + 2 + 4.9 + 0.7 - 0.8 - 3
    assert catalog.compile("GAME_SCORE")(LINE) == pytest.approx(game_score)
    assert catalog.compile("PTS_PER36")(LINE) == pytest.approx(28 / 34 * 36)
    team = {"TEAM_MIN": 240.0, "TEAM_FGA": 88.0, "TEAM_FTA": 22.0, "TEAM_TOV": 14.0,
            "TEAM_FGM": 41.0}
    usg = 100 * (tsa + 3) * 48 / (34 * (88 + 0.44 * 22 + 14))
    assert catalog.compile("USG_PCT")({**LINE, **team}) == pytest.approx(usg)
    assert catalog.compile("AST_PCT")({**LINE, **team}) == pytest.approx(
        100 * 7 / ((34 / 48) * 41 - 10))


def test_zero_division_is_null_and_explained(catalog: Catalog) -> None:
    zero = {**LINE, "FGA": 0.0, "FTA": 0.0, "PTS": 0.0}
    ts = catalog.compile("TS_PCT")
    assert ts(zero) is None
    assert "division by zero" in ts.explain(zero)


def test_context_is_derived_from_the_names_used(catalog: Catalog) -> None:
    assert catalog.get("TS_PCT").context == frozenset()
    assert catalog.get("USG_PCT").context == {"team"}
    assert catalog.get("ORB_PCT").context == {"team", "opponent"}
    assert catalog.get("PER").context == {"team", "league"}
    assert catalog.get("PIE").context == {"team", "opponent"}


def test_supplied_context_values_stay_inputs(catalog: Catalog) -> None:
    derived = catalog.inputs("PER")
    assert "TEAM_PACE" not in derived and "OPP_FGA" in derived and "LG_APER" in derived
    supplied = catalog.inputs("PER", provided={"TEAM_PACE", "LG_PACE"})
    assert {"TEAM_PACE", "LG_PACE"} <= supplied
    assert not any(n.startswith("OPP_") for n in supplied)


def test_custom_formulas(catalog: Catalog) -> None:
    custom = catalog.define(["MY_TS=PTS/(2*tsa)", "double=my_ts*2"])
    assert custom.compile("double")(LINE) == pytest.approx(2 * 28 / (2 * (20 + 0.44 * 6)))
    assert custom.get("MY_TS").version == 1 and custom.get("MY_TS").kind == "custom"
    again = custom.define("MY_TS=PTS/FGA")
    assert again.get("my_ts").version == 2
    assert again.compile("DOUBLE")(LINE) == pytest.approx(2 * 28 / 20)
    assert "MY_TS" not in catalog  # the built-in catalog is untouched
    with pytest.raises(FormulaError, match=r"cycle: (A -> B -> A|B -> A -> B)"):
        catalog.define(["A=B+1", "B=A*2"])
    with pytest.raises(FormulaError, match="unknown name 'POINTS'"):
        catalog.define("X=POINTS/FGA")
    with pytest.raises(FormulaError, match="built-in"):
        catalog.define("PER=PTS")
    with pytest.raises(FormulaError, match="input name"):
        catalog.define("PTS=FGM*2")
    with pytest.raises(FormulaError, match="NAME=EXPR"):
        parse_definition("just text")
    with pytest.raises(FormulaError, match="attribute"):
        catalog.define("X=PTS.real")


def test_check_accepts_expressions_and_definitions(catalog: Catalog) -> None:
    catalog.check("PTS / (2*TSA) if FGA > 0 else 0")
    catalog.check("X=PER*2")
    with pytest.raises(FormulaError, match="unknown name"):
        catalog.check("PTS / SHOTS")


def test_a_catalog_rejects_bad_definitions() -> None:
    with pytest.raises(FormulaError, match="formula BAD: unknown name"):
        Catalog([Formula(id="BAD", expression="NOPE + 1")])
    with pytest.raises(FormulaError, match="already names"):
        Catalog([Formula(id="A", expression="PTS", aliases=("b",)),
                 Formula(id="B", expression="FGA")])


def test_steps_is_one_read_only_view_and_the_catalog_still_pickles(catalog: Catalog) -> None:
    import pickle

    steps = catalog.steps
    assert steps is catalog.steps  # built once, not copied per call
    assert "LG_APER" in steps and steps["LG_APER"].weight == "MIN"
    with pytest.raises(TypeError):
        steps["LG_APER"] = steps["LG_APER"]  # type: ignore[index]
    # A catalog pickles as before, until it has compiled something (closures do not).
    fresh = Catalog(list(catalog), catalog.steps.values())
    copy = pickle.loads(pickle.dumps(fresh))
    assert dict(copy.steps) == dict(steps) and copy.steps is copy.steps
    with pytest.raises(TypeError):
        copy.steps["X"] = steps["LG_APER"]  # type: ignore[index]
