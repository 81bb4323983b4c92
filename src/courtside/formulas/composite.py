"""Composite metrics: possessions and pace, team ratings, four factors, Oliver's individual
ratings, Win Shares, Box Plus/Minus 2.0 and VORP, as catalog definitions.

Every multi-step metric is a chain of named formulas in the formula language, compiled by the
same compiler as the rest (scalar and Polars forms). The two parts of BPM that are not an
expression over one row are context steps over the team's rows (:class:`ContextStep`, scope
``team``), evaluated by :mod:`courtside.formulas.context` like PER's league aPER:

- the recentring of the estimated position and offensive role: each is clamped to [1, 5] and
  shifted so that the team's minutes-weighted mean is 3.0; like Myers' spreadsheet, the shift
  is applied three times (``BPM_POS_AVG1..3``, ``BPM_ROLE_AVG1..3``), each pass measuring the
  mean left after clamping;
- the team adjustment: the team's minutes-share-weighted sum of raw BPM (``TEAM_RAW_BPM``)
  is compared with the team's adjusted net rating and the gap spread evenly over its five
  players on the floor, so that sum(BPM x MIN_SHARE) equals the adjusted rating.

Sources: Basketball-Reference "Calculating Individual Offensive and Defensive Ratings"
(basketball-reference.com/about/ratings.html), "Calculating Win Shares" (about/ws.html),
"About Box Plus/Minus (BPM)" version 2.0 (about/bpm2.html, Daniel Myers, 2020); Dean Oliver,
*Basketball on Paper* (2004).
"""

from __future__ import annotations

from courtside.formulas.catalog import ContextStep, Formula

__all__ = ["BPM_COEFFICIENTS", "COMPOSITE", "COMPOSITE_STEPS", "DEVIATIONS"]

BBR_RATINGS = ("Basketball-Reference, Calculating Individual Offensive and Defensive Ratings "
               "(basketball-reference.com/about/ratings.html); Dean Oliver, Basketball on Paper "
               "(2004)")
BBR_WS = "Basketball-Reference, Calculating Win Shares (basketball-reference.com/about/ws.html)"
BBR_BPM = ("Basketball-Reference, About Box Plus/Minus 2.0 (basketball-reference.com/about/"
           "bpm2.html), Daniel Myers (2020)")
BBR_GLOSSARY = "Basketball-Reference glossary (basketball-reference.com/about/glossary.html)"
OLIVER = "Dean Oliver, Basketball on Paper (2004), the four factors"


def _f(id: str, expression: str, description: str, *, unit: str = "number",
       citation: str = BBR_RATINGS, level: str = "player", kind: str = "step",
       aliases: tuple[str, ...] = ()) -> Formula:
    return Formula(id=id, expression=" ".join(expression.split()), description=description,
                   aliases=aliases, unit=unit, citation=citation, level=level, kind=kind)


# --------------------------------------------------------------------------- team ratings

