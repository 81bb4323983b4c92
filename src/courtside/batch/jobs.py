"""The job API: submit, status, list, cancel, resume, results.

One ``JobManager`` is what the CLI, the REST API and MCP all call. It keeps jobs in the
database (``courtside.storage.jobs``) and their results as Parquet under
``<data_dir>/jobs/<job_id>/``, so jobs survive a restart: on start it marks jobs whose process
died as FAILED (saying how far they got), and ``resume`` continues them.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import psutil

from courtside.batch.chunks import ChunkTask, ComputeFn, plan_chunks
from courtside.batch.columns import check_columns
from courtside.batch.context import ContextFn, derive_context
from courtside.batch.executors import EXECUTORS, make_executor, workers_for
from courtside.batch.explain import FormulaExplainer
from courtside.batch.inputs import BatchInput, QuerySource, check, resolve
from courtside.batch.progress import ProgressCallback, Publish
from courtside.batch.results import page, scan_errors, scan_results, write_frame
from courtside.batch.rowerrors import Explainer
from courtside.batch.runner import CANCELLED, finish, run_chunks
from courtside.batch.sizing import choose_batch_size, row_bytes
from courtside.batch.sourceinput import ConfiguredSource, check_source, read_source_frame
from courtside.config import default_data_dir
from courtside.model import (
    BatchJob,
    BatchStatus,
    ConfigError,
    ConflictError,
    CourtsideError,
    utcnow,
)
from courtside.storage.db import Database, default_url
from courtside.storage.jobs import JobStore, Owner, StoredJob

# Jobs running in this process, whichever manager runs them (several managers may share a
# database in one process: the service and a test, say).
_LIVE_IN_PROCESS: set[str] = set()
_LIVE_LOCK = threading.Lock()

# A job owned by another host is presumed dead when its heartbeat is older than this.
STALE_SECONDS = 120.0


def _this_owner() -> Owner:
    return Owner(socket.gethostname(), os.getpid(), psutil.Process().create_time())


def _owner_alive(stored: StoredJob, me: Owner) -> bool:
    owner = stored.owner
    if owner is None:
        return False
    if owner.host == me.host:
        if owner.pid == me.pid and abs(owner.started - me.started) < 1.0:
            return True
        try:
            return abs(psutil.Process(owner.pid).create_time() - owner.started) < 1.0
        except psutil.Error:
            return False
    beat = stored.heartbeat_at
    return beat is not None and (utcnow() - beat).total_seconds() < STALE_SECONDS


def formula_ids(formulas: str | Sequence[str], define: Any = None) -> list[str]:
    """Formula ids (aliases resolved, custom definitions included), as ``compute`` names its
    columns; NotFoundError or FormulaError before any job is created."""
    from courtside.batch.compute import resolve_formulas
    from courtside.formulas.catalog import default_catalog

    catalog = default_catalog()
    if define:
        items = [define] if isinstance(define, str) else (
            list(define.items()) if isinstance(define, Mapping) else list(define))
        catalog = catalog.define(items)
    return resolve_formulas(formulas, catalog)


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return None
    return value


@dataclass(slots=True)
class _Running:
    thread: threading.Thread | None
    cancel: threading.Event


class JobManager:
    """Submits and tracks batch jobs; thread-safe; one per process is enough.

    Args:
        database: a ``Database`` or a SQLAlchemy URL; default ``$COURTSIDE_DATABASE_URL`` or
            SQLite under the data directory.
        data_dir: where job results live (default ``$COURTSIDE_DATA_DIR`` or ``~/.courtside``).
        publish: called as ``publish("jobs:<id>", event_dict)`` on every progress event; the
            service connects it to its pub/sub bus.
        compute: the compute function (default ``courtside.compute``).
        derive: derives the context over the whole input (default: the formulas package's).
        explainer: explains null results (default: the formulas package's).
        recover: mark jobs whose process died as FAILED on start.
    """

    def __init__(self, database: Database | str | None = None,
                 data_dir: str | Path | None = None, *, publish: Publish | None = None,
                 compute: ComputeFn | None = None, derive: ContextFn | None = None,
                 explainer: Explainer | None = None, recover: bool = True) -> None:
        self.data_dir = Path(data_dir or default_data_dir()).expanduser()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if database is None:
            database = os.environ.get("COURTSIDE_DATABASE_URL") or default_url(self.data_dir)
        self.db = Database(database) if isinstance(database, str) else database
        self.db.migrate()
        self.store = JobStore(self.db)
        self.publish = publish
        self.compute = compute
        self.derive = derive
        self.explainer = explainer
        self._me = _this_owner()
        self._lock = threading.Lock()
        self._running: dict[str, _Running] = {}
        # Caller-supplied context objects for jobs about to start (not JSON: kept in memory).
        self._contexts: dict[str, Any] = {}
        if recover:
            self.recover()

    # ----------------------------------------------------------------- queries

    def job_dir(self, job_id: str) -> Path:
        """Where a job's input spill, results and errors live."""
        return self.data_dir / "jobs" / job_id

    def status(self, job_id: str) -> BatchJob:
        """The job as stored (a job whose process died shows FAILED)."""
        stored = self.store.get(job_id)
        if not stored.job.status.finished and not self._is_live(stored):
            self._mark_dead(stored)
            stored = self.store.get(job_id)
        return stored.job

    def list(self, *, status: BatchStatus | None = None, limit: int = 50) -> list[BatchJob]:
        """Jobs, newest first."""
        self.recover()
        return [s.job for s in self.store.list(status=status, limit=limit)]

    def results(self, job_id: str, *, lazy: bool = False) -> pl.DataFrame | pl.LazyFrame:
        """The finished chunks' rows in input order (``row_index`` first, then the kept input
        columns, then one column per formula). Partial for cancelled or failed jobs."""
        self.store.get(job_id)
        frame = scan_results(self.job_dir(job_id))
        return frame if lazy else frame.collect()

    def errors(self, job_id: str, *, lazy: bool = False) -> pl.DataFrame | pl.LazyFrame:
        """Per-row errors (row_index, formula, reason) of the finished chunks."""
        self.store.get(job_id)
        frame = scan_errors(self.job_dir(job_id))
        return frame if lazy else frame.collect()

    def page(self, job_id: str, *, offset: int = 0, limit: int = 100) -> dict[str, Any]:
        """Result rows ``offset`` to ``offset + limit`` with those rows' errors and the
        totals, JSON-ready (non-finite floats as None)."""
        self.store.get(job_id)
        if offset < 0 or limit < 0:
            raise ConfigError("offset and limit must be >= 0")
        job_dir = self.job_dir(job_id)
        return page(scan_results(job_dir), scan_errors(job_dir), offset=offset, limit=limit)

    def write_results(self, job_id: str, target: str | Path) -> None:
        """Write the results to a file (CSV, Parquet, JSON, NDJSON by extension)."""
        write_frame(self.results(job_id, lazy=True), target)

    # ----------------------------------------------------------------- recovery

    def _is_live(self, stored: StoredJob) -> bool:
        with _LIVE_LOCK:
            if stored.job.job_id in _LIVE_IN_PROCESS:
                return True
        if stored.owner == self._me:
            return False  # ours, but no thread runs it: the run ended without finishing
        return _owner_alive(stored, self._me)

    def _mark_dead(self, stored: StoredJob) -> None:
        if self.store.get(stored.job.job_id).job.status.finished:
            return  # its run ended between the caller's read and the liveness check
        owner = stored.owner
        who = f"pid {owner.pid} on {owner.host}" if owner else "its process"
        finish(self.store, stored.job.job_id, None,
               failure=f"the process running this job ({who}) stopped before it finished")

    def recover(self) -> list[BatchJob]:
        """Mark QUEUED/PROCESSING jobs whose process is gone as FAILED; returns them."""
        dead = [s for s in self.store.unfinished() if not self._is_live(s)]
        for stored in dead:
            self._mark_dead(stored)
        return [self.store.get(s.job.job_id).job for s in dead]

    # ----------------------------------------------------------------- commands

    def submit(self, data: Any, formulas: str | Sequence[str], *,
               executor: str = "sequential", batch_size: int | None = None,
               timeout_seconds: float | None = None, preset: str | None = None,
               define: Any = None, mapping: Any = None, context: Any = None,
               team_context: str | Path | None = None,
               cluster: Any = None, workers: int | None = None,
               progress_callback: ProgressCallback | None = None,
               wait: bool = True, check_input: bool = False) -> BatchJob:
        """Create a job and run it: in this thread (``wait=True``, returns the finished job)
        or in a background thread (returns the QUEUED job; follow it with ``status``/``wait``).

        ``data``: a Polars/pandas frame (spilled to the job directory so it can be resumed),
        a path, folder or glob (or a list), a ``QuerySource``, or a ``ConfiguredSource``
        (a stored sync, read once). ``check_input``: raise on a missing file, a bad query,
        an unknown source or a missing column now (see ``check_input``) instead of creating
        a job that fails. ``context``: a courtside
        ``Context`` or constants such as ``{"LG_PACE": 99.2}``; ``team_context``: a table
        keyed by the team column with ``Pace`` and optionally team totals (as
        ``courtside compute --team-context``); both win over derived values.
        """
        names = formula_ids(formulas, define)
        if executor not in EXECUTORS:
            raise ConfigError(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
        if batch_size is not None and batch_size < 1:
            raise ConfigError(f"batch size must be a positive number of rows, got {batch_size}")
        if timeout_seconds is not None and timeout_seconds <= 0:
            raise ConfigError(f"timeout must be positive seconds, got {timeout_seconds}")
        if check_input:
            self.check_input(data, names, preset=preset, define=define, mapping=mapping,
                             context=context, team_context=team_context)
        job_id = uuid.uuid4().hex[:16]
        job = BatchJob(
            job_id=job_id, formulas=names, input=_describe(data), executor=executor,
            batch_size=batch_size, timeout_seconds=timeout_seconds,
            result_path=str(self.job_dir(job_id) / "results"),
            options={"preset": preset, "define": _jsonable(define),
                     "mapping": _jsonable(mapping), "context": _jsonable(context),
                     "context_kept": context is None or _jsonable(context) is not None,
                     "team_context": str(Path(team_context).resolve()) if team_context
                     else None,
                     "workers": workers,
                     "cluster": cluster if isinstance(cluster, str) else None,
                     "batch_size_forced": batch_size is not None})
        self.store.insert(job)
        self.store.claim(job_id, self._me)
        if context is not None:
            self._contexts[job_id] = context
        return self._start(job_id, lambda: self._prepare_new(job_id, data),
                           executor=executor, cluster=cluster, workers=workers,
                           progress_callback=progress_callback, wait=wait)

    def resume(self, job_id: str, *, executor: str | None = None, cluster: Any = None,
               workers: int | None = None, progress_callback: ProgressCallback | None = None,
               wait: bool = True) -> BatchJob:
        """Continue a FAILED or CANCELLED job from its finished chunks (same batch size, same
        input). The executor may differ from the first run's."""
        job = self.status(job_id)
        if job.status is BatchStatus.COMPLETED:
            raise ConflictError(f"job {job_id} is already completed; nothing to resume")
        if not job.status.finished:
            raise ConflictError(f"job {job_id} is still {job.status.value}; cancel it first")
        if "input" not in job.options:
            raise ConfigError(f"job {job_id} failed before its input was read; submit it again")
        if not job.options.get("context_kept", True):
            raise ConfigError(f"job {job_id} was given a context object, which is not stored; "
                              "submit it again with the same context")
        name = executor or job.executor
        if name not in EXECUTORS:
            raise ConfigError(f"unknown executor {name!r}; use one of {', '.join(EXECUTORS)}")
        if not self.store.transition(job_id, (BatchStatus.FAILED, BatchStatus.CANCELLED),
                                     status=BatchStatus.QUEUED, executor=name, error=None):
            raise ConflictError(f"job {job_id} was resumed by someone else meanwhile")
        self.store.claim(job_id, self._me)
        return self._start(job_id, lambda: BatchInput.from_spec(job.options["input"]),
                           executor=name, cluster=cluster or job.options.get("cluster"),
                           workers=workers or job.options.get("workers"),
                           progress_callback=progress_callback, wait=wait)

    def cancel(self, job_id: str) -> BatchJob:
        """Stop a job after its current chunk (from any process); the finished chunks stay."""
        stored = self.store.get(job_id)
        if stored.job.status.finished:
            raise ConflictError(f"job {job_id} is already {stored.job.status.value}; "
                                "nothing to cancel")
        self.store.request_cancel(job_id)
        with self._lock:
            running = self._running.get(job_id)
        if running is not None:
            running.cancel.set()
        elif not self._is_live(stored):
            finish(self.store, job_id, None, failure=None, reason="cancelled")
        return self.store.get(job_id).job

    def check_input(self, data: Any, formulas: Sequence[str] | None = None, *,
                    preset: str | None = None, define: Any = None, mapping: Any = None,
                    context: Any = None, team_context: str | Path | None = None) -> None:
        """Cheap checks of an input before a job is made (files exist with a known type and
        are readable, a query is one SELECT on a valid URL, a configured source exists and
        its settings are valid); with ``formulas`` (ids), also that a frame's or files'
        columns hold what they read, mapped and with the given context as the job would.
        The error says what to fix."""
        if isinstance(data, ConfiguredSource):
            check_source(self.db, data)
            return
        check(data)
        if formulas:
            options = {"preset": preset, "mapping": mapping,
                       "team_context": str(team_context) if team_context else None}
            check_columns(data, formulas, preset=preset, define=define, mapping=mapping,
                          context=_given_context(options, context))

    def wait(self, job_id: str, timeout: float | None = None) -> BatchJob:
        """Block until a job started in the background by this manager ends."""
        with self._lock:
            running = self._running.get(job_id)
        if running is not None and running.thread is not None:
            running.thread.join(timeout)
        return self.status(job_id)

    def close(self) -> None:
        """Cancel and join this manager's background jobs, then close the database."""
        with self._lock:
            running = list(self._running.values())
        for item in running:
            item.cancel.set()
        for item in running:
            if item.thread is not None:
                item.thread.join()
        self.db.dispose()

    # ----------------------------------------------------------------- running

    def _start(self, job_id: str, prepare: Callable[[], BatchInput], *, executor: str,
               cluster: Any, workers: int | None, progress_callback: ProgressCallback | None,
               wait: bool) -> BatchJob:
        running = _Running(None, threading.Event())
        with self._lock:
            self._running[job_id] = running
        with _LIVE_LOCK:
            _LIVE_IN_PROCESS.add(job_id)
        callbacks = [progress_callback] if progress_callback else []

        def target() -> None:
            try:
                self._execute(job_id, prepare, executor=executor, cluster=cluster,
                              workers=workers, callbacks=callbacks, cancel=running.cancel)
            finally:
                with self._lock:
                    self._running.pop(job_id, None)
                with _LIVE_LOCK:
                    _LIVE_IN_PROCESS.discard(job_id)

        if wait:
            target()
            return self.store.get(job_id).job
        running.thread = threading.Thread(target=target, name=f"courtside-batch-{job_id}")
        running.thread.start()
        return self.store.get(job_id).job

    def _prepare_new(self, job_id: str, data: Any) -> BatchInput:
        described = None
        if isinstance(data, ConfiguredSource):
            data, described = read_source_frame(self.db, data)
        source = resolve(data, spill_dir=self.job_dir(job_id) / "input")
        source.description = described or source.description
        job = self.store.get(job_id).job
        options = dict(job.options)
        options["input"] = source.spec()
        self.store.update(job_id, input=source.description, options=options)
        return source

    def _execute(self, job_id: str, prepare: Callable[[], BatchInput], *, executor: str,
                 cluster: Any, workers: int | None, callbacks: list[ProgressCallback],
                 cancel: threading.Event) -> None:
        started = time.monotonic()
        # Taken before anything can fail, so a failed job does not keep its context alive.
        supplied = self._contexts.pop(job_id, None)
        try:
            self.store.update(job_id, status=BatchStatus.PROCESSING, started_at=utcnow())
            source = prepare()
            job = self.store.get(job_id).job
            options = job.options
            n_workers = workers_for(executor, workers)
            batch_size = job.batch_size or choose_batch_size(
                source.total_rows, row_bytes(source), workers=n_workers)
            preset, define, mapping = (options.get("preset"), options.get("define"),
                                       options.get("mapping"))
            given = _given_context(options, supplied)
            ctx = derive_context(source, job.formulas, preset=preset, define=define,
                                 mapping=mapping, context=given, derive=self.derive)
            explainer = self.explainer or FormulaExplainer(preset=preset, mapping=mapping,
                                                           define=define)
            task = ChunkTask(formulas=job.formulas, out_dir=str(self.job_dir(job_id)),
                             preset=preset, define=define, mapping=mapping, context=ctx,
                             partitions=source.partitions, compute=self.compute,
                             explainer=explainer)
            chunks = plan_chunks(source.partitions, batch_size)
            run_chunks(self.store, job_id, task, chunks,
                       make_executor(executor, cluster=cluster, workers=workers),
                       batch_size=batch_size, cancel_event=cancel,
                       timeout_seconds=job.timeout_seconds, callbacks=callbacks,
                       publish=self.publish, started=started)
        except KeyboardInterrupt:  # Ctrl-C while reading the input (see run_chunks)
            cancel.set()
            finish(self.store, job_id, None, failure=None, reason=CANCELLED)
        except CourtsideError as exc:
            finish(self.store, job_id, None, failure=str(exc))
        except Exception as exc:
            finish(self.store, job_id, None, failure=f"{type(exc).__name__}: {exc}")


def _given_context(options: dict[str, Any], supplied: Any) -> Any:
    """The caller's context: the object passed to ``submit`` (or the constants kept with the
    job), with the team context file's table added."""
    values = supplied if supplied is not None else options.get("context")
    team_file = options.get("team_context")
    if not team_file:
        return values
    if values is not None and not isinstance(values, Mapping):
        raise ConfigError("pass either a Context object or a team context file, not both")
    from courtside.formulas.context import Context
    from courtside.sources.presets import team_context_table
    from courtside.sources.tables import read_table

    team = team_context_table(read_table(team_file), options.get("preset"),
                              options.get("mapping"))
    return Context.of(team=team, **{str(k): float(v) for k, v in (values or {}).items()})


def _describe(data: Any) -> str:
    if isinstance(data, QuerySource):
        return f"query: {data.query[:200]}"
    if isinstance(data, ConfiguredSource):
        return f"source {data.name}"
    if isinstance(data, str | Path):
        return str(data)
    if isinstance(data, list | tuple):
        return ", ".join(str(d) for d in data)
    return type(data).__name__
