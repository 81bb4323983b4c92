"""Batch job tables: one row per job, one row per finished chunk.

A chunk row is written in the same transaction that advances the job's counters, so after a
crash the job row and its chunk rows agree, and ``resume`` knows exactly which chunks to redo.
The owner (host, pid, process start time, heartbeat) tells whether a PROCESSING job's process
is still alive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    func,
    select,
    update,
)

from courtside.model import BatchJob, BatchStatus, NotFoundError, utcnow
from courtside.storage.db import Database, as_utc, metadata

batch_jobs = Table(
    "batch_jobs",
    metadata,
    Column("job_id", String(64), primary_key=True),
    Column("status", String(16), nullable=False, index=True),
    Column("formulas", JSON, nullable=False),
    Column("input", Text, nullable=False),
    Column("executor", String(32), nullable=False),
    Column("batch_size", Integer),
    Column("total_rows", Integer, nullable=False, default=0),
    Column("processed_rows", Integer, nullable=False, default=0),
    Column("failed_rows", Integer, nullable=False, default=0),
    Column("chunks_total", Integer, nullable=False, default=0),
    Column("chunks_done", Integer, nullable=False, default=0),
    Column("timeout_seconds", Float),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True)),
    Column("error", Text),
    Column("result_path", Text),
    Column("options", JSON, nullable=False),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("owner_host", String(255)),
    Column("owner_pid", Integer),
    Column("owner_started", Float),
    Column("heartbeat_at", DateTime(timezone=True)),
)

batch_job_chunks = Table(
    "batch_job_chunks",
    metadata,
    Column("job_id", String(64), ForeignKey("batch_jobs.job_id", ondelete="CASCADE"),
           primary_key=True),
    Column("chunk_index", Integer, primary_key=True),
    Column("row_start", Integer, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("failed_rows", Integer, nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
)

_JOB_FIELDS = (
    "job_id", "status", "formulas", "input", "executor", "batch_size", "total_rows",
    "processed_rows", "failed_rows", "chunks_total", "chunks_done", "timeout_seconds",
    "created_at", "started_at", "completed_at", "error", "result_path", "options",
)


@dataclass(frozen=True, slots=True)
class Owner:
    """The process that runs a job: used to tell a live job from one whose process died."""

    host: str
    pid: int
    started: float  # the process's start time (psutil), so a reused pid is not mistaken


@dataclass(frozen=True, slots=True)
class StoredJob:
    """A job row: the public ``BatchJob`` plus the bookkeeping only the engine needs."""

    job: BatchJob
    cancel_requested: bool
    owner: Owner | None
    heartbeat_at: datetime | None


def _row_to_stored(row: Any) -> StoredJob:
    m = row._mapping
    data = {name: m[name] for name in _JOB_FIELDS}
    for name in ("created_at", "started_at", "completed_at"):
        data[name] = as_utc(data[name])
    data["status"] = BatchStatus(data["status"])
    owner = None
    if m["owner_pid"] is not None:
        owner = Owner(m["owner_host"] or "", int(m["owner_pid"]), float(m["owner_started"] or 0))
    return StoredJob(BatchJob(**data), bool(m["cancel_requested"]), owner,
                     as_utc(m["heartbeat_at"]))


class JobStore:
    """Reads and writes batch jobs and their finished chunks."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, job: BatchJob) -> None:
        """Store a new job."""
        values = {name: getattr(job, name) for name in _JOB_FIELDS}
        values["status"] = job.status.value
        values["cancel_requested"] = False
        with self.db.begin() as conn:
            conn.execute(batch_jobs.insert().values(**values))

    def get(self, job_id: str) -> StoredJob:
        """The job with this id; NotFoundError when there is none."""
        with self.db.begin() as conn:
            row = conn.execute(select(batch_jobs).where(batch_jobs.c.job_id == job_id)).first()
        if row is None:
            raise NotFoundError(f"no batch job {job_id!r}; `courtside batch list` shows the jobs")
        return _row_to_stored(row)

    def list(self, *, status: BatchStatus | None = None, limit: int = 50) -> list[StoredJob]:
        """Jobs, newest first."""
        query = select(batch_jobs).order_by(batch_jobs.c.created_at.desc()).limit(limit)
        if status is not None:
            query = query.where(batch_jobs.c.status == status.value)
        with self.db.begin() as conn:
            return [_row_to_stored(r) for r in conn.execute(query)]

    def unfinished(self) -> list[StoredJob]:
        """Jobs that are QUEUED or PROCESSING according to the database."""
        query = select(batch_jobs).where(batch_jobs.c.status.in_(
            [BatchStatus.QUEUED.value, BatchStatus.PROCESSING.value]))
        with self.db.begin() as conn:
            return [_row_to_stored(r) for r in conn.execute(query)]

    def update(self, job_id: str, **fields: Any) -> None:
        """Set some columns of a job (enums stored as their values)."""
        values = {k: (v.value if isinstance(v, BatchStatus) else v) for k, v in fields.items()}
        with self.db.begin() as conn:
            conn.execute(update(batch_jobs).where(batch_jobs.c.job_id == job_id).values(**values))

    def transition(self, job_id: str, allowed: Iterable[BatchStatus], **fields: Any) -> bool:
        """Set columns only if the job is in one of the ``allowed`` statuses; True if it was.

        A compare-and-set in one statement, so two processes resuming the same job cannot
        both win.
        """
        values = {k: (v.value if isinstance(v, BatchStatus) else v) for k, v in fields.items()}
        with self.db.begin() as conn:
            done = conn.execute(update(batch_jobs).where(
                batch_jobs.c.job_id == job_id,
                batch_jobs.c.status.in_([s.value for s in allowed])).values(**values))
        return done.rowcount == 1

    def claim(self, job_id: str, owner: Owner) -> None:
        """Mark the job as run by ``owner`` from now on."""
        self.update(job_id, owner_host=owner.host, owner_pid=owner.pid,
                    owner_started=owner.started, heartbeat_at=utcnow(), cancel_requested=False)

    def record_chunk(self, job_id: str, chunk_index: int, row_start: int, rows: int,
                     failed_rows: int) -> None:
        """Record a finished chunk and advance the job's counters, atomically."""
        now = utcnow()
        with self.db.begin() as conn:
            conn.execute(batch_job_chunks.insert().values(
                job_id=job_id, chunk_index=chunk_index, row_start=row_start, rows=rows,
                failed_rows=failed_rows, finished_at=now))
            conn.execute(update(batch_jobs).where(batch_jobs.c.job_id == job_id).values(
                processed_rows=batch_jobs.c.processed_rows + rows,
                failed_rows=batch_jobs.c.failed_rows + failed_rows,
                chunks_done=batch_jobs.c.chunks_done + 1,
                heartbeat_at=now))

    def finished_chunks(self, job_id: str) -> dict[int, tuple[int, int, int]]:
        """chunk index -> (row_start, rows, failed_rows) of every finished chunk."""
        query = select(batch_job_chunks.c.chunk_index, batch_job_chunks.c.row_start,
                       batch_job_chunks.c.rows, batch_job_chunks.c.failed_rows
                       ).where(batch_job_chunks.c.job_id == job_id)
        with self.db.begin() as conn:
            return {r[0]: (r[1], r[2], r[3]) for r in conn.execute(query)}

    def recount(self, job_id: str) -> None:
        """Make the job's counters equal to the sum of its chunk rows (after a crash)."""
        with self.db.begin() as conn:
            processed, failed, done = conn.execute(select(
                func.coalesce(func.sum(batch_job_chunks.c.rows), 0),
                func.coalesce(func.sum(batch_job_chunks.c.failed_rows), 0),
                func.count()).where(batch_job_chunks.c.job_id == job_id)).one()
            conn.execute(update(batch_jobs).where(batch_jobs.c.job_id == job_id).values(
                processed_rows=processed, failed_rows=failed, chunks_done=done))

    def request_cancel(self, job_id: str) -> None:
        """Ask the process running the job to stop after its current chunk."""
        self.get(job_id)
        self.update(job_id, cancel_requested=True)

    def is_cancel_requested(self, job_id: str) -> bool:
        """Whether someone asked this job to stop."""
        with self.db.begin() as conn:
            value = conn.execute(select(batch_jobs.c.cancel_requested)
                                 .where(batch_jobs.c.job_id == job_id)).scalar()
        return bool(value)

    def heartbeat(self, job_id: str) -> None:
        """Say the owner is still alive."""
        self.update(job_id, heartbeat_at=utcnow())

    def delete(self, job_ids: Iterable[str]) -> None:
        """Remove jobs and their chunk rows."""
        ids = list(job_ids)
        with self.db.begin() as conn:
            conn.execute(batch_job_chunks.delete().where(batch_job_chunks.c.job_id.in_(ids)))
            conn.execute(batch_jobs.delete().where(batch_jobs.c.job_id.in_(ids)))
