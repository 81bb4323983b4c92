"""Batch jobs whose input is a configured source (a stored sync), read once: a FILE_SYSTEM
sync on a CSV, a DATABASE sync on SQLite, a liveData box score; the CLI's ``source:NAME``."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_series_equal
from typer.testing import CliRunner

import courtside
from batch_support import MAPPING, with_game
from courtside.batch.jobs import JobManager
from courtside.batch.sourceinput import ConfiguredSource
from courtside.cli import _register, app
from courtside.model import BatchStatus, NotFoundError
from courtside.sources.scheduler import new_sync
from courtside.storage.syncs import SyncStore

FORMULAS = ["TS_PCT", "USG_PCT", "PER"]  # the last two need team and league totals
# The sync renames the stats; the game key is the batch's, as for a file (--map Game=GAME).
STATS_MAP = dict(m.split("=") for m in MAPPING if not m.endswith("=GAME"))


@pytest.fixture(scope="module")
def part(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 real 2023-24 box score rows with a game column, as a CSV."""
    season = pl.read_csv(shared_data / "boxscores" / "player_boxscores_2023-24.csv",
                         infer_schema_length=10_000)
    path = tmp_path_factory.mktemp("source") / "part.csv"
    with_game(season).head(3_000).write_csv(path)
    return path


@pytest.fixture(scope="module")
def expected(part: Path) -> pl.DataFrame:
    return courtside.compute(part, FORMULAS, mapping=MAPPING)


@pytest.fixture
def manager(tmp_path: Path):
    m = JobManager(f"sqlite:///{tmp_path / 'courtside.db'}", tmp_path / "data")
    yield m
    m.close()


def add_sync(manager: JobManager, name: str, kind: str, **config) -> None:
    SyncStore(manager.db).add(new_sync(name, kind, "day", config, None, auto_start=False))


def check_values(results: pl.DataFrame, expected: pl.DataFrame) -> None:
    assert results["row_index"].to_list() == list(range(expected.height))
    for formula in FORMULAS:
        assert_series_equal(results[formula], expected[formula], check_exact=True)


def test_a_file_system_sync_as_input_equals_compute_on_its_file(manager, part, expected) -> None:
    add_sync(manager, "box-files", "file_system", path=str(part), mapping=STATS_MAP)
    job = manager.submit(ConfiguredSource("box-files"), FORMULAS, mapping={"Game": "GAME"},
                         batch_size=1_000, check_input=True)
    assert job.status is BatchStatus.COMPLETED, job.error
    assert job.input == "source box-files (file_system): 3000 rows"
    assert (job.total_rows, job.chunks_total) == (3_000, 3)
    results = manager.results(job.job_id)
    check_values(results, expected)
    # The file's columns and the formulas: no internal _key/_data_time provenance columns.
    assert results.columns == ["row_index", *expected.columns]
    # the rows were spilled with the job: a resume reads the same rows, not the source again
    part_input = manager.job_dir(job.job_id) / "input" / "input.parquet"
    assert pl.read_parquet(part_input).height == 3_000


def test_a_database_sync_on_sqlite_as_input(manager, part, expected, tmp_path) -> None:
    db = tmp_path / "box.db"
    pl.read_csv(part, infer_schema_length=10_000).write_database(
        "box", f"sqlite:///{db}", engine="sqlalchemy")
    add_sync(manager, "box-db", "database", url=f"sqlite:///{db}",
             query="SELECT * FROM box", mapping=STATS_MAP)
    job = manager.submit(ConfiguredSource("box-db"), FORMULAS, mapping={"Game": "GAME"},
                         executor="parallel", workers=2, batch_size=1_000)
    assert job.status is BatchStatus.COMPLETED, job.error
    assert job.input == "source box-db (database): 3000 rows"
    check_values(manager.results(job.job_id), expected)


