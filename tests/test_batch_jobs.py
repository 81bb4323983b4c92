"""Batch jobs end to end on the real 2023-24 player box scores: executors, context, errors,
progress, cancellation, timeouts, restarts, bad inputs."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import courtside
from batch_support import MAPPING, slow_compute, with_game
from courtside.batch.inputs import QuerySource
from courtside.batch.jobs import JobManager
from courtside.batch.process import run_batch
from courtside.model import BatchStatus, DataError
from courtside.storage.db import Database
from courtside.storage.jobs import JobStore

SIX = ["TS_PCT", "EFG_PCT", "TOV_PCT", "GAME_SCORE", "FTA_RATE", "FG3A_RATE"]
FORMULAS = [*SIX, "USG_PCT", "PER"]  # the last two need team and league totals
ROWS = 25_143


@pytest.fixture(scope="module")
def season(shared_data: Path) -> pl.DataFrame:
    """The real 2023-24 player box scores, with a game column."""
    path = shared_data / "boxscores" / "player_boxscores_2023-24.csv"
    return with_game(pl.read_csv(path, infer_schema_length=10_000))


@pytest.fixture(scope="module")
def boxscores(season: pl.DataFrame, tmp_path_factory) -> Path:
    """The same rows as a CSV file."""
    path = tmp_path_factory.mktemp("season") / "boxscores_2023-24.csv"
    season.write_csv(path)
    return path


@pytest.fixture(scope="module")
def expected(season: pl.DataFrame) -> pl.DataFrame:
    """One ``compute`` over the whole season: what every chunked run must equal."""
    return courtside.compute(season, FORMULAS, mapping=MAPPING)


class Manager(JobManager):
    """A JobManager whose submits map the box scores' columns."""

    def submit(self, data, formulas, **kwargs):
        kwargs.setdefault("mapping", MAPPING)
        return super().submit(data, formulas, **kwargs)


def make_manager(tmp: Path, **kwargs) -> JobManager:
    return Manager(f"sqlite:///{tmp / 'jobs.db'}", tmp / "data", **kwargs)


@pytest.fixture
def manager(tmp_path: Path):
    m = make_manager(tmp_path)
    yield m
    m.close()


def check_equal(results: pl.DataFrame, expected: pl.DataFrame) -> None:
    assert results["row_index"].to_list() == list(range(expected.height))
    assert_frame_equal(results.drop("row_index"), expected, check_exact=True)


@pytest.fixture(scope="module")
def dask_client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        yield client


def test_every_executor_equals_one_shot_compute(manager, boxscores, season, expected,
                                                dask_client) -> None:
    runs = {
        "sequential": manager.submit(boxscores, FORMULAS, batch_size=4_000),
        "parallel-processes": manager.submit(boxscores, FORMULAS, executor="parallel",
                                             batch_size=4_000, workers=2),
        "parallel-threads": manager.submit(season, FORMULAS, executor="parallel",
                                           batch_size=4_000, workers=2),
        "dask": manager.submit(boxscores, FORMULAS, executor="dask", batch_size=4_000,
                               cluster=dask_client),
    }
    for name, job in runs.items():
        assert job.status is BatchStatus.COMPLETED, (name, job.error)
        assert (job.total_rows, job.processed_rows, job.chunks_total) == (ROWS, ROWS, 7), name
        check_equal(manager.results(job.job_id), expected)
    # USG_PCT needs team totals per game: chunks cut through games, so equality above shows
    # the context was derived over the whole input, not per chunk.
    per_chunk = pl.concat([courtside.compute(season.slice(o, 4_000), FORMULAS, mapping=MAPPING)
                           for o in range(0, ROWS, 4_000)])
    assert not per_chunk["USG_PCT"].equals(expected["USG_PCT"])
    assert not per_chunk["PER"].equals(expected["PER"])
    # Hand-computed: Kelly Oubre Jr., PHI at SAS 2024-04-07: 26 PTS, 22 FGA, 2 FTA.
    row = manager.results(runs["dask"].job_id).filter(
        (pl.col("Player") == "Kelly Oubre Jr.") & (pl.col("Date") == "04/07/2024"))
    assert row["TS_PCT"].item() == pytest.approx(26 / (2 * (22 + 0.44 * 2)))


