"""Request and response bodies of ``/v1/jobs`` (batch jobs), as typed pydantic models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from courtside.model import BatchJob, BatchStatus

__all__ = ["MAX_INLINE_ROWS", "ErrorResponse", "JobInput", "JobList", "JobRequest", "JobResults", "JobView",
           "QueryInput", "RowError"]

MAX_INLINE_ROWS = 100_000


class QueryInput(BaseModel):
    """One read-only SELECT against a database the server can reach."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000,
                     description="SQLAlchemy URL, e.g. sqlite:///nba.db or "
                                 "postgresql+psycopg://user@host/db.")
    sql: str = Field(min_length=1, max_length=100_000,
                     description="A single SELECT (or WITH ... SELECT); it runs read-only.")


class JobInput(BaseModel):
    """What to compute over: exactly one of ``path``, ``rows``, ``query`` or ``source``."""

    model_config = ConfigDict(extra="forbid")

    path: str | list[str] | None = Field(
        default=None, description="A file, folder or glob on the server (CSV, Parquet, JSON, "
                                  "NDJSON by extension), or a list of them.")
    rows: list[dict[str, Any]] | None = Field(
        default=None, min_length=1, max_length=MAX_INLINE_ROWS,
        description="Inline rows, column names as in your data (PTS, FGA...).")
    query: QueryInput | None = None
    source: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="The name or id of a configured source (a sync: GET /v1/syncs), read once.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [k for k in ("path", "rows", "query", "source") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of path, rows, query or source "
                             f"(got {', '.join(given) or 'none'})")
        return self


class JobRequest(BaseModel):
    """A batch job: formulas over an input, in chunks."""

    model_config = ConfigDict(extra="forbid")

    formulas: list[str] = Field(min_length=1, max_length=200,
                                description="Formula ids or aliases, e.g. [\"TS_PCT\", \"PER\"].")
    input: JobInput
    executor: Literal["sequential", "parallel", "dask"] = Field(
        default="sequential", description="sequential (one core), parallel (every core) or "
                                          "dask (a cluster: see cluster).")
    batch_size: int | None = Field(default=None, ge=1,
                                   description="Rows per chunk; default: from the data size.")
    timeout_seconds: float | None = Field(default=None, gt=0,
                                          description="Fail the job after this long.")
    preset: str | None = Field(default=None, description="Input vocabulary: nba-stats, "
                                                         "nba-live or bbr; default: guessed.")
    mapping: dict[str, str] | None = Field(
        default=None, description="Input column -> canonical name, e.g. {\"Points\": \"PTS\", "
                                  "\"Game\": \"GAME\"}.")
    define: list[str] | None = Field(default=None, max_length=50,
                                     description="Custom formulas, e.g. [\"STOCKS=STL+BLK\"].")
    context: dict[str, float] | None = Field(
        default=None, description="League constants that win over derived ones, e.g. "
                                  "{\"LG_PACE\": 99.2}.")
    workers: int | None = Field(default=None, ge=1, le=256,
                                description="Local workers for parallel and dask.")
    cluster: str | None = Field(default=None, max_length=500,
                                description="Dask scheduler address (tcp://host:8786).")


class JobView(BaseModel):
    """A batch job: status, counts, timings, error and where its results are."""

    job_id: str
    status: BatchStatus
    formulas: list[str]
    input: str
    executor: str
    batch_size: int | None
    total_rows: int
    processed_rows: int
    failed_rows: int = Field(description="Rows with at least one null value (see errors).")
    chunks_total: int
    chunks_done: int
    progress: float = Field(description="Fraction of rows processed, 0 to 1.")
    timeout_seconds: float | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    error: str | None
    result_path: str | None = Field(description="Where the results are kept on the server.")
    results_url: str = Field(description="GET it for the result rows and per-row errors.")

    @classmethod
    def of(cls, job: BatchJob) -> JobView:
        """The view of a job (its internal options are left out)."""
        data = job.to_dict()
        data.pop("options", None)
        return cls(**data, progress=job.progress, results_url=f"/v1/jobs/{job.job_id}/results")


class JobList(BaseModel):
    """Jobs, newest first."""

    count: int
    jobs: list[JobView]


class RowError(BaseModel):
    """Why a row's formula value is null."""

    row_index: int
    formula: str
    reason: str


class JobResults(BaseModel):
    """A page of a job's result rows (input order) with those rows' errors."""

    job_id: str
    status: BatchStatus
    total_rows: int = Field(description="Result rows so far (partial unless completed).")
    offset: int
    limit: int
    next_offset: int | None = Field(description="The offset of the next page, or null.")
    rows: list[dict[str, Any]] = Field(
        description="row_index, the input's columns, then one column per formula.")
    errors: list[RowError] = Field(description="The errors of the rows in this page.")
    error_count: int = Field(description="Errors over every result row.")


class ErrorDetail(BaseModel):
    """What went wrong and how to fix it."""

    code: str = Field(description="not_found, invalid_request, invalid_data, conflict...")
    message: str


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorDetail
