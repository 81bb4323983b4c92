"""The built-in formula definitions: data only, in the formula language.

Each entry is a :class:`~courtside.formulas.catalog.Formula`; the catalog checks every
expression when it is built (names, cycles), so a typo here fails the first test that builds it.
Sources: Basketball-Reference glossary and "Calculating PER" page (BBR), Dean Oliver,
*Basketball on Paper* (2004) (Oliver), John Hollinger (Hollinger), NBA.com stats glossary (NBA).

Adding a formula (issue 3 and later): append a ``Formula`` to ``BUILTINS`` (and, when a step is
an aggregate over rows rather than an expression, a ``ContextStep`` to ``CONTEXT_STEPS``).
"""

from __future__ import annotations

from courtside.formulas.catalog import (
    COUNTING_STATS,
    ContextStep,
    Formula,
)
from courtside.formulas.composite import COMPOSITE, COMPOSITE_STEPS

__all__ = ["BUILTINS", "CONTEXT_STEPS"]

BBR = "Basketball-Reference glossary (basketball-reference.com/about/glossary.html)"
BBR_PER = "Basketball-Reference, Calculating PER (basketball-reference.com/about/per.html)"
OLIVER = "Dean Oliver, Basketball on Paper (2004)"
HOLLINGER = "John Hollinger, Pro Basketball Forecast (2005); as computed by Basketball-Reference"
NBA = "NBA.com stats glossary (nba.com/stats/help/glossary)"


def _f(id: str, expression: str, description: str, *, aliases: tuple[str, ...] = (),
       unit: str = "fraction", citation: str = BBR, level: str = "any",
       kind: str = "stat") -> Formula:
    return Formula(id=id, expression=expression, description=description, aliases=aliases,
                   unit=unit, citation=citation, level=level, kind=kind)


_SHOOTING = [
    _f("FG_PCT", "FGM / FGA", "Field goal percentage.", aliases=("fg%", "field_goal_pct")),
    _f("FG3_PCT", "FG3M / FG3A", "Three-point percentage.", aliases=("3p%", "fg3%", "three_pct")),
    _f("FT_PCT", "FTM / FTA", "Free throw percentage.", aliases=("ft%", "free_throw_pct")),
    _f("TSA", "FGA + 0.44*FTA", "True shooting attempts.", unit="count",
       aliases=("true_shooting_attempts",)),
    _f("TS_PCT", "PTS / (2*TSA)", "True shooting percentage: points per two shooting attempts.",
       aliases=("ts%", "ts", "true_shooting", "true_shooting_pct")),
    _f("EFG_PCT", "(FGM + 0.5*FG3M) / FGA",
       "Effective field goal percentage: a three counts one and a half makes.",
       aliases=("efg%", "efg", "effective_fg_pct")),
    _f("FG3A_RATE", "FG3A / FGA", "Three-point attempt rate: share of attempts from three.",
       aliases=("3par", "3pa_rate", "three_point_rate")),
    _f("FTA_RATE", "FTA / FGA", "Free throw rate: free throw attempts per field goal attempt.",
       aliases=("ftr", "ft_rate", "free_throw_rate")),
]

_BOX = [
    _f("TOV_PCT", "100*TOV / (FGA + 0.44*FTA + TOV)",
       "Turnover percentage: turnovers per 100 plays.", unit="percent",
       aliases=("tov%", "to%", "turnover_pct")),
    _f("AST_TO", "AST / TOV", "Assist to turnover ratio.", unit="ratio",
       aliases=("ast/to", "ast_to_ratio", "assist_to_turnover"), citation=NBA),
    _f("GAME_SCORE",
       "PTS + 0.4*FGM - 0.7*FGA - 0.4*(FTA - FTM) + 0.7*OREB + 0.3*DREB + STL + 0.7*AST"
       " + 0.7*BLK - 0.4*PF - TOV",
       "Hollinger's game score: a rough single-game productivity number (PTS scale).",
       unit="score", aliases=("gmsc", "game_score"), citation=HOLLINGER),
]