def test_null_results_become_row_errors_and_no_row_is_dropped(manager, season) -> None:
    result = run_batch(season, ["TS_PCT", "FTA_RATE"], batch_size=3_000,
                                        manager=manager, mapping=MAPPING)
    zero_tsa = season.with_row_index("i").filter((pl.col("FGA") == 0) & (pl.col("FTA") == 0))
    zero_fga = season.with_row_index("i").filter(pl.col("FGA") == 0)
    assert zero_tsa.height == 1_269 and zero_fga.height == 1_412
    assert result.results.height == ROWS
    assert result.job.failed_rows == zero_fga.height  # rows with any null formula
    ts = result.errors.filter(pl.col("formula") == "TS_PCT")
    assert ts["row_index"].to_list() == zero_tsa["i"].cast(pl.Int64).to_list()
    assert result.results.filter(pl.col("row_index").is_in(ts["row_index"].implode()))[
        "TS_PCT"].null_count() == ts.height
    assert result.errors.filter(pl.col("formula") == "FTA_RATE").height == zero_fga.height
    assert set(ts["reason"]) == {"division by zero: 2 * (FGA + 0.44 * FTA) is 0"}


def test_row_error_reasons_read_context_values_given_as_input_columns(manager) -> None:
    # TEAM_PACE is a column here, so compute reads it as given: the reason must name it, not
    # the opponent totals TEAM_PACE would be derived from when absent.
    frame = pl.DataFrame({"PLAYER": ["a", "b"], "PTS": [10, 12], "TEAM_PACE": [100.0, 0.0]})
    result = run_batch(frame, ["PTS_PER_PACE"], define=["PTS_PER_PACE=PTS/TEAM_PACE"],
                       manager=manager, mapping=None)
    assert result.results["PTS_PER_PACE"].to_list() == [0.1, None]
    assert result.errors["reason"].to_list() == ["division by zero: TEAM_PACE is 0"]


def test_cancelling_a_dead_job_that_planned_no_chunk_leaves_it_cancelled(manager) -> None:
    from datetime import timedelta

    from courtside.model import BatchJob, utcnow
    from courtside.storage.jobs import Owner

    # Its process (on another host, silent for an hour) died before it planned any chunk.
    manager.store.insert(BatchJob(job_id="dead", formulas=["TS_PCT"], input="x.csv",
                                  executor="sequential", options={}))
    manager.store.claim("dead", Owner("elsewhere", 1, 0.0))
    manager.store.update("dead", status=BatchStatus.PROCESSING,
                         heartbeat_at=utcnow() - timedelta(hours=1))
    job = manager.cancel("dead")
    assert job.status is BatchStatus.CANCELLED and job.error.startswith("cancelled; 0 of 0")


def test_a_job_failing_on_its_input_lets_go_of_its_context(manager, tmp_path) -> None:
    job = manager.submit(tmp_path / "gone.csv", ["PER"], context={"LG_PACE": 99.0})
    assert job.status is BatchStatus.FAILED and "does not exist" in job.error
    assert manager._contexts == {}  # the service's manager lives as long as the service


