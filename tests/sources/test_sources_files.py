"""FILE_SYSTEM source: formats, globs, change detection, bad files isolated."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest

from courtside.model import DataError
from courtside.sources.files import FileSystemSource

ROWS = [
    {"GAME_ID": "g1", "PLAYER_ID": 1, "Points": 20, "FGM": 8, "FGA": 15, "FG3M": 2,
     "FG3A": 5, "MIN": "34:30"},
    {"GAME_ID": "g1", "PLAYER_ID": 2, "Points": 11, "FGM": 4, "FGA": 9, "FG3M": 1,
     "FG3A": 3, "MIN": "20:00"},
]


def write_all(folder: Path) -> None:
    pl.DataFrame(ROWS).write_csv(folder / "a.csv")
    pl.DataFrame(ROWS).write_parquet(folder / "b.parquet")
    (folder / "c.json").write_text(json.dumps(ROWS))
    (folder / "d.ndjson").write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")


async def test_reads_every_format_and_maps_to_canonical(tmp_path):
    write_all(tmp_path)
    src = FileSystemSource("files", str(tmp_path), mapping={"Points": "PTS"})
    batch = await src.fetch()
    assert not batch.errors
    assert len(batch.rows) == 8
    by_file = {}
    for row in batch.rows:
        by_file.setdefault(row.key.split(":")[0], []).append(row)
    assert sorted(by_file) == ["a.csv", "b.parquet", "c.json", "d.ndjson"]
    for rows in by_file.values():
        first = next(r for r in rows if r.values["PLAYER_ID"] == 1)
        assert first.values["PTS"] == 20.0 and "Points" not in first.values
        assert first.values["MIN"] == pytest.approx(34.5)
        assert first.source == "files" and first.data_time is not None
    frame = batch.frame()
    assert frame.height == 8 and {"PTS", "_key", "_source", "_fetched_at"} <= set(frame.columns)


async def test_only_new_and_modified_files_are_read(tmp_path):
    write_all(tmp_path)
    src = FileSystemSource("files", str(tmp_path / "*.csv"))
    assert len((await src.fetch()).rows) == 2
    assert (await src.fetch()).rows == []  # nothing changed
    (tmp_path / "e.csv").write_text("GAME_ID,PLAYER_ID,PTS\ng2,3,7\n")
    again = await src.fetch()
    assert [r.values["PTS"] for r in again.rows] == [7.0]
    path = tmp_path / "a.csv"
    path.write_text("GAME_ID,PLAYER_ID,PTS\ng1,1,21\n")
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    changed = await src.fetch()
    assert [(r.key, r.values["PTS"]) for r in changed.rows] == [("a.csv:g1|1", 21.0)]


async def test_hash_detection_ignores_touch_and_sees_rewrites_with_old_mtime(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("GAME_ID,PTS\ng1,10\n")
    src = FileSystemSource("files", str(path), detect="hash")
    assert len((await src.fetch()).rows) == 1
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    assert (await src.fetch()).rows == []  # touched, same content
    stamp = path.stat().st_mtime_ns
    path.write_text("GAME_ID,PTS\ng1,12\n")
    os.utime(path, ns=(stamp, stamp))  # same mtime; a mtime check would miss it
    assert [r.values["PTS"] for r in (await src.fetch()).rows] == [12.0]


async def test_a_bad_file_is_reported_and_the_others_still_flow(tmp_path):
    (tmp_path / "good.csv").write_text("GAME_ID,PTS\ng1,10\n")
    (tmp_path / "bad.json").write_text('{"not": "rows"}')
    (tmp_path / "broken.json").write_text('[{"a": 1')
    batch = await FileSystemSource("files", str(tmp_path)).fetch()
    assert [r.values["PTS"] for r in batch.rows] == [10.0]
    assert "list of objects" in batch.errors[str(tmp_path / "bad.json")]
    assert "invalid JSON" in batch.errors[str(tmp_path / "broken.json")]


async def test_a_malformed_livedata_file_is_reported_and_the_others_still_flow(tmp_path):
    (tmp_path / "good.csv").write_text("GAME_ID,PTS\ng1,10\n")
    game = {"gameId": "1", "gameStatus": "live", "homeTeam": {"teamId": 1},
            "awayTeam": {"teamId": 2}}
    (tmp_path / "boxscore_1.json").write_text(json.dumps({"game": game}))
    (tmp_path / "playbyplay_2.json").write_text(json.dumps({"game": {"gameId": "2",
                                                                     "actions": [5]}}))
    batch = await FileSystemSource("files", str(tmp_path)).fetch()
    assert [r.values["PTS"] for r in batch.rows] == [10.0]
    assert "ValueError" in batch.errors[str(tmp_path / "boxscore_1.json")]
    assert "AttributeError" in batch.errors[str(tmp_path / "playbyplay_2.json")]


async def test_impossible_rows_are_held_with_an_issue(tmp_path):
    (tmp_path / "a.csv").write_text("GAME_ID,PLAYER_ID,FGM,FGA,PTS\ng1,1,5,4,10\ng1,2,3,4,x\n"
                                    "g1,3,1,2,2\n")
    src = FileSystemSource("files", str(tmp_path / "a.csv"))
    batch = await src.fetch()
    assert [r.values["PLAYER_ID"] for r in batch.rows] == [3]
    rules = {i.entity: i.rule for i in src.issues}
    assert rules == {"a.csv:g1|1": "FGM<=FGA", "a.csv:g1|2": "schema"}


async def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no such file or folder"):
        await FileSystemSource("f", str(tmp_path / "nope")).fetch()


async def test_livedata_files_become_snapshots(tmp_path, shared_data):
    import shutil

    from courtside.sources.livedata import parse_boxscore

    live = shared_data / "nba-live"
    shutil.copy(live / "boxscore_0022000001.json", tmp_path)
    shutil.copy(live / "2024-25" / "playbyplay_0022400740.json", tmp_path)
    src = FileSystemSource("live-files", str(tmp_path / "*.json"))
    batch = await src.fetch()
    assert not batch.errors and batch.rows == []
    snaps = {s.game_id: s for s in batch.snapshots}
    box = snaps["0022000001"]
    assert box.source == "live-files" and box.status == 3
    assert box.players == parse_boxscore(json.loads((live / "boxscore_0022000001.json")
                                                    .read_text())).players
    derived = snaps["0022400740"]  # the overtime game, box score derived from its events
    final = parse_boxscore(json.loads((live / "2024-25" / "boxscore_0022400740.json")
                                      .read_text()))
    assert {t.id: t.stats["PTS"] for t in derived.teams} == \
        {t.id: t.stats["PTS"] for t in final.teams}
    assert (await src.fetch()).snapshots == []  # unchanged files are not read again
