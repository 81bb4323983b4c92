"""`courtside batch` end to end through the Typer app: run with a progress bar, list, status,
results, errors, cancel and resume messages."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import typer
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

import batch_support
from courtside.cli import _register, app

FORMULAS = ["TS_PCT", "EFG_PCT", "GAME_SCORE"]


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("COURTSIDE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("COURTSIDE_DATABASE_URL", raising=False)
    _register()
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["batch", *args])

    return invoke


@pytest.fixture(scope="module")
def boxscores(shared_data: Path, tmp_path_factory) -> Path:
    """The real 2023-24 box scores with a game column, as a CSV."""
    season = pl.read_csv(shared_data / "boxscores" / "player_boxscores_2023-24.csv",
                         infer_schema_length=10_000)
    path = tmp_path_factory.mktemp("cli") / "boxscores.csv"
    batch_support.with_game(season).write_csv(path)
    return path


MAPS = [arg for item in batch_support.MAPPING for arg in ("--map", item)]


def test_run_shows_progress_writes_output_and_the_job_is_listed(cli, tmp_path, boxscores):
    out = tmp_path / "season.parquet"
    result = cli("run", str(boxscores), "--formulas", "ts%,EFG_PCT,game_score", *MAPS,
                 "--batch-size", "5000", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "rows/s" in result.stderr and "ETA" in result.stderr
    assert "25,143/25,143 rows" in result.stderr
    assert "completed: 25,143 of 25,143 rows in 6 of 6 chunks" in result.stderr
    season = pl.read_csv(boxscores, infer_schema_length=10_000)
    assert pl.read_parquet(out).columns[-3:] == FORMULAS  # aliases resolved to ids
    assert_frame_equal(pl.read_parquet(out).drop("row_index"),
                       batch_support.compute(season, FORMULAS), check_exact=True)

    listed = cli("list", "--json")
    [job] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert job["status"] == "completed" and job["formulas"] == FORMULAS
    status = cli("status", job["job_id"])
    assert json.loads(status.stdout)["processed_rows"] == 25_143

    errors = tmp_path / "errors.csv"
    assert cli("results", job["job_id"], "--errors", "--output", str(errors)).exit_code == 0
    by_formula = pl.read_csv(errors).group_by("formula").len().sort("formula")
    # TS_PCT is null where FGA = FTA = 0, EFG_PCT where FGA = 0; GAME_SCORE never.
    assert by_formula.rows() == [("EFG_PCT", 1_412), ("TS_PCT", 1_269)]

    again = cli("results", job["job_id"])
    assert again.stdout.splitlines()[0].startswith("row_index,Player,Team")
    assert "division by zero" in pl.read_csv(errors)["reason"][0]
    assert len(again.stdout.splitlines()) == 25_144


def test_bad_requests_exit_non_zero_with_the_reason(cli, tmp_path, boxscores):
    # Usage errors exit 2, as in every other command; a job that ran and failed exits 1.
    unknown = cli("status", "nope")
    assert unknown.exit_code == 2 and "no batch job 'nope'" in unknown.stderr
    bad_executor = cli("run", str(boxscores), "-f", "TS_PCT", "--executor", "gpu")
    assert bad_executor.exit_code == 2 and "unknown executor 'gpu'" in bad_executor.stderr
    url = cli("run", "sqlite:///x.db", "-f", "TS_PCT")
    assert url.exit_code == 2 and "add --query" in url.stderr
    unknown_formula = cli("run", str(boxscores), "-f", "TS_PCTT")
    assert unknown_formula.exit_code == 2 and "TS_PCT" in unknown_formula.stderr
    # The job API's input check, as REST's: refused before a job is made.
    missing = cli("run", str(tmp_path / "none.csv"), "-f", "TS_PCT", "--no-progress")
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    assert cli("list", "--json").stdout.strip() == ""
    # Content is read by the job: a corrupt file makes a job that fails.
    (tmp_path / "corrupt.parquet").write_text("not parquet")
    corrupt = cli("run", str(tmp_path / "corrupt.parquet"), "-f", "TS_PCT", "--no-progress")
    assert corrupt.exit_code == 1 and "cannot read" in corrupt.stderr, corrupt.output
    [failed] = [json.loads(x) for x in cli("list", "--json").stdout.splitlines()]
    assert failed["status"] == "failed"
    done = cli("cancel", failed["job_id"])
    assert done.exit_code == 2 and "already failed" in done.stderr
    assert cli("resume", failed["job_id"]).exit_code == 2


def test_an_input_lacking_a_column_is_refused_before_a_job_is_made(cli, tmp_path):
    table = tmp_path / "box.csv"
    table.write_text("Player,PTS,FGA\na,10,8\nb,5,4\n")
    refused = cli("run", str(table), "-f", "TS_PCT,USG_PCT", "--no-progress")
    assert refused.exit_code == 2, refused.output
    message = refused.stderr
    assert "the totals need column(s) FTA, MIN, TOV, which the input lacks" in message
    assert message.count("TS_PCT, USG_PCT") == 1, message  # the formulas named once
    assert cli("list", "--json").stdout.strip() == ""  # no job was made
    # A mapping or a context that supplies the column is taken into account, as in the job.
    table.write_text("Player,PTS,FGA,FreeThrows\na,10,8,2\nb,5,4,0\n")
    mapped = cli("run", str(table), "-f", "TS_PCT", "--map", "FreeThrows=FTA", "--no-progress")
    assert mapped.exit_code == 0, mapped.output
    assert cli("run", str(table), "-f", "TS_PCT", "--no-progress").exit_code == 2


def test_an_output_that_cannot_be_written_is_refused_before_the_job_runs(cli, tmp_path):
    table = tmp_path / "box.csv"
    table.write_text("Player,PTS,FGA,FTA\na,10,8,2\nb,5,4,0\n")
    (tmp_path / "folder.csv").mkdir()
    for target, reason in ((tmp_path / "out.xlsx", "unknown extension '.xlsx'"),
                           (table / "out.csv", "folder cannot be created"),
                           (tmp_path / "folder.csv", "it is a folder")):
        refused = cli("run", str(table), "-f", "TS_PCT", "--no-progress", "-o", str(target))
        assert refused.exit_code == 2 and reason in refused.stderr, refused.output
        assert refused.exception is None or isinstance(refused.exception, SystemExit)
    assert cli("list", "--json").stdout.strip() == ""  # no job was run
    # A missing folder is created, as every writer of tables does.
    nested = tmp_path / "new" / "folder" / "ts.csv"
    assert cli("run", str(table), "-f", "TS_PCT", "--no-progress", "-o", str(nested)).exit_code == 0
    assert pl.read_csv(nested)["TS_PCT"].round(4).to_list() == [0.5631, 0.625]
    [job] = [json.loads(x) for x in cli("list", "--json").stdout.splitlines()]
    results = cli("results", job["job_id"], "-o", str(table / "again.csv"))
    assert results.exit_code == 2 and "folder cannot be created" in results.stderr


def test_batch_uses_the_shared_options_and_its_usage_events_their_database(cli, tmp_path):
    from sqlalchemy import create_engine, text

    group = typer.main.get_command(app).commands["batch"]  # type: ignore[attr-defined]
    serve = typer.main.get_command(app).commands["serve"]  # type: ignore[attr-defined]
    for name in ("data_dir", "database_url"):
        [mine] = [p for p in group.params if p.name == name]
        [shared] = [p for p in serve.params if p.name == name]
        assert (mine.opts, mine.envvar, mine.help) == (shared.opts, shared.envvar, shared.help)
    elsewhere = tmp_path / "elsewhere"
    assert cli("--data-dir", str(elsewhere), "list").exit_code == 0
    engine = create_engine(f"sqlite:///{elsewhere / 'courtside.db'}")
    with engine.connect() as conn:
        tools = [r[0] for r in conn.execute(text("SELECT tool FROM usage_events"))]
    engine.dispose()
    assert tools == ["batch list"]
    default = tmp_path / "data" / "courtside.db"  # COURTSIDE_DATA_DIR of the fixture
    if default.exists():
        engine = create_engine(f"sqlite:///{default}")
        with engine.connect() as conn:
            names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}
            assert "usage_events" not in names or not list(
                conn.execute(text("SELECT tool FROM usage_events")))
        engine.dispose()


def test_season_table_with_team_and_league_pace_matches_compute_and_bbr(cli, tmp_path,
                                                                       shared_data):
    """A Basketball-Reference season (no opponents): PER from supplied team and league pace,
    in chunks of 100 rows, equals one `courtside compute` and Basketball-Reference's PER."""
    import courtside
    from courtside.formulas.context import Context
    from courtside.sources.presets import team_context_table
    from test_compute_real_data import write_bbr_season

    pace, totals, league_pace = write_bbr_season(shared_data, tmp_path)
    out = tmp_path / "per.parquet"
    result = cli("run", str(tmp_path / "totals.csv"), "--preset", "bbr", "-f", "PER,USG_PCT",
                 "--team-context", str(tmp_path / "pace.csv"), "--league-pace", str(league_pace),
                 "--batch-size", "100", "--no-progress", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    batch = pl.read_parquet(out)
    context = Context.of(team=team_context_table(pace, "bbr"), LG_PACE=league_pace)
    one = courtside.compute(totals, ["PER", "USG_PCT"], preset="bbr", context=context)
    assert_frame_equal(batch.drop("row_index"), one, check_exact=True)
    advanced = pl.read_csv(shared_data / "bbr" / "advanced.csv").filter(pl.col("Year") == 2024)
    both = batch.join(advanced, on=["Pk", "Tm"]).filter(pl.col("Tm") != "TOT",
                                                        pl.col("MP") >= 500)
    assert both.height > 300
    assert ((both["PER"] - both["PER_right"]).abs() <= 0.3).mean() >= 0.98


def test_ctrl_c_cancels_the_job_and_keeps_its_finished_chunks(tmp_path, boxscores):
    """SIGINT to a real `courtside batch run`: the job ends CANCELLED (Polars used to raise
    the KeyboardInterrupt inside the job's thread, which died and left the job FAILED)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from courtside.batch.jobs import JobManager
    from courtside.model import BatchStatus

    env = {**os.environ, "COURTSIDE_DATA_DIR": str(tmp_path / "data"),
           "COURTSIDE_USAGE_TRACKING": "0"}
    env.pop("COURTSIDE_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "courtside", "batch", "run", str(boxscores), "-f", "TS_PCT",
         *MAPS, "--batch-size", "20", "--no-progress"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    manager = JobManager(data_dir=tmp_path / "data", recover=False)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            jobs = manager.list()
            if jobs and jobs[0].processed_rows > 0:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the job never started")
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        job = manager.status(jobs[0].job_id)
    finally:
        proc.kill()
        manager.close()
    assert job.status is BatchStatus.CANCELLED, (job.error, stderr)
    assert "Traceback" not in stderr
    assert 0 < job.processed_rows < job.total_rows
    assert f"courtside batch resume {job.job_id}" in stderr


@pytest.mark.parametrize("errors", [False, True])
def test_results_into_a_reader_that_stops_early_end_quietly(tmp_path, errors):
    """`courtside batch results ID | head`: the reader closes the pipe after one line; the
    command stops as Unix tools do (status 141, no "Broken pipe" message, no traceback)."""
    import os
    import subprocess
    import sys

    from courtside.batch.jobs import JobManager

    rows = 200_000  # megabytes of CSV: far more than a pipe holds
    frame = pl.DataFrame({"PTS": [i % 40 for i in range(rows)],
                          "FGA": [i % 20 for i in range(rows)], "FTA": [0] * rows})
    manager = JobManager(data_dir=tmp_path / "data")
    job = manager.submit(frame, ["TS_PCT"])
    manager.close()
    env = {**os.environ, "COURTSIDE_DATA_DIR": str(tmp_path / "data"),
           "COURTSIDE_USAGE_TRACKING": "0"}
    env.pop("COURTSIDE_DATABASE_URL", None)
    command = [sys.executable, "-m", "courtside", "batch", "results", job.job_id]
    proc = subprocess.Popen([*command, *(["--errors"] if errors else [])], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does after its line
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141, stderr
    assert first.startswith(b"row_index,")
    assert stderr == ""
