"""Replaying recorded and simulated games as live feeds."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from courtside.model import ConfigError, DataError
from courtside.sources.playbyplay import derive_boxscore
from courtside.sources.replay import ReplaySource, load_json, real_gap_seconds

OT_GAME = "0022400740"


@pytest.fixture(scope="module")
def ot_files(shared_data: Path) -> tuple[Path, Path]:
    folder = shared_data / "nba-live" / "2024-25"
    return folder / f"playbyplay_{OT_GAME}.json", folder / f"boxscore_{OT_GAME}.json"


async def _until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Poll ``condition`` on the loop until it holds (no fixed sleep: the machine may be busy)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


def _tiny_game(gap: float, count: int) -> dict:
    """A hand-made play-by-play: ``count`` free throws ``gap`` seconds apart (timeActual)."""
    actions = [{"actionNumber": 1, "orderNumber": 10000, "period": 1, "clock": "PT12M00.00S",
                "actionType": "period", "subType": "start", "personId": 0, "qualifiers": [],
                "timeActual": "2025-01-01T00:00:00.0Z"}]
    for i in range(count):
        actions.append({
            "actionNumber": i + 2, "orderNumber": (i + 2) * 10000, "period": 1,
            "clock": "PT11M00.00S", "actionType": "freethrow", "subType": "1 of 1",
            "teamId": 10 if i % 2 else 20, "personId": 1 if i % 2 else 2, "qualifiers": [],
            "shotResult": "Made", "scoreHome": "0", "scoreAway": "0",
            "timeActual": f"2025-01-01T00:00:{(i + 1) * gap:04.1f}Z"})
    # scoring by both teams tells home from away: team 20 scores first, home
    for a in actions[1:]:
        a["scoreHome"], a["scoreAway"] = ("1", "0") if a["teamId"] == 20 else ("1", "1")
    return {"game": {"gameId": "0000000001", "actions": actions}}


async def test_full_speed_replay_of_the_overtime_game(ot_files) -> None:
    pbp, box = (load_json(p) for p in ot_files)
    events = [e async for e in ReplaySource(pbp, box, speed=0)]
    assert len(events) == len(pbp["game"]["actions"]) + 1
    statuses = [e.snapshot.status for e in events]
    assert statuses[0] == 1 and statuses[-1] == 3 and set(statuses[1:-1]) == {2}
    periods = [e.snapshot.period for e in events]
    assert periods == sorted(periods) and periods[-1] == 5
    assert [e.index for e in events] == list(range(len(events)))
    assert events[0].action is None and len(events[0].changed) == len(events[0].snapshot.players) + 2
    final = events[-1].snapshot
    assert final.source == "replay" and final.fetched_at is not None
    expected = derive_boxscore(pbp, box)
    assert {p.id: p.stats for p in final.players} == {p.id: p.stats for p in expected.players}
    assert [t.stats["PTS"] for t in final.teams] == [t.stats["PTS"] for t in expected.teams]
    # the feed's own data time travels with every snapshot
    assert events[-1].snapshot.data_time.isoformat().startswith("2025-02-08")


async def test_replay_paces_by_time_actual() -> None:
    doc = _tiny_game(gap=2.0, count=5)  # 10 s of game, at 50x: 0.2 s
    start = time.perf_counter()
    events = [e async for e in ReplaySource(doc, speed=50)]
    elapsed = time.perf_counter() - start
    assert len(events) == 7
    assert 0.18 <= elapsed < 2.0
    start = time.perf_counter()
    _ = [e async for e in ReplaySource(doc, speed=0)]
    assert time.perf_counter() - start < 0.15


def test_real_gap_from_the_clock_without_time_actual() -> None:
    a = {"period": 1, "clock": "PT00M10.00S"}
    assert real_gap_seconds(a, {"period": 1, "clock": "PT00M04.50S"}) == pytest.approx(5.5)
    # across an overtime boundary: 10 s of period 4 then 60 s of the 5-minute period 5
    assert real_gap_seconds({"period": 4, "clock": "PT00M10.00S"},
                            {"period": 5, "clock": "PT04M00.00S"}) == pytest.approx(70)


async def test_cancelling_leaves_no_task(ot_files) -> None:
    source = ReplaySource.from_files(*ot_files, speed=1.0)  # real time: minutes between events
    seen: list[int] = []

    async def consume() -> None:
        async for event in source:
            seen.append(event.index)

    task = asyncio.create_task(consume())
    await _until(lambda: seen)  # the first event, then minutes of real-time pause
    assert seen[:1] == [0]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_stop_ends_a_long_pause_at_once(ot_files) -> None:
    source = ReplaySource.from_files(*ot_files, speed=1.0)
    got = []

    async def consume() -> None:
        async for event in source:
            got.append(event)

    task = asyncio.create_task(consume())
    await _until(lambda: got)  # the pre-game record is out: the source now waits
    start = time.perf_counter()
    source.stop()
    await asyncio.wait_for(task, 1.0)
    assert time.perf_counter() - start < 0.5
    assert len(got) <= 2  # the pre-game record and at most the opening action
    with pytest.raises(ConfigError, match="once"):
        async for _ in source:
            pass
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_breaking_out_early(ot_files) -> None:
    source = ReplaySource.from_files(*ot_files, speed=0)
    async for event in source:
        if event.snapshot.period == 2:
            break
    snap = source.snapshot()
    assert snap.period == 2 and snap.status == 2
    home, away = snap.teams
    assert (home.stats["PTS"], away.stats["PTS"]) == (int(event.action["scoreHome"]),
                                                      int(event.action["scoreAway"]))


async def test_simulated_replay() -> None:
    events = [e async for e in ReplaySource.simulated(3, speed=0)]
    assert events[0].snapshot.status == 1 and events[-1].snapshot.status == 3
    assert events[-1].snapshot.game_id == "0099000003"


def test_bad_options_and_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="speed"):
        ReplaySource(_tiny_game(1, 2), speed=-1)
    with pytest.raises(DataError, match="no such file"):
        ReplaySource.from_files(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"game": {"actions": [')
    with pytest.raises(DataError, match=r"broken\.json: not a readable JSON"):
        ReplaySource.from_files(broken)