_TEAM_SHARE = [
    _f("USG_PCT",
       "100*((FGA + 0.44*FTA + TOV)*(TEAM_MIN/5)) / (MIN*(TEAM_FGA + 0.44*TEAM_FTA + TEAM_TOV))",
       "Usage percentage: share of team plays used while on the floor.", unit="percent",
       level="player", aliases=("usg%", "usage", "usage_pct")),
    _f("AST_PCT", "100*AST / (((MIN/(TEAM_MIN/5))*TEAM_FGM) - FGM)",
       "Assist percentage: share of teammate field goals assisted while on the floor.",
       unit="percent", level="player", aliases=("ast%", "assist_pct")),
    _f("ORB_PCT", "100*(OREB*(TEAM_MIN/5)) / (MIN*(TEAM_OREB + OPP_DREB))",
       "Offensive rebound percentage: share of available offensive rebounds grabbed.",
       unit="percent", level="player", aliases=("orb%", "oreb%", "offensive_rebound_pct")),
    _f("DRB_PCT", "100*(DREB*(TEAM_MIN/5)) / (MIN*(TEAM_DREB + OPP_OREB))",
       "Defensive rebound percentage: share of available defensive rebounds grabbed.",
       unit="percent", level="player", aliases=("drb%", "dreb%", "defensive_rebound_pct")),
    _f("TRB_PCT", "100*(REB*(TEAM_MIN/5)) / (MIN*(TEAM_REB + OPP_REB))",
       "Total rebound percentage: share of available rebounds grabbed.",
       unit="percent", level="player", aliases=("trb%", "reb%", "rebound_pct")),
    _f("STL_PCT", "100*(STL*(TEAM_MIN/5)) / (MIN*OPP_POSS)",
       "Steal percentage: opponent possessions ending in this player's steal.",
       unit="percent", level="player", aliases=("stl%", "steal_pct")),
    _f("BLK_PCT", "100*(BLK*(TEAM_MIN/5)) / (MIN*(OPP_FGA - OPP_FG3A))",
       "Block percentage: opponent two-point attempts blocked.",
       unit="percent", level="player", aliases=("blk%", "block_pct")),
]

# Context values: derived from team/opponent/league totals unless the caller supplies them
# (a column of that name in the context wins over the expression).
_CONTEXT = [
    _f("TEAM_POSS",
       "0.5*((TEAM_FGA + 0.4*TEAM_FTA - 1.07*(TEAM_OREB/(TEAM_OREB + OPP_DREB))"
       "*(TEAM_FGA - TEAM_FGM) + TEAM_TOV) + (OPP_FGA + 0.4*OPP_FTA"
       " - 1.07*(OPP_OREB/(OPP_OREB + TEAM_DREB))*(OPP_FGA - OPP_FGM) + OPP_TOV))",
       "The team's possessions (Basketball-Reference's estimate, averaging both sides).",
       unit="count", level="any", kind="context", aliases=("team_possessions",)),
    _f("OPP_POSS", "TEAM_POSS",
       "The opponent's possessions; the estimate averages both sides, so it equals TEAM_POSS.",
       unit="count", level="any", kind="context", aliases=("opp_possessions",)),
    _f("TEAM_PACE", "48*((TEAM_POSS + OPP_POSS) / (2*(TEAM_MIN/5)))",
       "The team's pace: possessions per 48 minutes. Supply it (a Pace column in the team "
       "context) when the data has no opponent totals.",
       unit="number", level="any", kind="context", aliases=("team_pace",)),
    _f("LG_POSS",
       "LG_FGA + 0.4*LG_FTA - 1.07*(LG_OREB/(LG_OREB + LG_DREB))*(LG_FGA - LG_FGM) + LG_TOV",
       "The league's possessions: every team's, summed.", unit="count", level="any",
       kind="context", aliases=("league_possessions",)),
    _f("LG_PACE", "48*LG_POSS / (LG_MIN/5)",
       "The league's pace: possessions per team per 48 minutes. Derived from league totals "
       "(player rows lack team turnovers, which lowers it slightly); supply the published "
       "value for exact PER.",
       unit="number", level="any", kind="context", aliases=("league_pace",)),
]

