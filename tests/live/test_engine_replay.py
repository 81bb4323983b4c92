"""The live engine on a real game (GSW at BKN, 2020-12-22) replayed event by event.

Checks: only formulas whose inputs changed are recomputed; final values equal a from-scratch
computation and ``courtside.compute`` on the final box score; every topic's seq has no gap.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

import courtside
from courtside.formulas.catalog import default_catalog
from courtside.live.bus import MemoryBus
from courtside.live.engine import LiveEngine
from courtside.live.formulaset import live_formulas
from courtside.live.league import load_league_context
from courtside.model import GameSnapshot, StatLine
from courtside.sources.livedata import parse_boxscore
from courtside.sources.playbyplay import builder_for

GAME = "0022000001"


@pytest.fixture(scope="module")
def docs(shared_data: Path) -> tuple[dict, dict]:
    folder = shared_data / "nba-live"
    return (json.loads((folder / f"playbyplay_{GAME}.json").read_text()),
            json.loads((folder / f"boxscore_{GAME}.json").read_text()))


@pytest.fixture(scope="module")
def league() -> dict[str, float]:
    return load_league_context()


def _engine(league: dict[str, float]) -> tuple[LiveEngine, MemoryBus]:
    bus = MemoryBus(history=100_000)
    return LiveEngine(bus, live_formulas(default_catalog(), provided=league), league), bus


def _made_free_throw_with_stopped_clock(actions: list) -> int:
    """Index of a made free throw whose clock equals the previous action's."""
    for i, action in enumerate(actions):
        if (action.get("actionType") == "freethrow" and action.get("shotResult") == "Made"
                and i > 100 and action.get("clock") == actions[i - 1].get("clock")
                and action.get("period") == actions[i - 1].get("period")):
            return i
    raise AssertionError("the game has no made free throw with a stopped clock")


async def test_a_made_free_throw_recomputes_only_what_reads_its_inputs(docs, league) -> None:
    pbp, box = docs
    engine, _ = _engine(league)
    game_id, actions = engine.open_playbyplay(pbp, box)
    at = _made_free_throw_with_stopped_clock(actions)
    for action in actions[:at]:
        await engine.apply_action(game_id, action)
    state = engine.game(game_id)
    shooter = str(actions[at]["personId"])
    team = str(actions[at]["teamId"])
    before = {k: dict(e.inputs) for k, e in state.entities.items()}

    updates = await engine.apply_action(game_id, actions[at])
    recomputed = set(state.last_recomputed)

    # What changed, read independently of the engine's own diff: the box score lines.
    changed_names: dict[str, set[str]] = {}
    for (kind, ident), e in state.entities.items():
        if kind == "game":
            continue
        old = before.get((kind, ident), {})
        changed_names[f"{kind}:{ident}"] = {n for n, v in e.inputs.items() if old.get(n) != v}
    assert changed_names[f"player:{shooter}"] >= {"FTM", "FTA", "PTS"}
    assert "MIN" not in changed_names[f"player:{shooter}"]  # the clock did not move
    catalog = default_catalog()
    expected = set()
    for f in engine.formulas.by_id.values():
        for key, names in changed_names.items():
            if key.split(":")[0] in f.kinds and f.compiled.inputs & names:
                expected.add((key, f.id))
    assert recomputed == expected

    # Concretely: the shooter's FT-dependent formulas, teammates' usage (TEAM_FTA), and no
    # unrelated shooting formula of anybody else.
    assert {(f"player:{shooter}", fid) for fid in ("FT_PCT", "TS_PCT", "GAME_SCORE", "PER",
                                                   "USG_PCT")} <= recomputed
    teammates = [ident for (kind, ident), e in state.entities.items()
                 if kind == "player" and e.team_id == team and ident != shooter]
    opponents = [ident for (kind, ident), e in state.entities.items()
                 if kind == "player" and e.team_id != team]
    assert teammates and opponents
    for pid in teammates:
        assert (f"player:{pid}", "USG_PCT") in recomputed
        for fid in ("FG_PCT", "FT_PCT", "TS_PCT", "EFG_PCT", "FG3_PCT"):
            assert (f"player:{pid}", fid) not in recomputed
    for pid in opponents:
        for fid in ("FG_PCT", "FT_PCT", "TS_PCT", "USG_PCT", "AST_PCT"):
            assert (f"player:{pid}", fid) not in recomputed
    total = sum(len(engine.formulas.for_kind(k.split(":")[0])) for k in changed_names)
    assert len(recomputed) < total / 3
    assert catalog.get("FT_PCT").id == "FT_PCT"

    # One update per changed entity, holding only changed values.
    keys = [(u.kind, u.id) for u in updates]
    assert len(keys) == len(set(keys))
    shooter_update = next(u for u in updates if u.id == shooter)
    assert {"FTM", "FTA", "PTS", "FT_PCT"} <= set(shooter_update.values)
    assert "FGA" not in shooter_update.values and "FG_PCT" not in shooter_update.values