_TEAM = [
    _f("POSS", "TEAM_POSS",
       "Team possessions (Basketball-Reference's estimate averaging both sides' possessions).",
       unit="count", level="team", kind="stat", citation=BBR_GLOSSARY,
       aliases=("possessions",)),
    _f("PACE", "TEAM_PACE", "Pace: team possessions per 48 minutes.", level="team",
       kind="stat", citation=BBR_GLOSSARY, aliases=("pace_factor",)),
    _f("TEAM_ORTG", "100*TEAM_PTS / TEAM_POSS",
       "Team offensive rating: points scored per 100 possessions.", level="team", kind="stat",
       citation=BBR_GLOSSARY, aliases=("team_offensive_rating",)),
    _f("TEAM_DRTG", "100*OPP_PTS / TEAM_POSS",
       "Team defensive rating: points allowed per 100 possessions.", level="team",
       kind="stat", citation=BBR_GLOSSARY, aliases=("team_defensive_rating",)),
    _f("NET_RTG", "TEAM_ORTG - TEAM_DRTG",
       "Net rating: points scored minus allowed per 100 possessions.", level="team",
       kind="stat", citation=BBR_GLOSSARY, aliases=("nrtg", "net_rating")),
    _f("FF_EFG_PCT", "(TEAM_FGM + 0.5*TEAM_FG3M) / TEAM_FGA",
       "Four factors, shooting: the team's effective field goal percentage.", unit="fraction",
       level="team", kind="stat", citation=OLIVER),
    _f("FF_TOV_PCT", "TEAM_TOV / (TEAM_FGA + 0.44*TEAM_FTA + TEAM_TOV)",
       "Four factors, turnovers: the team's turnovers per play (a fraction).",
       unit="fraction", level="team", kind="stat", citation=OLIVER),
    _f("FF_ORB_PCT", "TEAM_OREB / (TEAM_OREB + OPP_DREB)",
       "Four factors, offensive rebounding: share of the team's misses it rebounds.",
       unit="fraction", level="team", kind="stat", citation=OLIVER),
    _f("FF_FT_RATE", "TEAM_FTM / TEAM_FGA",
       "Four factors, free throws: free throws made per field goal attempt.",
       unit="fraction", level="team", kind="stat", citation=OLIVER),
    _f("FOUR_FACTORS",
       "0.40*FF_EFG_PCT - 0.25*FF_TOV_PCT + 0.20*FF_ORB_PCT + 0.15*FF_FT_RATE",
       "Oliver's four factors weighted 0.40/0.25/0.20/0.15 into one offensive score "
       "(turnovers count against).", unit="score", level="team", kind="stat",
       citation=OLIVER, aliases=("four_factor_score",)),
]

# --------------------------------------------------------------------------- Oliver offense

