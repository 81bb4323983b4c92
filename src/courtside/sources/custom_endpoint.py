"""CUSTOM_ENDPOINT source: any HTTP endpoint serving JSON or CSV rows.

The rows are found at ``records_path`` in a JSON document (dotted: ``data.players``), or
are the document itself when it is a list; a stats.nba.com-style result set
(``{"headers": [...], "rowSet": [[...]]}``) is read too. A mapping renames columns to
canonical names. An auth header is read from an environment variable at fetch time, so the
token never sits in the sync definition or the database. Same resilience as every HTTP
source: conditional requests, rate limit, retries, circuit breaker.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from courtside.model import ConfigError
from courtside.sources.base import Source
from courtside.sources.errors import SchemaDriftError
from courtside.sources.http import HttpConfig, HttpFetcher, csv_decoder, json_decoder
from courtside.sources.records import Batch
from courtside.sources.tabular import normalise_rows

__all__ = ["CustomEndpointSource", "rows_at"]


def rows_at(doc: Any, path: str | None, url: str) -> list[dict[str, Any]]:
    """The list of row objects at a dotted path of a JSON document."""
    node = doc
    for part in (path.split(".") if path else []):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise SchemaDriftError(f"{url}: records_path {path!r} not found (no {part!r}); "
                                   "check the endpoint's document or the path", url=url)
    if isinstance(node, Mapping) and "headers" in node and "rowSet" in node:
        return [dict(zip(node["headers"], row, strict=False)) for row in node["rowSet"]]
    if isinstance(node, list) and all(isinstance(r, Mapping) for r in node):
        return [dict(r) for r in node]
    raise SchemaDriftError(f"{url}: expected a list of objects at {path or 'the top'}, got "
                           f"{type(node).__name__}; set records_path to the list", url=url)


class CustomEndpointSource(Source):
    """Polls one HTTP endpoint for rows.

    Config keys: ``url``, ``format`` (json, csv, or auto from the Content-Type),
    ``records_path``, ``mapping``, ``key``, ``data_time_column``, ``params`` (query string),
    ``headers``, ``auth_header`` (e.g. Authorization) with ``auth_env`` (the environment
    variable holding its value) and ``auth_prefix`` (e.g. "Bearer "), ``proxy``,
    ``connect_timeout``, ``read_timeout``, ``retry``, ``failure_threshold``,
    ``reset_timeout``, ``rate_per_second``.
    """

    kind = "custom_endpoint"

    def __init__(self, name: str, url: str, *, format: str = "auto",
                 records_path: str | None = None, mapping: Mapping[str, str] | None = None,
                 key: Sequence[str] | None = None, data_time_column: str | None = None,
                 params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None, auth_header: str | None = None,
                 auth_env: str | None = None, auth_prefix: str = "", proxy: str | None = None,
                 connect_timeout: float = 3.0, read_timeout: float = 10.0,
                 retry: Mapping[str, Any] | None = None, failure_threshold: int = 5,
                 reset_timeout: float = 30.0, rate_per_second: float | None = None) -> None:
        super().__init__(name)
        if format not in ("auto", "json", "csv"):
            raise ConfigError(f"format must be auto, json or csv, got {format!r}")
        if bool(auth_header) != bool(auth_env):
            raise ConfigError("auth_header and auth_env go together: auth_env names the "
                              "environment variable that holds the header's value")
        if headers and any(h.lower() in ("authorization", "x-api-key") for h in headers):
            raise ConfigError("put credentials in an environment variable and name it in "
                              "auth_env, not in headers: sync definitions are stored as is")
        self.url = url
        self.format = format
        self.records_path = records_path
        self.mapping = dict(mapping or {})
        self.key = list(key) if key else None
        self.data_time_column = data_time_column
        self.params = dict(params or {})
        self.auth_header, self.auth_env, self.auth_prefix = auth_header, auth_env, auth_prefix
        from urllib.parse import urlsplit

        host = urlsplit(url).hostname or ""
        self.config = HttpConfig.from_options({
            "headers": dict(headers or {}), "proxy": proxy, "connect_timeout": connect_timeout,
            "read_timeout": read_timeout, "retry": dict(retry or {}),
            "failure_threshold": failure_threshold, "reset_timeout": reset_timeout,
            "host_rates": {host: rate_per_second} if rate_per_second else {}})
        self._fetcher: HttpFetcher | None = None

    def _auth(self) -> dict[str, str]:
        if not self.auth_header:
            return {}
        value = os.environ.get(self.auth_env or "")
        if not value:
            raise ConfigError(f"source {self.name!r}: the environment variable {self.auth_env} "
                              f"(value of the {self.auth_header} header) is not set")
        return {self.auth_header: f"{self.auth_prefix}{value}"}

    def _decode(self, fetched: Any) -> Any:
        fmt = self.format
        if fmt == "auto":
            fmt = "csv" if "csv" in fetched.content_type.lower() else "json"
        if fmt == "csv":
            return csv_decoder(fetched)
        return rows_at(json_decoder(fetched), self.records_path, fetched.url)

    async def fetch(self) -> Batch:
        """GET the endpoint and normalise its rows."""
        if self._fetcher is None:
            self._fetcher = HttpFetcher(self.config)
        fetched = await self._fetcher.get(self.url, params=self.params or None,
                                          headers=self._auth(), decode=self._decode)
        batch = Batch(source=self.name, fetched_at=fetched.fetched_at,
                      not_modified=fetched.not_modified)
        batch.rows, self.issues = normalise_rows(
            fetched.data, source=self.name, mapping=self.mapping, key=self.key,
            data_time_column=self.data_time_column, fetched_at=fetched.fetched_at)
        return batch

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        if self._fetcher is not None:
            await self._fetcher.aclose()
            self._fetcher = None
