"""``POST /v1/calculate``: one formula, now."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from courtside.api.schemas import CalculateRequest
from courtside.api.usage import client_of
from courtside.model import NotFoundError

router = APIRouter(prefix="/v1", tags=["calculate"])


@router.post("/calculate")
async def calculate(body: CalculateRequest, request: Request) -> dict[str, Any]:
    """Compute a formula for explicit inputs and/or a live entity; returns the RealtimeTask.

    A failed calculation (unknown formula, missing input, unknown entity) answers 4xx with the
    task's error; a timeout answers 504.
    """
    service = request.app.state.service
    task = await service.calculate(body.formula, body.inputs, entity=body.entity,
                                   use_live_data=body.use_live_data,
                                   cache_result=body.cache_result,
                                   timeout_seconds=body.timeout_seconds, interface="rest",
                                   client=client_of(request.scope))
    return task_response(task, service.tasks.error_type(task))


def task_response(task: Any, error_type: type[Exception] | None = None) -> Any:
    """The task as JSON, or an error response when it failed (404 for ``error_type``
    NotFoundError, else 422) or timed out (504)."""
    from fastapi.responses import JSONResponse

    from courtside.api.errors import error_body

    data = task.to_dict()
    data["duration_ms"] = task.duration_ms
    status = task.status.value
    if status == "failed":
        code, http = _failure(error_type)
        return JSONResponse(error_body(code, task.error or "calculation failed", task=data),
                            status_code=http)
    if status == "timeout":
        return JSONResponse(error_body("timeout", task.error or "calculation timed out",
                                       task=data), status_code=504)
    return data


def _failure(error_type: type[Exception] | None) -> tuple[str, int]:
    # by the exception's type, never its wording: NotFoundError (unknown formula, game or
    # entity) is a 404; bad arguments or data (ConfigError, DataError...) and a formula that
    # failed on these inputs are a 422
    if error_type is not None and issubclass(error_type, NotFoundError):
        return "not_found", 404
    return "calculation_failed", 422