_OFFENSE = [
    _f("MIN_SHARE", "MIN / (TEAM_MIN/5)",
       "Share of the team's minutes played: 1.0 means on the floor the whole time.",
       unit="fraction", citation=BBR_GLOSSARY),
    _f("QAST",
       "MIN_SHARE*(1.14*((TEAM_AST - AST)/TEAM_FGM)) + (((TEAM_AST/TEAM_MIN)*MIN*5 - AST)"
       " / ((TEAM_FGM/TEAM_MIN)*MIN*5 - FGM))*(1 - MIN_SHARE)",
       "ORtg step: estimated share of the player's field goals that were assisted."),
    _f("FG_PART", "FGM*(1 - 0.5*((PTS - FTM)/(2*FGA))*QAST) if FGA > 0 else 0",
       "ORtg step: scoring possessions from the player's own field goals."),
    _f("AST_PART",
       "0.5*(((TEAM_PTS - TEAM_FTM) - (PTS - FTM)) / (2*(TEAM_FGA - FGA)))*AST",
       "ORtg step: scoring possessions credited for assists."),
    _f("FT_MISS", "1 - FTM/FTA",
       "ORtg step: the share of free throws missed.", unit="fraction"),
    _f("FT_PART", "(1 - FT_MISS*FT_MISS)*0.4*FTA if FTA > 0 else 0",
       "ORtg step: scoring possessions from free throws."),
    _f("TEAM_FT_MISS", "1 - TEAM_FTM/TEAM_FTA",
       "ORtg step: the share of the team's free throws missed.", unit="fraction", level="any"),
    _f("TEAM_SCORING_POSS",
       "TEAM_FGM + ((1 - TEAM_FT_MISS*TEAM_FT_MISS)*TEAM_FTA*0.4 if TEAM_FTA > 0 else 0)",
       "ORtg step: the team's scoring possessions.", unit="count", level="any"),
    _f("TEAM_ORB_PCT", "TEAM_OREB / (TEAM_OREB + (OPP_REB - OPP_OREB))",
       "ORtg step: the team's offensive rebound share.", unit="fraction", level="any"),
    _f("TEAM_PLAY_PCT", "TEAM_SCORING_POSS / (TEAM_FGA + TEAM_FTA*0.4 + TEAM_TOV)",
       "ORtg step: the share of the team's plays that score.", unit="fraction", level="any"),
    _f("TEAM_ORB_WEIGHT",
       "((1 - TEAM_ORB_PCT)*TEAM_PLAY_PCT) / ((1 - TEAM_ORB_PCT)*TEAM_PLAY_PCT"
       " + TEAM_ORB_PCT*(1 - TEAM_PLAY_PCT))",
       "ORtg step: the weight of an offensive rebound.", unit="fraction", level="any"),
    _f("ORB_PART", "OREB*TEAM_ORB_WEIGHT*TEAM_PLAY_PCT",
       "ORtg step: scoring possessions credited for offensive rebounds."),
    _f("SCPOSS",
       "(FG_PART + AST_PART + FT_PART)*(1 - (TEAM_OREB/TEAM_SCORING_POSS)*TEAM_ORB_WEIGHT"
       "*TEAM_PLAY_PCT) + ORB_PART",
       "Scoring possessions (Oliver): possessions the player ended with points.",
       unit="count", kind="stat", aliases=("scoring_possessions",)),
    _f("FGXPOSS", "(FGA - FGM)*(1 - 1.07*TEAM_ORB_PCT)",
       "ORtg step: possessions lost on missed field goals not rebounded by the team.",
       unit="count"),
    _f("FTXPOSS", "FT_MISS*FT_MISS*0.4*FTA if FTA > 0 else 0",
       "ORtg step: possessions lost on missed free throws.", unit="count"),
    _f("TOTPOSS", "SCPOSS + FGXPOSS + FTXPOSS + TOV",
       "Total possessions used by the player (Oliver).", unit="count", kind="stat",
       aliases=("total_possessions",)),
    _f("PPROD_FG_PART",
       "2*(FGM + 0.5*FG3M)*(1 - 0.5*((PTS - FTM)/(2*FGA))*QAST) if FGA > 0 else 0",
       "PProd step: points produced by the player's field goals."),
    _f("PPROD_AST_PART",
       "2*((TEAM_FGM - FGM + 0.5*(TEAM_FG3M - FG3M))/(TEAM_FGM - FGM))*0.5"
       "*(((TEAM_PTS - TEAM_FTM) - (PTS - FTM))/(2*(TEAM_FGA - FGA)))*AST",
       "PProd step: points produced by assists."),
    _f("PPROD_ORB_PART",
       "OREB*TEAM_ORB_WEIGHT*TEAM_PLAY_PCT*(TEAM_PTS/TEAM_SCORING_POSS)",
       "PProd step: points produced by offensive rebounds."),
    _f("PPROD",
       "(PPROD_FG_PART + PPROD_AST_PART + FTM)*(1 - (TEAM_OREB/TEAM_SCORING_POSS)"
       "*TEAM_ORB_WEIGHT*TEAM_PLAY_PCT) + PPROD_ORB_PART",
       "Points produced (Oliver).", unit="count", kind="stat",
       aliases=("points_produced",)),
    _f("ORTG", "100*PPROD / TOTPOSS",
       "Individual offensive rating (Oliver): points produced per 100 possessions used.",
       kind="stat", aliases=("offensive_rating", "ortg_player")),
    _f("FLOOR_PCT", "SCPOSS / TOTPOSS",
       "Floor percentage (Oliver): share of the player's possessions that score.",
       unit="fraction", kind="stat", aliases=("floor%",)),
]

# --------------------------------------------------------------------------- Oliver defense