def test_an_unconvertible_pandas_frame_gives_computes_clear_error(manager) -> None:
    """A pandas column Arrow cannot type (numbers and text mixed) is a DataError saying so,
    from resolve as from compute; it was pyarrow's bare ArrowInvalid."""
    import pandas as pd

    from courtside.batch.inputs import resolve

    frame = pd.DataFrame({"PTS": [10, "ten"], "FGA": [8, 9]})
    with pytest.raises(DataError, match="cannot convert the pandas frame") as from_compute:
        courtside.compute(frame, ["TS_PCT"])
    with pytest.raises(DataError) as from_resolve:
        resolve(frame)
    assert str(from_resolve.value) == str(from_compute.value)
    job = manager.submit(frame, ["TS_PCT"])
    assert job.status is BatchStatus.FAILED
    assert "cannot convert the pandas frame" in job.error and "'ten'" in job.error


def test_a_pandas_frame_is_checked_by_its_columns_before_a_job_is_made(manager) -> None:
    import pandas as pd

    lacking = pd.DataFrame({"PTS": [30, 12], "FGA": [20, 10]})
    with pytest.raises(DataError, match="need FTA, which the input lacks"):
        manager.submit(lacking, ["TS_PCT"], mapping=None, check_input=True)
    assert manager.list() == []  # refused: no job was made
    job = manager.submit(lacking.assign(FTA=[5, 0]), ["TS_PCT"], mapping=None,
                         check_input=True)
    assert job.status is BatchStatus.COMPLETED
    assert manager.results(job.job_id)["TS_PCT"].to_list() == pytest.approx(
        [30 / (2 * (20 + 0.44 * 5)), 12 / 20])


def test_job_data_dir_defaults_like_the_service(tmp_path, monkeypatch) -> None:
    # An empty COURTSIDE_DATA_DIR means unset (the service's reading), not the current folder.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COURTSIDE_DATA_DIR", "")
    jobs = JobManager(f"sqlite:///{tmp_path / 'jobs.db'}")
    assert jobs.data_dir == tmp_path / "home" / ".courtside"
    jobs.close()


def test_progress_reaches_callback_and_job_topic(tmp_path, season) -> None:
    published: list[tuple[str, dict]] = []
    manager = make_manager(tmp_path, publish=lambda t, m: published.append((t, m)))
    events = []
    job = manager.submit(season, ["TS_PCT"], batch_size=5_000, progress_callback=events.append)
    manager.close()
    done = [e.processed_rows for e in events if e.status is BatchStatus.PROCESSING]
    assert done == [0, 5_000, 10_000, 15_000, 20_000, 25_000, ROWS]
    assert events[-1].status is BatchStatus.COMPLETED and events[-1].fraction == 1.0
    assert events[-1].rows_per_second and events[-1].rows_per_second > 0
    assert events[-2].eta_seconds == 0
    assert {t for t, _ in published} == {f"jobs:{job.job_id}"}
    assert [m["processed_rows"] for _, m in published] == [*done, ROWS]


def test_cancel_stops_within_a_chunk_keeps_results_and_resumes(tmp_path, season,
                                                               expected) -> None:
    manager = make_manager(tmp_path, compute=slow_compute)
    job_ids = []

    def cancel_after_first(event) -> None:
        if event.chunks_done == 1:
            manager.cancel(event.job_id)

    job = manager.submit(season, FORMULAS, batch_size=2_000, progress_callback=cancel_after_first)
    job_ids.append(job.job_id)
    assert job.status is BatchStatus.CANCELLED
    assert job.chunks_done == 1 and job.chunks_total == 13
    assert "cancelled" in job.error and "1 of 13 chunks" in job.error and "kept" in job.error
    partial = manager.results(job.job_id)
    check_equal(partial, expected.head(2_000))
    resumed = manager.resume(job.job_id)
    assert resumed.status is BatchStatus.COMPLETED and resumed.processed_rows == ROWS
    check_equal(manager.results(job.job_id), expected)
    manager.close()