_PER = [
    _f("PER_FACTOR", "(2/3) - (0.5*(LG_AST/LG_FGM)) / (2*(LG_FGM/LG_FTM))",
       "PER step: the league factor that sets how much of an assisted field goal's credit "
       "the scorer gives up to the passer.", unit="number",
       kind="step", citation=BBR_PER),
    _f("VOP", "LG_PTS / (LG_FGA - LG_OREB + LG_TOV + 0.44*LG_FTA)",
       "PER step: the league's value of a possession.", unit="number", kind="step",
       citation=BBR_PER),
    _f("DRBP", "(LG_REB - LG_OREB) / LG_REB",
       "PER step: the league's defensive rebound share.", unit="fraction", kind="step",
       citation=BBR_PER),
    _f("UPER",
       "(1/MIN) * (FG3M + (2/3)*AST + (2 - PER_FACTOR*(TEAM_AST/TEAM_FGM))*FGM"
       " + FTM*0.5*(1 + (1 - TEAM_AST/TEAM_FGM) + (2/3)*(TEAM_AST/TEAM_FGM))"
       " - VOP*TOV - VOP*DRBP*(FGA - FGM) - VOP*0.44*(0.44 + 0.56*DRBP)*(FTA - FTM)"
       " + VOP*(1 - DRBP)*(REB - OREB) + VOP*DRBP*OREB + VOP*STL + VOP*DRBP*BLK"
       " - PF*((LG_FTM/LG_PF) - 0.44*(LG_FTA/LG_PF)*VOP))",
       "PER step: unadjusted PER, per minute.", unit="number", kind="step", level="player",
       citation=BBR_PER),
    _f("APER", "(LG_PACE / TEAM_PACE) * UPER",
       "PER step: uPER adjusted to league pace.", unit="number", kind="step", level="player",
       citation=BBR_PER),
    _f("PER", "APER * 15 / LG_APER",
       "Player efficiency rating (Hollinger): per-minute production, pace-adjusted, league "
       "average 15.", unit="number", level="player",
       aliases=("per", "player_efficiency_rating"), citation=BBR_PER),
]

_PIE = [
    _f("PIE_NUM",
       "PTS + FGM + FTM - FGA - FTA + DREB + 0.5*OREB + AST + STL + 0.5*BLK - PF - TOV",
       "PIE step: the entity's own contribution.", unit="number", kind="step", citation=NBA),
    _f("GAME_PIE_NUM",
       "(TEAM_PTS + OPP_PTS) + (TEAM_FGM + OPP_FGM) + (TEAM_FTM + OPP_FTM)"
       " - (TEAM_FGA + OPP_FGA) - (TEAM_FTA + OPP_FTA) + (TEAM_DREB + OPP_DREB)"
       " + 0.5*(TEAM_OREB + OPP_OREB) + (TEAM_AST + OPP_AST) + (TEAM_STL + OPP_STL)"
       " + 0.5*(TEAM_BLK + OPP_BLK) - (TEAM_PF + OPP_PF) - (TEAM_TOV + OPP_TOV)",
       "PIE step: the same sum over both teams' totals.", unit="number", kind="step",
       citation=NBA),
    _f("PIE", "PIE_NUM / GAME_PIE_NUM",
       "Player impact estimate (NBA.com): share of the game's total box-score events.",
       aliases=("pie", "player_impact_estimate"), citation=NBA),
]

_PER36 = [
    _f(f"{stat}_PER36", f"36*{stat} / MIN", f"{stat} per 36 minutes.", unit="number",
       aliases=(f"{stat.lower()}/36",), citation=BBR)
    for stat in COUNTING_STATS if stat != "MIN"
]

# Basketball-Reference's "per 100 team possessions": the team's possessions times the
# player's share of the team's minutes (five players on the floor).
_PER100 = [
    _f("ON_COURT_POSS", "TEAM_POSS * MIN / (TEAM_MIN/5)",
       "Team possessions while the player was on the floor, from his share of the team's "
       "minutes.", unit="number", level="player", kind="step", citation=BBR),
    *(_f(f"{stat}_PER100", f"100*{stat} / ON_COURT_POSS",
         f"{stat} per 100 team possessions on the floor.", unit="number", level="player",
         aliases=(f"{stat.lower()}/100",), citation=BBR)
      for stat in COUNTING_STATS if stat != "MIN"),
]

BUILTINS: tuple[Formula, ...] = (*_SHOOTING, *_BOX, *_TEAM_SHARE, *_CONTEXT, *_PER, *_PIE,
                                 *_PER36, *_PER100, *COMPOSITE)

CONTEXT_STEPS: tuple[ContextStep, ...] = (
    ContextStep(
        name="LG_APER", formula="APER", scope="league", how="weighted_mean", weight="MIN",
        description="The league's minutes-weighted mean of aPER (PER scales it to 15).",
        citation=BBR_PER),
    *COMPOSITE_STEPS,
)