_DEFENSE = [
    _f("OPP_FT_MISS", "1 - OPP_FTM/OPP_FTA",
       "DRtg step: the share of the opponents' free throws missed (squares are written as "
       "products: Polars and the closure then agree to the last bit).", unit="fraction",
       level="any"),
    _f("DOR_PCT", "OPP_OREB / (OPP_OREB + TEAM_DREB)",
       "DRtg step: the opponents' offensive rebound share.", unit="fraction", level="any"),
    _f("DFG_PCT", "OPP_FGM / OPP_FGA",
       "DRtg step: the opponents' field goal percentage.", unit="fraction", level="any"),
    _f("FMWT",
       "(DFG_PCT*(1 - DOR_PCT)) / (DFG_PCT*(1 - DOR_PCT) + (1 - DFG_PCT)*DOR_PCT)",
       "DRtg step: the weight of a forced miss.", unit="fraction", level="any"),
    _f("STOPS1", "STL + BLK*FMWT*(1 - 1.07*DOR_PCT) + DREB*(1 - FMWT)",
       "DRtg step: stops from the player's own steals, blocks and defensive rebounds.",
       unit="count"),
    _f("STOPS2",
       "(((OPP_FGA - OPP_FGM - TEAM_BLK)/TEAM_MIN)*FMWT*(1 - 1.07*DOR_PCT)"
       " + ((OPP_TOV - TEAM_STL)/TEAM_MIN))*MIN"
       " + ((PF/TEAM_PF)*0.4*OPP_FTA*OPP_FT_MISS*OPP_FT_MISS if OPP_FTA > 0 else 0)",
       "DRtg step: the player's share of the team's other stops (forced misses, turnovers, "
       "missed free throws).", unit="count"),
    _f("STOPS", "STOPS1 + STOPS2", "Stops (Oliver): opponent possessions the player ended.",
       unit="count", kind="stat", aliases=("defensive_stops",)),
    _f("STOP_PCT", "(STOPS*OPP_MIN) / (TEAM_POSS*MIN)",
       "Stop percentage (Oliver): share of opponent possessions faced that the player stopped.",
       unit="fraction", kind="stat", aliases=("stop%",)),
    _f("D_PTS_PER_SCPOSS",
       "OPP_PTS / (OPP_FGM + ((1 - OPP_FT_MISS*OPP_FT_MISS)*OPP_FTA*0.4"
       " if OPP_FTA > 0 else 0))",
       "DRtg step: the opponents' points per scoring possession.", level="any"),
    _f("DRTG",
       "TEAM_DRTG + 0.2*(100*D_PTS_PER_SCPOSS*(1 - STOP_PCT) - TEAM_DRTG)",
       "Individual defensive rating (Oliver): points allowed per 100 possessions, the team's "
       "rating moved a fifth of the way to the player's own stops.", kind="stat",
       aliases=("defensive_rating", "drtg_player")),
]

# --------------------------------------------------------------------------- Win Shares

_WIN_SHARES = [
    _f("TEAM_GP", "TEAM_MIN / 240",
       "The team's games played. Derived as team minutes / 240 when not supplied, which "
       "counts overtime as extra game; the game-log context (`courtside context`) supplies "
       "the real count.", unit="count", level="any", kind="context", citation=BBR_WS),
    _f("LG_GP", "LG_MIN / 240",
       "The league's team-games (each game counted once per side). Derived as league minutes "
       "/ 240 when not supplied (overtime counts as extra game); the game-log context "
       "supplies the real count.", unit="count", level="any", kind="context",
       citation=BBR_WS),
    _f("LG_PTS_PER_POSS", "LG_PTS / LG_POSS", "The league's points per possession.",
       level="any", citation=BBR_WS),
    _f("LG_ORTG", "100*LG_PTS_PER_POSS",
       "The league's offensive rating: points per 100 possessions.", level="any",
       kind="stat", citation=BBR_GLOSSARY, aliases=("league_ortg",)),
    _f("MARGINAL_PTS_PER_WIN", "0.32*(LG_PTS/LG_GP)*(TEAM_PACE/LG_PACE)",
       "Win Shares step: marginal points per win for the team's pace.", level="any",
       citation=BBR_WS),
    _f("MARGINAL_OFFENSE", "PPROD - 0.92*LG_PTS_PER_POSS*TOTPOSS",
       "Win Shares step: points produced above 92% of the league's rate.", citation=BBR_WS),
    _f("OWS", "MARGINAL_OFFENSE / MARGINAL_PTS_PER_WIN",
       "Offensive win shares.", kind="stat", citation=BBR_WS,
       aliases=("offensive_win_shares",)),
    _f("MARGINAL_DEFENSE",
       "(MIN/TEAM_MIN)*OPP_POSS*(1.08*LG_PTS_PER_POSS - DRTG/100)",
       "Win Shares step: points saved below 108% of the league's rate, over the player's "
       "share of the team's defensive possessions.", citation=BBR_WS),
    _f("DWS", "MARGINAL_DEFENSE / MARGINAL_PTS_PER_WIN",
       "Defensive win shares.", kind="stat", citation=BBR_WS,
       aliases=("defensive_win_shares",)),
    _f("WS", "OWS + DWS", "Win shares: wins credited to the player.", kind="stat",
       citation=BBR_WS, aliases=("win_shares",)),
    _f("WS_48", "48*WS / MIN", "Win shares per 48 minutes (league average about 0.100).",
       kind="stat", citation=BBR_WS, aliases=("ws/48", "ws_per_48")),
]

