"""``courtside batch``: run formulas over seasons or whole histories, and manage the jobs.

    courtside batch run INPUT --formulas TS_PCT,PER [--executor parallel] --output out.parquet
    courtside batch run source:NAME --formulas TS_PCT    # a configured source (courtside sync add)
    courtside batch list | status ID | cancel ID | resume ID | results ID --output out.csv
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Column, Table

from courtside.batch.executors import EXECUTORS
from courtside.batch.inputs import QuerySource
from courtside.batch.jobs import JobManager
from courtside.batch.progress import ProgressEvent
from courtside.batch.results import check_target
from courtside.batch.sourceinput import PREFIX, parse_source
from courtside.cli import app
from courtside.cli.options import DatabaseUrl, DataDir, fail
from courtside.model import BatchJob, BatchStatus, CourtsideError

batch_app = typer.Typer(
    help="Batch jobs: formulas over files, database queries or configured sources, chunked, "
         "resumable.",
    no_args_is_help=True,
)
app.add_typer(batch_app, name="batch")

# soft_wrap: messages carry paths and ids that must stay copyable in one piece.
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


@batch_app.callback()
def _options(ctx: typer.Context, data_dir: DataDir = None,
             database_url: DatabaseUrl = None) -> None:
    """Batch jobs: formulas over files, database queries or configured sources, chunked,
    resumable."""
    ctx.obj = {"data_dir": data_dir, "database_url": database_url}


def _manager(ctx: typer.Context) -> JobManager:
    obj = ctx.obj or {}
    try:
        return JobManager(obj.get("database_url"), obj.get("data_dir"))
    except CourtsideError as exc:
        fail(str(exc))


def _check_output(output: str | None) -> None:
    """Refuse an output the job could not be written to before running the job."""
    if output:
        try:
            check_target(output)
        except CourtsideError as exc:
            fail(str(exc))


def _stdout_closed() -> NoReturn:
    """The reader of stdout went away (``| head``): stop quietly, as Unix tools do, with
    their status (128 + SIGPIPE)."""
    # Python flushes stdout at exit and would complain again: point it at /dev/null (unless
    # stdout is no real file, a test's capture: then nothing reaches a closed pipe).
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise typer.Exit(128 + 13)


def _rate(event: ProgressEvent | None) -> str:
    if event is None or not event.rows_per_second:
        return "- rows/s"
    return f"{event.rows_per_second:,.0f} rows/s"


def _eta(event: ProgressEvent | None) -> str:
    if event is None or event.eta_seconds is None:
        return "ETA -"
    seconds = int(event.eta_seconds + 0.5)
    return f"ETA {seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _follow(manager: JobManager, start: Any, show_progress: bool) -> BatchJob:
    """Run ``start(progress_callback)`` (which starts the job in the background) under a Rich
    progress bar; Ctrl-C cancels the job, keeping its finished chunks."""
    latest: dict[str, ProgressEvent] = {}
    changed = threading.Event()

    def on_progress(event: ProgressEvent) -> None:
        latest["event"] = event
        changed.set()

    job = start(on_progress)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
               TextColumn("{task.completed:,.0f}/{task.total:,.0f} rows"),
               TextColumn("{task.fields[rate]}"), TextColumn("{task.fields[eta]}"))
    with Progress(*columns, console=err, disable=not show_progress, transient=False) as bar:
        task = bar.add_task(f"job {job.job_id}", total=max(job.total_rows, 1),
                            rate=_rate(None), eta=_eta(None))
        try:
            while True:
                changed.wait(0.2)
                changed.clear()
                event = latest.get("event")
                if event is not None:
                    bar.update(task, total=max(event.total_rows, 1),
                               completed=event.processed_rows, rate=_rate(event),
                               eta=_eta(event))
                if manager.status(job.job_id).status.finished:
                    break
        except KeyboardInterrupt:
            err.print("cancelling: the job stops after its current chunk...")
            manager.cancel(job.job_id)
        return manager.wait(job.job_id)


def _summary(job: BatchJob) -> None:
    style = {"completed": "green", "failed": "red", "cancelled": "yellow"}.get(
        job.status.value, "white")
    seconds = ((job.completed_at - job.started_at).total_seconds()
               if job.completed_at and job.started_at else None)
    rate = f", {job.processed_rows / seconds:,.0f} rows/s" if seconds and job.processed_rows else ""
    err.print(f"job {job.job_id}: [{style}]{job.status.value}[/{style}]: "
              f"{job.processed_rows:,} of {job.total_rows:,} rows in {job.chunks_done} of "
              f"{job.chunks_total} chunks, {job.failed_rows:,} rows with a null value"
              f"{f' in {seconds:.1f} s' if seconds else ''}{rate}", highlight=False)
    if job.error:
        err.print(f"[{style}]{job.error}[/{style}]", highlight=False)


def _finish(manager: JobManager, job: BatchJob, output: str | None) -> None:
    _summary(job)
    if output and job.processed_rows:
        try:
            manager.write_results(job.job_id, output)
        except BrokenPipeError:
            manager.close()
            _stdout_closed()
        except (CourtsideError, OSError) as exc:  # e.g. the disk filled up meanwhile
            manager.close()
            fail(f"{exc}; the results stay with the job: courtside batch results "
                 f"{job.job_id} --output FILE")
        if output != "-":
            what = "results" if job.status is BatchStatus.COMPLETED else "partial results"
            err.print(f"{what} written to {output}")
    manager.close()
    if job.status is not BatchStatus.COMPLETED:
        raise typer.Exit(1)


@batch_app.command("run")
def run(
    ctx: typer.Context,
    inputs: Annotated[list[str], typer.Argument(metavar="INPUT...",
        help="Files, folders or globs (CSV, Parquet, JSON, NDJSON); a database URL with "
             "--query; or source:NAME, a configured source (a sync stored with `courtside "
             "sync add`, looked up in the job database), read once.")],
    formulas: Annotated[str, typer.Option("--formulas", "-f",
                                 help="Formula ids, comma-separated (TS_PCT,EFG_PCT,PER).")],
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write the results here (.csv .parquet .json .ndjson, - "
        "for stdout). They are also kept with the job: `courtside batch results ID`.")] = None,
    executor: Annotated[str, typer.Option("--executor", "-e",
                                 help=f"One of {', '.join(EXECUTORS)}.")] = "sequential",
    cluster: Annotated[str | None, typer.Option("--cluster", help="Dask scheduler address (tcp://host:8786); default: a "
        "LocalCluster on this machine.")] = None,
    workers: Annotated[int | None, typer.Option("--workers",
                                       help="Local workers (default: every core).")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1, help="Rows per chunk (default: chosen from the data "
        "and the free memory).")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", min=0.001,
                                         help="Fail the job after this many seconds.")] = None,
    preset: Annotated[str | None, typer.Option("--preset",
                                      help="Input vocabulary: nba-stats, nba-live, bbr.")] = None,
    mapping: Annotated[list[str] | None, typer.Option(
        "--map", help="Map an input column to a canonical name, SOURCE=CANONICAL "
        "(repeatable), e.g. --map Points=PTS --map Game=GAME.")] = None,
    team_context: Annotated[Path | None, typer.Option(
        "--team-context", exists=True, dir_okay=False,
        help="A table keyed by the team column with Pace (and optionally team totals), "
        "for season tables without opponents.")] = None,
    league_pace: Annotated[float | None, typer.Option(
        "--league-pace", help="The league's pace (possessions per 48).")] = None,
    define: Annotated[list[str] | None, typer.Option("--define",
                                            help="A custom formula NAME=EXPR (repeatable).")] = None,
    query: Annotated[str | None, typer.Option("--query",
                                     help="A read-only SELECT, when INPUT is a database URL.")] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress",
                                  help="Show a progress bar on stderr.")] = True,
) -> None:
    """Run formulas over an input in chunks, with a progress bar; Ctrl-C cancels.

    INPUT source:NAME reads the current records of the sync NAME once (rows its validation
    holds back are left out; box-score sources give one row per player).
    """
    if executor not in EXECUTORS:
        fail(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
    sources = [i for i in inputs if i.startswith(PREFIX)]
    if sources and (len(inputs) > 1 or query is not None):
        fail(f"{sources[0]} is an input on its own: give no other INPUT and no --query")
    if query is not None:
        if len(inputs) != 1 or "://" not in inputs[0]:
            fail("--query needs exactly one INPUT, the database URL (sqlite:///file.db)")
        data: Any = QuerySource(inputs[0], query)
    elif sources:
        try:
            data = parse_source(sources[0])
        except CourtsideError as exc:
            fail(str(exc))
    elif len(inputs) == 1 and "://" in inputs[0]:
        fail(f"{inputs[0]} looks like a database URL; add --query 'SELECT ...'")
    else:
        data = inputs if len(inputs) > 1 else inputs[0]
    _check_output(output)
    manager = _manager(ctx)

    def start(callback: Any) -> BatchJob:
        return manager.submit(data, formulas, executor=executor, cluster=cluster,
                              workers=workers, batch_size=batch_size, timeout_seconds=timeout,
                              preset=preset, define=define or None, mapping=mapping or None,
                              team_context=team_context,
                              context={"LG_PACE": league_pace} if league_pace else None,
                              progress_callback=callback, wait=False, check_input=True)

    try:
        job = _follow(manager, start, progress)
    except CourtsideError as exc:
        manager.close()
        fail(str(exc))
    _finish(manager, job, output)


@batch_app.command("resume")
def resume(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="The job's id.")],
    executor: Annotated[str | None, typer.Option("--executor", "-e",
                                        help="Run the rest on another executor.")] = None,
    cluster: Annotated[str | None, typer.Option("--cluster", help="Dask scheduler address.")] = None,
    output: Annotated[str | None, typer.Option("--output", "-o",
                                      help="Write the whole results here when done.")] = None,
    progress: Annotated[bool, typer.Option(
        "--progress/--no-progress", help="Show a progress bar on stderr.")] = True,
) -> None:
    """Continue a failed or cancelled job from its last finished chunk."""
    _check_output(output)
    manager = _manager(ctx)
    try:
        job = _follow(manager, lambda cb: manager.resume(
            job_id, executor=executor, cluster=cluster, progress_callback=cb, wait=False),
            progress)
    except CourtsideError as exc:
        manager.close()
        fail(str(exc))
    _finish(manager, job, output)


@batch_app.command("list")
def list_jobs(
    ctx: typer.Context,
    status: Annotated[BatchStatus | None, typer.Option("--status", help="Only jobs in this status.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """Jobs, newest first."""
    manager = _manager(ctx)
    jobs = manager.list(status=status, limit=limit)
    manager.close()
    if as_json:
        for job in jobs:
            out.print(job.to_json(), soft_wrap=True, highlight=False)
        return
    # The id is what every other command takes, and the status what one looks for: neither
    # is ever cut; formulas and input give way on a narrow terminal (--json has everything).
    table = Table(Column("id", no_wrap=True, min_width=16), Column("status", no_wrap=True),
                  Column("rows", justify="right", no_wrap=True),
                  Column("created", no_wrap=True), "formulas", "input")
    for job in jobs:
        table.add_row(job.job_id, job.status.value,
                      f"{job.processed_rows:,}/{job.total_rows:,}",
                      job.created_at.strftime("%m-%d %H:%M"), ",".join(job.formulas), job.input)
    out.print(table)


@batch_app.command("status")
def status(ctx: typer.Context, job_id: str = typer.Argument(..., help="The job's id.")) -> None:
    """A job as JSON: status, counts, timings, error, where its results are."""
    manager = _manager(ctx)
    try:
        job = manager.status(job_id)
    except CourtsideError as exc:
        fail(str(exc))
    finally:
        manager.close()
    out.print_json(json.dumps(job.to_dict()))


@batch_app.command("cancel")
def cancel(ctx: typer.Context, job_id: str = typer.Argument(..., help="The job's id.")) -> None:
    """Stop a running job after its current chunk; its finished chunks stay."""
    manager = _manager(ctx)
    try:
        job = manager.cancel(job_id)
    except CourtsideError as exc:
        fail(str(exc))
    finally:
        manager.close()
    if job.status is BatchStatus.CANCELLED:
        err.print(f"job {job_id} cancelled: {job.error}", highlight=False)
    else:
        err.print(f"cancel requested: job {job_id} stops after its current chunk", highlight=False)


@batch_app.command("results")
def results(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="The job's id.")],
    output: Annotated[str, typer.Option("--output", "-o",
                               help="Where to write (.csv .parquet .json .ndjson, - for stdout).")] = "-",
    errors: Annotated[bool, typer.Option("--errors",
                                help="The per-row errors (row_index, formula, reason) instead.")] = False,
) -> None:
    """A job's results (the finished chunks' rows, in input order) or its per-row errors."""
    from courtside.batch.results import write_frame

    manager = _manager(ctx)
    try:
        job = manager.status(job_id)
        frame = manager.errors(job_id, lazy=True) if errors else manager.results(job_id, lazy=True)
        write_frame(frame, output)
    except BrokenPipeError:
        _stdout_closed()
    except (CourtsideError, OSError) as exc:
        fail(str(exc))
    finally:
        manager.close()
    if job.status is not BatchStatus.COMPLETED:
        err.print(f"job {job_id} is {job.status.value}: these are the results of "
                  f"{job.chunks_done} of {job.chunks_total} chunks", highlight=False)
