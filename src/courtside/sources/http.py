"""A resilient HTTP fetcher on httpx.AsyncClient.

Every request goes through, in order: the circuit breaker of its host (fail fast while
open), the host's token bucket, and a retry loop with exponential backoff and jitter around
one conditional GET (If-None-Match / If-Modified-Since from the last 200; a 304 returns the
cached body with ``not_modified`` set).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from courtside.model import ConfigError, utcnow
from courtside.sources.breaker import CircuitBreaker
from courtside.sources.errors import FetchError, HTTPStatusError, SourceError
from courtside.sources.payload import decode_csv, decode_json, html_error, looks_like_html
from courtside.sources.ratelimit import HostLimiter
from courtside.sources.retry import RetryPolicy, call_with_retries

__all__ = ["Fetched", "HttpConfig", "HttpFetcher", "csv_decoder", "json_decoder"]


@dataclass(slots=True)
class HttpConfig:
    """How to reach an HTTP source.

    Attributes:
        base_url: prefix of relative paths (``https://cdn.nba.com``).
        headers: sent with every request (User-Agent, Referer, an auth header...).
        proxy: an HTTP(S) proxy URL, or None.
        connect_timeout, read_timeout: seconds per phase of one attempt.
        retry: backoff policy for retryable failures (timeouts, 5xx, truncated bodies).
        failure_threshold, reset_timeout: the circuit breaker of each host.
        host_rates: requests per second by host (None: the defaults, stats.nba.com 1/s).
        conditional: send If-None-Match / If-Modified-Since.
    """

    base_url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    proxy: str | None = None
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    failure_threshold: int = 5
    reset_timeout: float = 30.0
    host_rates: dict[str, float] | None = None
    conditional: bool = True

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> HttpConfig:
        """Build from a sync's JSON config (keys as the attributes; ``retry`` a dict)."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(options) - known
        if unknown:
            raise ConfigError(f"unknown HTTP option(s) {sorted(unknown)}; known: {sorted(known)}")
        opts = dict(options)
        if isinstance(opts.get("retry"), Mapping):
            opts["retry"] = RetryPolicy(**opts["retry"])
        return cls(**opts)


@dataclass(slots=True)
class Fetched:
    """One response body and what is known about it."""

    url: str
    status: int
    body: bytes
    content_type: str
    fetched_at: datetime
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    data: Any = None

    def age_seconds(self) -> float:
        """Seconds since this body was received."""
        return (utcnow() - self.fetched_at).total_seconds()


Decoder = Callable[[Fetched], Any]


def json_decoder(fetched: Fetched) -> Any:
    """Decode a body as JSON (clear errors for HTML and truncated bodies)."""
    return decode_json(fetched.body, url=fetched.url, status=fetched.status,
                       content_type=fetched.content_type)


def csv_decoder(fetched: Fetched) -> Any:
    """Decode a body as CSV rows."""
    return decode_csv(fetched.body, url=fetched.url, status=fetched.status,
                      content_type=fetched.content_type)


class HttpFetcher:
    """GETs with conditional requests, rate limits, retries and a breaker per host."""

    def __init__(self, config: HttpConfig | None = None, *, limiter: HostLimiter | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config or HttpConfig()
        self.limiter = limiter or HostLimiter(self.config.host_rates)
        self._breakers: dict[str, CircuitBreaker] = {}
        self._cache: dict[str, Fetched] = {}
        timeout = httpx.Timeout(self.config.read_timeout, connect=self.config.connect_timeout)
        self._client = httpx.AsyncClient(headers=self.config.headers, proxy=self.config.proxy,
                                         timeout=timeout, transport=transport,
                                         follow_redirects=True)

    def url(self, path: str) -> str:
        """The absolute URL of a path (absolute URLs pass through)."""
        if urlsplit(path).scheme:
            return path
        if not self.config.base_url:
            raise ConfigError(f"relative path {path!r} but no base_url is configured")
        return urljoin(self.config.base_url.rstrip("/") + "/", path.lstrip("/"))

    def breaker(self, url: str) -> CircuitBreaker:
        """The circuit breaker of the URL's host."""
        host = urlsplit(url).netloc
        if host not in self._breakers:
            self._breakers[host] = CircuitBreaker(host, self.config.failure_threshold,
                                                  self.config.reset_timeout)
        return self._breakers[host]

    async def get(self, path: str, params: Mapping[str, Any] | None = None,
                  headers: Mapping[str, str] | None = None,
                  decode: Decoder | None = json_decoder) -> Fetched:
        """GET a path and decode its body (``Fetched.data``).

        Decoding happens inside the retry loop, so a truncated body is retried like a
        timeout. Raises a :class:`SourceError` subclass when no usable body came back.
        """
        url = self.url(path)
        key = str(httpx.URL(url, params=params)) if params else url
        breaker = self.breaker(url)
        breaker.before_call()
        try:
            fetched = await call_with_retries(
                lambda: self._attempt(url, key, params, headers, decode), self.config.retry)
        except SourceError:
            breaker.record_failure()
            raise
        except BaseException:
            # Cancelled (a caller's timeout): says nothing about the host, frees the trial.
            breaker.record_abandoned()
            raise
        breaker.record_success()
        if not fetched.not_modified and (fetched.etag or fetched.last_modified):
            self._cache[key] = fetched
        return fetched

    async def _attempt(self, url: str, key: str, params: Mapping[str, Any] | None,
                       headers: Mapping[str, str] | None, decode: Decoder | None) -> Fetched:
        await self.limiter.acquire(url)
        request_headers = dict(headers or {})
        cached = self._cache.get(key)
        if self.config.conditional and cached is not None:
            if cached.etag:
                request_headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                request_headers["If-Modified-Since"] = cached.last_modified
        try:
            response = await self._client.get(url, params=params, headers=request_headers)
        except httpx.TimeoutException as exc:
            raise FetchError(f"{url} timed out ({type(exc).__name__}); the server is slow or "
                             "unreachable", url=url) from exc
        except httpx.TransportError as exc:
            raise FetchError(f"{url} could not be fetched: {type(exc).__name__}: {exc}",
                             url=url) from exc
        now = utcnow()
        content_type = response.headers.get("content-type", "")
        if response.status_code == 304 and cached is not None:
            return Fetched(url=key, status=304, body=cached.body,
                           content_type=cached.content_type, fetched_at=now, not_modified=True,
                           etag=cached.etag, last_modified=cached.last_modified,
                           data=cached.data)
        body = response.content
        if response.status_code >= 400:
            if looks_like_html(body, content_type):
                raise html_error(body, response.status_code, url)
            raise HTTPStatusError(f"{url} answered HTTP {response.status_code} "
                                  f"{response.reason_phrase}", status=response.status_code,
                                  url=url)
        fetched = Fetched(url=key, status=response.status_code, body=body,
                          content_type=content_type, fetched_at=now,
                          etag=response.headers.get("etag"),
                          last_modified=response.headers.get("last-modified"))
        if decode is not None:
            fetched.data = decode(fetched)
        return fetched

    def forget(self, fetched: Fetched) -> None:
        """Drop the cached body of a URL so the next request is unconditional.

        Adapters call this when a body decoded but failed their schema: the server must
        not be asked "has it changed since that broken version?".
        """
        self._cache.pop(fetched.url, None)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def __aenter__(self) -> HttpFetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.shield(self.aclose())