# --------------------------------------------------------------------------- BPM 2.0

BPM_COEFFICIENTS: dict[str, dict[str, tuple[float, float]]] = {
    # stat -> (coefficient at position/role 1, at 5); FGA and FTA follow the offensive role,
    # the rest the position. BPM_ADJ_PTS is the team-context adjusted points.
    "BPM": {
        "BPM_ADJ_PTS": (0.860, 0.860), "FG3M": (0.389, 0.389), "AST": (0.580, 1.034),
        "TOV": (-0.964, -0.964), "OREB": (0.613, 0.181), "DREB": (0.116, 0.181),
        "STL": (1.369, 1.008), "BLK": (1.327, 0.703), "PF": (-0.367, -0.367),
        "FGA": (-0.560, -0.780), "FTA": (-0.246, -0.343),
    },
    "OBPM": {
        "BPM_ADJ_PTS": (0.605, 0.605), "FG3M": (0.477, 0.477), "AST": (0.476, 0.476),
        "TOV": (-0.579, -0.882), "OREB": (0.606, 0.422), "DREB": (-0.112, 0.103),
        "STL": (0.177, 0.294), "BLK": (0.725, 0.097), "PF": (-0.439, -0.439),
        "FGA": (-0.330, -0.472), "FTA": (-0.145, -0.208),
    },
}
_POSITION_CONSTANT = {"BPM": -0.818, "OBPM": -1.698}  # at position 1; 0 from position 3 up
_ROLE_SLOPE = {"BPM": 1.387, "OBPM": 0.430}  # -2.774 / +2.774 (OBPM -/+0.860) at role 1 / 5
_BY_ROLE = ("FGA", "FTA")


def _raw_bpm(kind: str) -> str:
    """Sum of coefficient x stat per 100 possessions; a coefficient that differs between
    position (or role) 1 and 5 is interpolated linearly."""
    text = ""
    for stat, (at1, at5) in BPM_COEFFICIENTS[kind].items():
        frac = "BPM_ROLE_FRAC" if stat in _BY_ROLE else "BPM_POS_FRAC"
        if at1 == at5:
            term = f"{abs(at1):.3f}*{stat}"
            sign = "-" if at1 < 0 else "+"
        else:
            step = at5 - at1
            term = (f"({at1:.3f} {'-' if step < 0 else '+'} {abs(step):.3f}*{frac})*{stat}")
            sign = "+"
        text = term if not text else f"{text} {sign} {term}"
        if text == term and sign == "-":
            text = f"-{term}"
    return (f"100*({text}) / BPM_POSS"
            f" - {abs(_POSITION_CONSTANT[kind]):.3f}*max(3 - BPM_POS, 0)/2"
            f" + {_ROLE_SLOPE[kind]:.3f}*(BPM_ROLE - 3)")


def _recentred(name: str, blend: str, label: str) -> tuple[list[Formula], list[ContextStep]]:
    """Clamp ``blend`` to [1, 5] and shift it three times towards a team mean of 3.0."""
    formulas, steps = [], []
    shift = ""
    for i in (1, 2, 3):
        trim = f"{name}_TRIM{i}"
        formulas.append(_f(trim, f"clip({blend}{shift}, 1, 5)",
                           f"BPM step: {label}, clamped to [1, 5], recentring pass {i}.",
                           citation=BBR_BPM))
        steps.append(ContextStep(
            name=f"{name}_AVG{i}", formula=trim, scope="team", how="weighted_mean",
            weight="MIN", citation=BBR_BPM,
            description=f"BPM context step: the team's minutes-weighted mean of {trim} "
                        f"(recentring pass {i} of 3 towards 3.0)."))
        shift += f" - ({name}_AVG{i} - 3)"
    formulas.append(_f(name, f"clip({blend}{shift}, 1, 5)",
                       f"BPM: {label}, clamped to [1, 5] and recentred so the team's "
                       "minutes-weighted mean is 3.0.", citation=BBR_BPM, kind="stat"))
    return formulas, steps