async def test_replay_ends_equal_to_compute_and_topics_have_no_gaps(docs, league) -> None:
    pbp, box = docs
    engine, bus = _engine(league)
    subs = {t: bus.subscribe(t, maxsize=100_000) for t in
            (f"game:{GAME}", "scoreboard", "player:201939", "team:1610612744")}
    game_id, actions = engine.open_playbyplay(pbp, box)
    for action in actions:
        await engine.apply_action(game_id, action)
    state = engine.game(game_id)
    assert state.status == 3 and state.summary()["home_pts"] == 125.0
    assert state.summary()["away_pts"] == 99.0

    # (c) seq without gaps, on every topic, and the game topic carries every update.
    for topic, sub in subs.items():
        seqs = [sub.get_nowait()[0] for _ in range(sub.qsize())]
        assert seqs == list(range(1, len(seqs) + 1)), topic
        assert sub.dropped == 0
    assert (await bus.latest(f"game:{GAME}")).seq == engine.updates_published

    # The merged stream equals the engine's state: what a subscriber rebuilds is right.
    merged = await bus.latest(f"game:{GAME}")
    for (kind, ident), e in state.entities.items():
        assert merged.entities[f"{kind}:{ident}"]["values"] == e.values

    # Incremental == from scratch: the final box score applied once to a fresh engine.
    builder, replayed = builder_for(pbp, box)
    for action in replayed:
        builder.apply(action)
    fresh, _ = _engine(league)
    await fresh.apply_snapshot(builder.snapshot())
    for key, e in state.entities.items():
        assert fresh.game(game_id).entities[key].values == e.values, key

    # (b) The engine on the NBA's final box score equals courtside.compute on that file.
    official, _ = _engine(league)
    await official.apply_snapshot(parse_boxscore(box))
    ids = [f.id for f in official.formulas.published("player")]
    frame = courtside.compute(box, ids, preset="nba-live", context=league)
    rows = {str(r["PLAYER_ID"]): r for r in frame.iter_rows(named=True)}
    checked = 0
    for (kind, ident), e in official.game(game_id).entities.items():
        if kind != "player":
            continue
        for fid in ids:
            assert e.values[fid] == rows[ident][fid], (ident, fid)
            checked += 1
    assert checked >= 20 * len(ids)

    # And the replayed game agrees with the official box score on every minute-free value.
    by_id = official.formulas.by_id

    def reads(fid: str) -> set[str]:  # every box score name a formula reads, through its steps
        names = set()
        for name in by_id[fid].compiled.inputs:
            names |= reads(name) if name in by_id else {name}
        return names

    minute_free = [f.id for f in official.formulas.published("player")
                   if not reads(f.id) & {"MIN", "TEAM_MIN", "OPP_MIN"}]
    assert "PER" not in minute_free and "USG_PCT" not in minute_free
    assert "TS_PCT" in minute_free and "PIE" in minute_free
    for (kind, ident), e in official.game(game_id).entities.items():
        if kind == "player" and ("player", ident) in state.entities:
            for fid in minute_free:
                assert state.entities[("player", ident)].values[fid] == e.values[fid]


def _small_game(game_id: str) -> GameSnapshot:
    teams = [StatLine("team", tid, tid, tid, {"PTS": 10.0, "FGA": 9.0, "FTA": 2.0})
             for tid in ("1", "2")]
    players = [StatLine("player", f"{game_id}-{tid}", tid, "P",
                        {"PTS": 5.0, "FGM": 2.0, "FG3M": 1.0, "FGA": 4.0, "FTA": 1.0,
                         "MIN": 10.0})
               for tid in ("1", "2")]
    return GameSnapshot(game_id=game_id, status=2, period=1, clock="PT10M00.00S",
                        home_team_id="1", away_team_id="2", teams=teams, players=players)


async def test_redefining_formulas_while_a_new_game_arrives(league) -> None:
    """set_formulas waits on each game's lock; a game that starts meanwhile must neither
    break the loop over the games nor miss the new formulas."""
    catalog = default_catalog()
    engine = LiveEngine(MemoryBus(), live_formulas(catalog, provided=league, only=["TS_PCT"]),
                        league)
    await engine.apply_snapshot(_small_game("g1"))
    lock = engine._lock("g1")
    await lock.acquire()  # an update of g1 in progress
    redefine = asyncio.create_task(engine.set_formulas(
        live_formulas(catalog, provided=league, only=["TS_PCT", "EFG_PCT"])))
    await asyncio.sleep(0.01)
    assert not redefine.done()  # it waits on g1's lock (no thread involved: one loop turn)
    await engine.apply_snapshot(_small_game("g2"))  # a new game while set_formulas waits
    lock.release()
    await asyncio.wait_for(redefine, 5)
    for game in ("g1", "g2"):
        values = engine.game(game).entity_values("player", f"{game}-1")
        assert values is not None
        # by hand: eFG% = (2 + 0.5 * 1) / 4, TS% = 5 / (2 * (4 + 0.44 * 1))
        assert values["EFG_PCT"] == pytest.approx(0.625)
        assert values["TS_PCT"] == pytest.approx(5 / 8.88)