def test_rows_the_source_holds_back_are_counted(manager, tmp_path) -> None:
    path = tmp_path / "three.csv"
    path.write_text("PLAYER,PTS,FGM,FGA,FTA\nA,10,4,8,2\nB,9,5,3,0\nC,0,0,0,0\n")
    add_sync(manager, "three", "file_system", path=str(path))
    job = manager.submit(ConfiguredSource("three"), ["TS_PCT"])
    assert job.status is BatchStatus.COMPLETED, job.error
    assert job.input.startswith("source three (file_system): 2 rows, 1 held back by validation")
    assert "FGM" in job.input  # the reason, B's 5 FGM on 3 FGA
    assert manager.results(job.job_id)["PLAYER"].to_list() == ["A", "C"]


def test_a_box_score_source_gives_one_row_per_player(manager, shared_data) -> None:
    box = shared_data / "nba-live" / "boxscore_0022000001.json"
    add_sync(manager, "opening-night", "file_system", path=str(box))
    job = manager.submit(ConfiguredSource("opening-night"), ["TS_PCT"])
    assert job.status is BatchStatus.COMPLETED, job.error
    doc = json.loads(box.read_text())
    curry = next(p for p in doc["game"]["awayTeam"]["players"] if p["personId"] == 201939)
    s = curry["statistics"]
    row = manager.results(job.job_id).filter(pl.col("PLAYER_ID") == 201939)
    assert row["TS_PCT"].item() == pytest.approx(
        s["points"] / (2 * (s["fieldGoalsAttempted"] + 0.44 * s["freeThrowsAttempted"])))


def test_an_unknown_source_names_the_configured_ones(manager, part) -> None:
    add_sync(manager, "box-files", "file_system", path=str(part))
    add_sync(manager, "box-db", "database", url="sqlite:////nowhere.db", query="SELECT 1")
    with pytest.raises(NotFoundError) as caught:
        manager.submit(ConfiguredSource("box"), ["TS_PCT"], check_input=True)
    assert str(caught.value).startswith(
        "no configured source 'box'; configured sources: box-files, box-db.")
    assert "courtside sync add" in str(caught.value)
    job = manager.submit(ConfiguredSource("box"), ["TS_PCT"])  # unchecked: the job says it
    assert job.status is BatchStatus.FAILED and "configured sources: box-files" in job.error


def test_cli_batch_run_source_name(tmp_path, monkeypatch, part, expected) -> None:
    monkeypatch.setenv("COURTSIDE_DATA_DIR", str(tmp_path / "home"))
    monkeypatch.delenv("COURTSIDE_DATABASE_URL", raising=False)
    monkeypatch.delenv("COURTSIDE_DB", raising=False)
    _register()
    runner = CliRunner()
    added = runner.invoke(app, ["sync", "add", "box", "--type", "file_system", "--frequency",
                                "day", "--no-auto-start", "--set", f"path={part}",
                                "--set", f"mapping={json.dumps(STATS_MAP)}"])
    assert added.exit_code == 0, added.output
    out = tmp_path / "out.parquet"
    run = runner.invoke(app, ["batch", "run", "source:box", "-f", ",".join(FORMULAS),
                              "--map", "Game=GAME", "--no-progress", "-o", str(out)])
    assert run.exit_code == 0, run.output
    assert "completed: 3,000 of 3,000 rows" in run.stderr
    check_values(pl.read_parquet(out), expected)

    unknown = runner.invoke(app, ["batch", "run", "source:bx", "-f", "TS_PCT", "--no-progress"])
    assert unknown.exit_code == 2  # refused before a job is made, as REST does
    assert "no configured source 'bx'; configured sources: box." in unknown.stderr
    mixed = runner.invoke(app, ["batch", "run", "source:box", str(part), "-f", "TS_PCT"])
    assert mixed.exit_code == 2 and "is an input on its own" in mixed.stderr
    empty = runner.invoke(app, ["batch", "run", "source:", "-f", "TS_PCT"])
    assert empty.exit_code == 2 and "needs a sync name" in empty.stderr
    assert "source:NAME" in runner.invoke(app, ["batch", "run", "--help"]).output