_POS_FORMULAS, _POS_STEPS = _recentred("BPM_POS", "BPM_POS_BLEND",
                                       "estimated position (1 = PG ... 5 = C)")
_ROLE_FORMULAS, _ROLE_STEPS = _recentred("BPM_ROLE", "BPM_ROLE_BLEND",
                                         "offensive role (1 = creator ... 5 = receiver)")

_BPM = [
    _f("POS_LISTED", "3",
       "The player's listed position as a number (PG 1, SG 2, SF 3, PF 4, C 5; 'PF-C' 4.5). "
       "Supply it as a column (the bbr preset maps Pos); unknown counts as 3.",
       level="player", kind="context", citation=BBR_BPM),
    _f("AVG_LEAD", "0.5*(TEAM_PTS - OPP_PTS) / TEAM_GP",
       "The team's average lead over the time played. Basketball-Reference measures it from "
       "play-by-play; when not supplied it is estimated as half the average final margin "
       "(a lead growing evenly from 0). See the BPM deviations.",
       level="any", kind="context", citation=BBR_BPM),
    _f("BPM_POSS", "MIN*TEAM_PACE/48",
       "BPM step: team possessions while the player was on the floor.", unit="count",
       citation=BBR_BPM),
    _f("TEAM_PTS_PER_TSA", "TEAM_PTS / (TEAM_FGA + 0.44*TEAM_FTA)",
       "BPM step: the team's points per true shooting attempt.", level="any",
       citation=BBR_BPM),
    _f("BPM_ADJ_PTS", "PTS + TSA*(1 - TEAM_PTS_PER_TSA)",
       "BPM step: points adjusted for team shooting, (PTS/TSA - team PTS/TSA + 1)*TSA.",
       citation=BBR_BPM),
    _f("BPM_THRESH_PTS", "PTS - TSA*(TEAM_PTS_PER_TSA - 0.33)",
       "BPM step: points above a threshold of the team's points per TSA minus 0.33.",
       citation=BBR_BPM),
    _f("BPM_POS_EST",
       "2.130 + (8.668*(REB/TEAM_REB) - 2.486*(STL/TEAM_STL) + 0.992*(PF/TEAM_PF)"
       " - 3.536*(AST/TEAM_AST) + 1.667*(BLK/TEAM_BLK)) / MIN_SHARE",
       "BPM step: position estimated from shares of team rebounds, steals, fouls, assists "
       "and blocks per share of minutes.", citation=BBR_BPM),
    _f("BPM_POS_BLEND", "(BPM_POS_EST*MIN + POS_LISTED*50) / (MIN + 50)",
       "BPM step: the estimated position blended with 50 minutes at the listed position.",
       citation=BBR_BPM),
    _f("BPM_ROLE_EST",
       "6.00 - (6.642*(AST/TEAM_AST) + 8.544*(BPM_THRESH_PTS/TEAM_THRESH_PTS)) / MIN_SHARE",
       "BPM step: offensive role estimated from shares of team assists and threshold points "
       "per share of minutes.", citation=BBR_BPM),
    _f("BPM_ROLE_BLEND", "(BPM_ROLE_EST*MIN + 4*50) / (MIN + 50)",
       "BPM step: the estimated role blended with 50 minutes at role 4.", citation=BBR_BPM),
    *_POS_FORMULAS,
    *_ROLE_FORMULAS,
    _f("BPM_POS_FRAC", "(BPM_POS - 1)/4",
       "BPM step: where the position sits between 1 and 5, for the coefficients.",
       unit="fraction", citation=BBR_BPM),
    _f("BPM_ROLE_FRAC", "(BPM_ROLE - 1)/4",
       "BPM step: where the role sits between 1 and 5, for the FGA and FTA coefficients.",
       unit="fraction", citation=BBR_BPM),
    _f("RAW_BPM", _raw_bpm("BPM"),
       "BPM step: the regression on per-100-possession stats, before the team adjustment.",
       citation=BBR_BPM),
    _f("RAW_OBPM", _raw_bpm("OBPM"),
       "BPM step: the offensive regression, before the team adjustment.", citation=BBR_BPM),
    _f("RAW_BPM_SHARE", "RAW_BPM*MIN_SHARE",
       "BPM step: raw BPM weighted by the share of minutes.", citation=BBR_BPM),
    _f("RAW_OBPM_SHARE", "RAW_OBPM*MIN_SHARE",
       "BPM step: raw OBPM weighted by the share of minutes.", citation=BBR_BPM),
    _f("BPM_TEAM_RATING", "NET_RTG + 0.35/2*AVG_LEAD",
       "BPM step: the team's net rating plus 0.35/2 of its average lead (teams ahead coast).",
       level="any", citation=BBR_BPM),
    _f("OBPM_TEAM_RATING", "TEAM_ORTG - LG_ORTG + 0.35/2*AVG_LEAD",
       "BPM step: the team's offensive rating relative to the league, plus the lead bonus.",
       level="any", citation=BBR_BPM),
    _f("BPM", "RAW_BPM + (BPM_TEAM_RATING - TEAM_RAW_BPM)/5",
       "Box Plus/Minus 2.0: points per 100 possessions above a league-average player, "
       "adjusted so the team's minutes-weighted sum equals its adjusted net rating.",
       kind="stat", citation=BBR_BPM, aliases=("box_plus_minus",)),
    _f("OBPM", "RAW_OBPM + (OBPM_TEAM_RATING - TEAM_RAW_OBPM)/5",
       "Offensive Box Plus/Minus 2.0.", kind="stat", citation=BBR_BPM,
       aliases=("offensive_box_plus_minus",)),
    _f("DBPM", "BPM - OBPM", "Defensive Box Plus/Minus 2.0: BPM minus OBPM.", kind="stat",
       citation=BBR_BPM, aliases=("defensive_box_plus_minus",)),
    _f("VORP", "(BPM + 2.0)*MIN_SHARE*TEAM_GP/82",
       "Value over replacement player: BPM above replacement (-2.0) times the share of team "
       "possessions played, scaled to an 82-game season.", kind="stat", citation=BBR_BPM,
       aliases=("value_over_replacement",)),
]