def test_cancel_from_another_manager_reaches_a_background_job(tmp_path, boxscores) -> None:
    runner = make_manager(tmp_path, compute=slow_compute)
    job = runner.submit(boxscores, ["TS_PCT"], batch_size=1_000, wait=False)
    other = make_manager(tmp_path)  # as `courtside batch cancel` in another terminal would
    deadline = time.monotonic() + 20
    while other.status(job.job_id).chunks_done < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    other.cancel(job.job_id)
    final = runner.wait(job.job_id, timeout=20)
    assert final.status is BatchStatus.CANCELLED
    assert 1 <= final.chunks_done < final.chunks_total
    runner.close()
    other.close()


@pytest.mark.parametrize("executor", ["sequential", "parallel"])
def test_timeout_fails_the_job_with_the_reason_and_keeps_finished_chunks(
        tmp_path, season, expected, executor) -> None:
    manager = make_manager(tmp_path, compute=slow_compute)
    # 26 chunks of at least 0.15 s each: far more than the 1 s budget.
    job = manager.submit(season, SIX, executor=executor, batch_size=1_000,
                         timeout_seconds=1.0, workers=2)
    assert job.status is BatchStatus.FAILED
    assert "timed out after 1 s" in job.error and "kept" in job.error
    assert 1 <= job.chunks_done < job.chunks_total
    partial = manager.results(job.job_id)
    assert partial.height == job.processed_rows
    assert_frame_equal(partial.select(SIX), expected[partial["row_index"].to_list()].select(SIX),
                       check_exact=True)
    manager.close()


def test_jobs_and_results_survive_a_restart(tmp_path, boxscores, expected) -> None:
    first = make_manager(tmp_path)
    job = first.submit(boxscores, FORMULAS, batch_size=10_000)
    first.close()
    again = make_manager(tmp_path)
    [listed] = again.list()
    assert listed.job_id == job.job_id and listed.status is BatchStatus.COMPLETED
    assert (listed.processed_rows, listed.chunks_done, listed.formulas) == (ROWS, 3, FORMULAS)
    check_equal(again.results(job.job_id), expected)
    again.close()


KILLED_RUN = """
import sys
from batch_support import slow_compute, MAPPING
from courtside.batch.jobs import JobManager
m = JobManager(sys.argv[1], sys.argv[2], compute=slow_compute)
m.submit(sys.argv[3], {formulas!r}, batch_size=1000, mapping=MAPPING)
"""


def test_kill_9_mid_job_then_restart_shows_failed_and_resume_completes(
        tmp_path, boxscores, expected) -> None:
    url, data_dir = f"sqlite:///{tmp_path / 'jobs.db'}", tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).parent), str(Path(__file__).parents[1] / "src")])}
    script = textwrap.dedent(KILLED_RUN.format(formulas=FORMULAS))
    db = Database(url)
    db.migrate()
    store = JobStore(db)
    proc = subprocess.Popen([sys.executable, "-c", script, url, str(data_dir), str(boxscores)],
                            env=env)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            jobs = store.list()
            if jobs and jobs[0].job.chunks_done >= 3:
                break
            assert proc.poll() is None, "the job process ended before it could be killed"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    db.dispose()

    restarted = make_manager(tmp_path)
    [job] = restarted.list()
    assert job.status is BatchStatus.FAILED
    assert f"pid {proc.pid}" in job.error and "stopped before it finished" in job.error
    assert 3 <= job.chunks_done < 26 and job.processed_rows == job.chunks_done * 1_000
    assert f"{job.chunks_done} of 26 chunks" in job.error
    done_before = job.chunks_done
    events = []
    resumed = restarted.resume(job.job_id, progress_callback=events.append)
    assert resumed.status is BatchStatus.COMPLETED and resumed.processed_rows == ROWS
    assert resumed.chunks_done == 26
    assert events[0].processed_rows == done_before * 1_000  # continued, not restarted
    check_equal(restarted.results(job.job_id), expected)
    restarted.close()


