"""courtside's errors as JSON responses: ``{"error": {"code": ..., "message": ...}}``.

Every error a request can cause maps to a 4xx with a message that says what to fix; anything
unexpected becomes a 500 with a generic message (the traceback goes to the log, never to the
client).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from courtside.model import (
    ConfigError,
    ConflictError,
    CourtsideError,
    DataError,
    FormulaError,
    NotFoundError,
)

__all__ = ["HTTP_CODES", "error_body", "install_error_handlers", "status_for"]

log = logging.getLogger(__name__)

_STATUS: list[tuple[type[CourtsideError], int]] = [
    (NotFoundError, 404),
    (FormulaError, 422),
    (DataError, 422),
    (ConflictError, 409),
    (ConfigError, 400),
]

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    500: "internal_error",
    504: "timeout",
    413: "too_large",
    422: "invalid_request",
    429: "too_many_requests",
    503: "unavailable",
}


def status_for(exc: CourtsideError) -> int:
    """The HTTP status of a courtside error (400 for an unknown kind)."""
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def error_body(code: str, message: str, **extra: object) -> dict:
    """The JSON body of every error response."""
    return {"error": {"code": code, "message": message, **extra}}


async def _courtside_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CourtsideError)
    extra: dict[str, object] = {}
    if isinstance(exc, FormulaError) and exc.column is not None:
        extra = {"column": exc.column, "token": exc.token}
    return JSONResponse(error_body(exc.code, str(exc), **extra), status_code=status_for(exc))


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return JSONResponse(error_body("invalid_request", "; ".join(problems)), status_code=422)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse(
        error_body("internal_error", f"the server failed on this request ({type(exc).__name__}); "
                   "see the service log"),
        status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into JSON error bodies."""
    app.add_exception_handler(CourtsideError, _courtside_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