_BPM_STEPS = [
    ContextStep(name="TEAM_THRESH_PTS", formula="BPM_THRESH_PTS", scope="team", how="sum",
                citation=BBR_BPM,
                description="BPM context step: the team's threshold points, summed over its "
                            "players (the offensive role's denominator)."),
    *_POS_STEPS,
    *_ROLE_STEPS,
    ContextStep(name="TEAM_RAW_BPM", formula="RAW_BPM_SHARE", scope="team", how="sum",
                citation=BBR_BPM,
                description="BPM context step (team adjustment): the sum over the team's "
                            "players of raw BPM x share of minutes."),
    ContextStep(name="TEAM_RAW_OBPM", formula="RAW_OBPM_SHARE", scope="team", how="sum",
                citation=BBR_BPM,
                description="BPM context step (team adjustment): the sum over the team's "
                            "players of raw OBPM x share of minutes."),
]

COMPOSITE: tuple[Formula, ...] = (*_TEAM, *_OFFENSE, *_DEFENSE, *_WIN_SHARES, *_BPM)
COMPOSITE_STEPS: tuple[ContextStep, ...] = tuple(_BPM_STEPS)

_ROWS = "2018-19, the 381 player-team rows with at least 500 minutes"
_ZERO_ATTEMPTS = ("No attempts, no division: a field goal part with FGA = 0, or a free throw "
                  "part with FTA = 0 (the player's, the team's or the opponents'), is 0, where "
                  "the spec's text divides 0 by 0 (null). Basketball-Reference rates players "
                  "who took no free throws, so ORtg, DRtg and Win Shares stay defined.")
_LEAD = ("Basketball-Reference adds 0.35/2 x the team's average lead, measured from "
         "play-by-play, which box scores and game logs lack: AVG_LEAD is estimated as half the "
         "average final margin unless supplied (added, as Basketball-Reference does; the "
         "spec's text subtracts it, see BPM_TEAM_RATING). ")