def test_corrupt_and_missing_inputs_fail_the_job_with_a_clear_reason(tmp_path,
                                                                     manager) -> None:
    broken = tmp_path / "season.parquet"
    broken.write_bytes(b"PAR1 this is not a parquet file")
    job = manager.submit(broken, ["TS_PCT"])
    assert job.status is BatchStatus.FAILED and job.processed_rows == 0
    assert f"cannot read {broken} as PARQUET" in job.error
    assert "Check that the file is complete" in job.error
    missing = manager.submit(tmp_path / "nope" / "*.csv", ["TS_PCT"])
    assert missing.status is BatchStatus.FAILED and "no file matches" in missing.error
    with pytest.raises(DataError, match="cannot read"):
        run_batch(broken, ["TS_PCT"], manager=manager)


@pytest.mark.parametrize("executor", ["sequential", "parallel"])
def test_a_failing_chunk_fails_the_job_naming_its_rows_and_keeps_the_others(
        tmp_path, manager, season, expected, executor) -> None:
    bad = season.head(15_000).with_columns(pl.col("Points").cast(pl.String))
    bad = bad.with_columns(pl.when(pl.int_range(pl.len()) == 12_345).then(pl.lit("abc"))
                           .otherwise(pl.col("Points")).alias("Points"))
    path = tmp_path / "bad.csv"
    bad.write_csv(path)
    job = manager.submit(path, SIX, executor=executor, batch_size=5_000, workers=2)
    assert job.status is BatchStatus.FAILED
    assert f"chunk 2 (input rows 10000 to 14999 of {path}) " in job.error
    assert "could not be read" in job.error and "'Points'" in job.error
    assert "2 of 3 chunks" in job.error
    kept = manager.results(job.job_id)
    assert kept["row_index"].to_list() == list(range(10_000))
    assert_frame_equal(kept.select(SIX), expected.head(10_000).select(SIX), check_exact=True)


def test_query_input_and_read_only_guard(tmp_path, manager, season, expected) -> None:
    db_path = tmp_path / "box.db"
    season.write_database("box", f"sqlite:///{db_path}", engine="sqlalchemy")
    url = f"sqlite:///{db_path}"
    job = manager.submit(QuerySource(url, "SELECT * FROM box"), FORMULAS, batch_size=8_000)
    assert job.status is BatchStatus.COMPLETED, job.error
    assert job.input.startswith(f"query on {url}")
    check_equal(manager.results(job.job_id), expected)
    for query in ("DELETE FROM box", "SELECT 1; DROP TABLE box"):
        bad = manager.submit(QuerySource(url, query), ["TS_PCT"])
        assert bad.status is BatchStatus.FAILED and "single read-only SELECT" in bad.error
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM box").fetchone()[0] == ROWS


@pytest.mark.postgres
def test_postgres_jobs_and_a_read_only_query_input(tmp_path, postgres_url, season,
                                                   expected) -> None:
    """Jobs kept in PostgreSQL; the query input runs in a READ ONLY transaction through a
    server-side cursor, so even a data-modifying CTE that passes the text check is refused by
    the server and deletes nothing."""
    import uuid

    from sqlalchemy import create_engine, text

    table = f"batch_box_{uuid.uuid4().hex[:8]}"
    engine = create_engine(postgres_url)
    season.write_database(table, engine, engine="sqlalchemy")
    try:
        first = Manager(postgres_url, tmp_path / "data")
        job = first.submit(QuerySource(postgres_url, f"SELECT * FROM {table}"), FORMULAS,
                           batch_size=10_000)
        first.close()
        assert job.status is BatchStatus.COMPLETED, job.error
        again = Manager(postgres_url, tmp_path / "data")
        assert again.status(job.job_id).processed_rows == ROWS
        check_equal(again.results(job.job_id), expected)
        sneaky = again.submit(QuerySource(
            postgres_url, f"WITH gone AS (DELETE FROM {table} RETURNING *) SELECT * FROM gone"),
            ["TS_PCT"])
        assert sneaky.status is BatchStatus.FAILED
        assert "read-only transaction" in sneaky.error or "data-modifying" in sneaky.error
        again.close()
        with engine.connect() as conn:
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == ROWS
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()


