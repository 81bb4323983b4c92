"""``/v1/jobs``: batch jobs over files, inline rows, database queries or configured sources.

Every route is one call of the service's job API, which the CLI and MCP use too
(``process_batch``, ``list_batches``, ``batch_status``, ``cancel_batch``, ``resume_batch``,
``batch_results``); nothing about jobs is decided here.
Progress of a job goes to the WebSocket topic ``jobs:<id>``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from courtside.api.auth import require_token
from courtside.api.errors import error_body
from courtside.api.job_schemas import ErrorResponse, JobList, JobRequest, JobResults, JobView
from courtside.batch.inputs import QuerySource
from courtside.batch.sourceinput import ConfiguredSource
from courtside.model import BatchStatus, NotFoundError

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "An invalid setting (a query that is not "
                                                 "one SELECT, a bad database URL...)."},
    404: {"model": ErrorResponse, "description": "No such job."},
    409: {"model": ErrorResponse, "description": "The job's state forbids it (cancel a "
                                                 "finished job...)."},
    422: {"model": ErrorResponse, "description": "Unknown formula or source, unreadable "
                                                 "input or an invalid body."},
}


def _data(body: JobRequest) -> Any:
    given = body.input
    if given.rows is not None:
        import polars as pl

        return pl.DataFrame(given.rows, infer_schema_length=None)
    if given.query is not None:
        return QuerySource(given.query.url, given.query.sql)
    if given.source is not None:
        return ConfiguredSource(given.source)
    return given.path


@router.post("", status_code=202, response_model=JobView, responses=_ERRORS,
             dependencies=[Depends(require_token)])
async def submit_job(body: JobRequest, request: Request,
                     response: Response) -> JobView | JSONResponse:
    """Start a batch job; answers at once with the queued job and its ``Location``.

    The input is checked first (files exist and are readable, the query is one SELECT, the
    source is configured), so a bad request is a 4xx, not a failed job. Follow the job with
    ``GET /v1/jobs/{id}`` or the WebSocket topic ``jobs:<id>``.
    """
    service = request.app.state.service
    data = await asyncio.to_thread(_data, body)
    try:
        job = await service.process_batch(
            body.formulas, data, executor=body.executor, batch_size=body.batch_size,
            timeout_seconds=body.timeout_seconds, preset=body.preset, mapping=body.mapping,
            define=body.define, context=body.context, workers=body.workers,
            cluster=body.cluster, check_input=True)
    except NotFoundError as exc:
        # an unknown formula or source named in the body: the body is wrong, not the URL
        return JSONResponse(error_body(exc.code, str(exc)), status_code=422)
    response.headers["Location"] = f"/v1/jobs/{job.job_id}"
    return JobView.of(job)


@router.get("", response_model=JobList)
async def list_jobs(request: Request,
                    status: Annotated[BatchStatus | None,
                                      Query(description="Only this status.")] = None,
                    limit: int = Query(50, ge=1, le=500)) -> JobList:
    """Jobs, newest first."""
    jobs = await request.app.state.service.list_batches(status, limit)
    return JobList(count=len(jobs), jobs=[JobView.of(j) for j in jobs])


@router.get("/{job_id}", response_model=JobView, responses=_ERRORS)
async def get_job(job_id: str, request: Request) -> JobView:
    """A job: status, row and chunk counts, timings, error, where its results are."""
    return JobView.of(await request.app.state.service.batch_status(job_id))


@router.post("/{job_id}/cancel", response_model=JobView, responses=_ERRORS,
             dependencies=[Depends(require_token)])
async def cancel_job(job_id: str, request: Request) -> JobView:
    """Stop a job after its current chunk; its finished chunks keep their results. The job
    may still show ``processing`` until that chunk ends."""
    return JobView.of(await request.app.state.service.cancel_batch(job_id))


@router.post("/{job_id}/resume", status_code=202, response_model=JobView, responses=_ERRORS,
             dependencies=[Depends(require_token)])
async def resume_job(job_id: str, request: Request) -> JobView:
    """Continue a failed or cancelled job from its last finished chunk, in the background."""
    return JobView.of(await request.app.state.service.resume_batch(job_id))


@router.get("/{job_id}/results", response_model=JobResults, responses=_ERRORS)
async def job_results(job_id: str, request: Request,
                      offset: int = Query(0, ge=0, description="Rows to skip."),
                      limit: int = Query(100, ge=0, le=10_000, description="Rows to return.")
                      ) -> JobResults:
    """Result rows in input order (partial while the job runs or after a failure), with
    the per-row errors (row_index, formula, reason) of the rows returned."""
    return JobResults(**await request.app.state.service.batch_results(
        job_id, offset=offset, limit=limit))