DEVIATIONS: dict[str, str] = {
    "POSS": "2018-19 from the NBA game log: 29 of 30 teams' pace within 0.05 of "
            "Basketball-Reference; Boston's 0.45 high. Boston's player totals match the game "
            "log exactly, so the gap is in the team or opponent totals Basketball-Reference "
            "uses for Boston, which the test data does not show.",
    "PACE": "2018-19 from the NBA game log: 29 of 30 teams within 0.05 of Basketball-Reference "
            "(rounding), Boston 0.45 high (see POSS).",
    "TEAM_ORTG": "2018-19: 29 of 30 teams within 0.05 of Basketball-Reference, Boston 0.48 "
                 "low (see POSS).",
    "TEAM_DRTG": "2018-19: 29 of 30 teams within 0.05 of Basketball-Reference, Boston 0.52 "
                 "low (see POSS).",
    "OWS": f"{_ROWS}: mean absolute error 0.02, every row within 0.3 (max 0.05: rounding).",
    "DWS": f"{_ROWS}: mean absolute error 0.03, every row within 0.3 (max 0.20, a Boston "
           "player: see POSS).",
    "WS": f"{_ROWS}: mean absolute error 0.03, every row within 0.3 (max 0.18).",
    "BPM": f"{_ROWS}: mean absolute error 0.23, 99.7% within 1.0 (max 1.02). {_LEAD}"
           "With no lead correction at all (AVG_LEAD = 0) the error is 0.25, 99.5% within 1.0. "
           "Without listed positions (POS_LISTED = 3 for all) 0.23, 99.5% within 1.0.",
    "OBPM": f"{_ROWS}: mean absolute error 0.13, every row within 1.0 (max 0.58). {_LEAD}"
            "With AVG_LEAD = 0: 0.13, max 0.48.",
    "DBPM": f"{_ROWS}: mean absolute error 0.14, every row within 1.0 (max 0.61).",
    "VORP": f"{_ROWS}: mean absolute error 0.08, 99.2% within 0.3 (max 0.34). {_LEAD}"
            "With AVG_LEAD = 0: 0.08, 98.7% within 0.3.",
    "BPM_TEAM_RATING": "The lead bonus is added, as in Myers' BPM 2.0 spreadsheet that "
                       "Basketball-Reference uses (teams ahead coast, so their net rating "
                       "understates them); the project's spec text reads '-0.35/2 x average "
                       "lead'. Subtracting it instead moves BPM away from Basketball-Reference "
                       f"({_ROWS}: mean absolute error 0.28 against 0.23).",
    "OBPM_TEAM_RATING": "Not in the project's spec, which names only BPM's team adjustment; "
                        "from Myers' BPM 2.0: the team's ORtg minus the league's, plus the "
                        "same lead bonus as BPM_TEAM_RATING (added, not subtracted).",
    "FOUR_FACTORS": "The spec lists the factors and their weights only. Turnovers enter as a "
                    "fraction (FF_TOV_PCT, not the 0-100 TOV_PCT) so the four are on one "
                    "scale, and with a minus sign: more turnovers is worse.",
    "FF_TOV_PCT": "A fraction (0.124), unlike TOV_PCT (12.4): the four factors share one "
                  "scale.",
    **{fid: _ZERO_ATTEMPTS for fid in ("FG_PART", "PPROD_FG_PART", "FT_PART", "FTXPOSS",
                                       "TEAM_SCORING_POSS", "STOPS2", "D_PTS_PER_SCPOSS")},
    "ORTG": f"{_ROWS}: Basketball-Reference's player ORtg is not in the test data; the ORtg "
            "implied by its published OWS (and our TotPoss) is within 2 for at least 95% of "
            f"rows. {_ZERO_ATTEMPTS}",
    "DRTG": f"{_ROWS}: the DRtg implied by Basketball-Reference's published DWS is within 2 "
            f"for at least 95% of rows. {_ZERO_ATTEMPTS}",
}
"""Measured differences from Basketball-Reference, and deliberate departures from the text of
the project's formula spec (Basketball-Reference's practice), by formula id (shown in
docs/formulas.md; the 2018-19 tests check the BPM numbers stay the measured ones)."""
