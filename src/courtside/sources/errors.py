"""The errors sources raise: each says what went wrong, where, and what to try.

They are :class:`~courtside.model.DataError` subclasses, so callers that only care about
"bad input" can catch that; the scheduler uses ``retryable`` to decide whether to try again
within the same run.
"""

from __future__ import annotations

from courtside.model import DataError

__all__ = [
    "CircuitOpenError",
    "FetchError",
    "HTMLPageError",
    "HTTPStatusError",
    "SchemaDriftError",
    "SourceError",
    "TruncatedJSONError",
]


class SourceError(DataError):
    """A source could not deliver usable data this time."""

    code = "source_error"
    retryable = False

    def __init__(self, message: str, *, url: str | None = None) -> None:
        self.url = url
        super().__init__(message)


class FetchError(SourceError):
    """The request itself failed: timeout, refused connection, reset. Worth a retry."""

    code = "fetch_failed"
    retryable = True


class HTTPStatusError(FetchError):
    """The server answered with an error status (5xx and 429 are retried, other 4xx not)."""

    code = "http_status"

    def __init__(self, message: str, *, status: int, url: str | None = None) -> None:
        self.status = status
        self.retryable = status >= 500 or status == 429
        super().__init__(message, url=url)


class HTMLPageError(SourceError):
    """An HTML page (a block page, a login or error page) came back where JSON was expected."""

    code = "html_instead_of_json"

    def __init__(self, message: str, *, status: int, url: str | None = None) -> None:
        self.status = status
        super().__init__(message, url=url)


class TruncatedJSONError(SourceError):
    """The body is JSON that stops early: the connection dropped or a proxy cut it."""

    code = "truncated_json"
    retryable = True


class SchemaDriftError(SourceError):
    """The document parsed but does not have the shape the adapter knows (a renamed key...)."""

    code = "schema_drift"


class CircuitOpenError(SourceError):
    """The circuit breaker of a host is open: no request is sent until it cools down."""

    code = "circuit_open"

    def __init__(self, message: str, *, retry_after: float, url: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message, url=url)