def test_json_ndjson_and_folder_inputs_give_the_same_rows(tmp_path, manager, season,
                                                          expected) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    season.head(10_000).write_ndjson(folder / "a.ndjson")
    season.slice(10_000, 10_000).write_json(folder / "b.json")
    season.slice(20_000).write_parquet(folder / "c.parquet")
    (folder / "notes.txt").write_text("not an input")  # skipped: not a table
    job = manager.submit(folder, SIX, batch_size=4_000)
    assert job.status is BatchStatus.COMPLETED, job.error
    assert job.chunks_total == 3 + 3 + 2  # chunks never cross files
    results = manager.results(job.job_id)
    assert results["row_index"].to_list() == list(range(ROWS))
    assert_frame_equal(results.select(SIX), expected.select(SIX), check_exact=True)


def test_batch_size_follows_rows_width_and_memory() -> None:
    from courtside.batch.sizing import choose_batch_size

    gib = 2**30
    # 10% of 8 GiB over 4x a 200-byte row: 1,073,741 rows, capped at 1,000,000.
    assert choose_batch_size(50_000_000, 200, available_bytes=8 * gib) == 1_000_000
    # 10% of 1 GiB over 4 x 1,000 bytes: 26,843 rows.
    assert choose_batch_size(50_000_000, 1_000, available_bytes=gib) == 26_843
    # Two workers share the budget, and get four chunks each on a small input.
    assert choose_batch_size(50_000_000, 1_000, workers=2, available_bytes=gib) == 13_421
    assert choose_batch_size(25_143, 200, workers=2, available_bytes=8 * gib) == 3_143
    assert choose_batch_size(25_143, 200, available_bytes=8 * gib) == 25_143  # one chunk
    assert choose_batch_size(500, 200, available_bytes=8 * gib) == 500


async def test_async_variant_runs_in_a_thread(season, expected) -> None:
    from courtside.batch.process import arun_batch

    result = await arun_batch(season, ["TS_PCT"], mapping=MAPPING,
                                               batch_size=10_000)
    assert result.complete and result.job.chunks_total == 3
    assert_frame_equal(result.results.select("TS_PCT"), expected.select("TS_PCT"),
                       check_exact=True)


PARALLEL_SCRIPT = """\
from courtside.batch.process import run_batch

{guard}out = run_batch(["a.csv", "b.csv"], ["TS_PCT"], executor="parallel", workers=2,
{indent}                batch_size=1_000)
{indent}print("rows", out.results.height)
"""


@pytest.mark.parametrize("guarded", [False, True])
def test_a_parallel_run_batch_script_without_a_main_guard_says_to_add_one(tmp_path,
                                                                          guarded) -> None:
    """A real script run by Python: the spawned workers import it again, and an unguarded
    run_batch used to fail with a bare BrokenProcessPool."""
    for name in ("a.csv", "b.csv"):
        pl.DataFrame({"PTS": range(4_000), "FGA": [10] * 4_000, "FTA": [2] * 4_000}).write_csv(
            tmp_path / name)
    guard, indent = ('if __name__ == "__main__":\n    ', "    ") if guarded else ("", "")
    (tmp_path / "job.py").write_text(PARALLEL_SCRIPT.format(guard=guard, indent=indent))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).parent), str(Path(__file__).parents[1] / "src")])}
    env.pop("COURTSIDE_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "job.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=180)
    if guarded:
        assert done.returncode == 0 and done.stdout == "rows 8000\n", done.stderr
        return
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]  # the script's own error, not a worker's
    assert last.startswith("courtside.model."), done.stderr[-3000:]
    assert 'under `if __name__ == "__main__":`' in last
    assert "'spawn' method, which imports the main script again" in last
    assert str(tmp_path / "job.py") in last
