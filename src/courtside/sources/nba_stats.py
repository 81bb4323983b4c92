"""NBA_API history source: stats.nba.com endpoints (leaguegamelog...) through ``nba_api``.

``nba_api`` supplies what it knows best, each endpoint's name, parameters and defaults, and
the parsing of its result sets; the request itself goes through courtside's
:class:`HttpFetcher`, so the base URL, headers, proxy and timeouts are configurable and the
stats host gets its token bucket (one request per second by default), retries, circuit
breaker and conditional requests.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from courtside.model import ConfigError
from courtside.sources.base import Source
from courtside.sources.errors import SchemaDriftError
from courtside.sources.http import Fetched, HttpConfig, HttpFetcher, json_decoder
from courtside.sources.records import Batch
from courtside.sources.tabular import normalise_rows

__all__ = ["NbaStatsSource", "endpoint_class"]


def endpoint_class(name: str) -> type:
    """The ``nba_api.stats.endpoints`` class of an endpoint name (``leaguegamelog``)."""
    module_name = name.lower()
    try:
        module = importlib.import_module(f"nba_api.stats.endpoints.{module_name}")
    except ImportError as exc:
        raise ConfigError(f"nba_api has no stats endpoint {name!r}; see "
                          "nba_api.stats.endpoints for the names (e.g. leaguegamelog)") from exc
    for value in vars(module).values():
        if isinstance(value, type) and getattr(value, "endpoint", "").lower() == module_name:
            return value
    raise ConfigError(f"nba_api module {module_name} defines no endpoint class")


def _default_headers() -> dict[str, str]:
    from nba_api.stats.library.http import STATS_HEADERS

    # httpx sets Host from the URL, which matters when base_url points elsewhere.
    return {k: v for k, v in STATS_HEADERS.items() if k.lower() != "host"}


class NbaStatsSource(Source):
    """One stats.nba.com endpoint, fetched as rows of canonical stats.

    Config keys: ``endpoint`` (default leaguegamelog), ``params`` (the nba_api endpoint's
    keyword arguments, e.g. ``{"season": "2018-19", "player_or_team_abbreviation": "T"}``),
    ``result_set`` (default: the first), ``base_url`` (default https://stats.nba.com/stats),
    ``headers``, ``proxy``, ``connect_timeout``, ``read_timeout``, ``retry``,
    ``failure_threshold``, ``reset_timeout``, ``rate_per_second`` (default 1), ``key``,
    ``mapping``.
    """

    kind = "nba_api"

    def __init__(self, name: str, endpoint: str = "leaguegamelog", *,
                 params: Mapping[str, Any] | None = None, result_set: str | None = None,
                 base_url: str = "https://stats.nba.com/stats",
                 headers: Mapping[str, str] | None = None, proxy: str | None = None,
                 connect_timeout: float = 5.0, read_timeout: float = 30.0,
                 retry: Mapping[str, Any] | None = None, failure_threshold: int = 5,
                 reset_timeout: float = 60.0, rate_per_second: float = 1.0,
                 key: Sequence[str] | None = None, mapping: Mapping[str, str] | None = None,
                 data_types: Sequence[str] | None = None) -> None:
        super().__init__(name)
        cls = endpoint_class(endpoint)
        try:
            self.parameters = dict(cls(**dict(params or {}), get_request=False).parameters)
        except TypeError as exc:
            raise ConfigError(f"bad params for nba_api {cls.__name__}: {exc}") from exc
        self.endpoint = cls.endpoint
        self.result_set = result_set
        self.url = f"{base_url.rstrip('/')}/{self.endpoint}"
        self.key = list(key) if key else None
        self.mapping = dict(mapping or {})
        self.data_types = list(data_types or ["gamelog"])
        self.config = HttpConfig.from_options({
            "headers": {**_default_headers(), **dict(headers or {})}, "proxy": proxy,
            "connect_timeout": connect_timeout, "read_timeout": read_timeout,
            "retry": dict(retry or {}), "failure_threshold": failure_threshold,
            "reset_timeout": reset_timeout,
            "host_rates": {urlsplit(self.url).hostname or "": rate_per_second}})
        self._fetcher: HttpFetcher | None = None

    def _rows(self, fetched: Fetched) -> list[dict[str, Any]]:
        from nba_api.stats.library.http import NBAStatsResponse

        doc = json_decoder(fetched)
        response = NBAStatsResponse(response=fetched.body.decode("utf-8"),
                                    status_code=fetched.status, url=fetched.url)
        try:
            if "resultSets" in doc or "resultSet" in doc:
                sets = response.get_data_sets()
            else:
                sets = response.get_data_sets(endpoint=self.endpoint)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SchemaDriftError(f"{fetched.url}: not a stats.nba.com result: {exc}",
                                   url=fetched.url) from exc
        if not sets:
            raise SchemaDriftError(f"{fetched.url}: the response holds no result set",
                                   url=fetched.url)
        name = self.result_set or next(iter(sets))
        if name not in sets:
            raise SchemaDriftError(f"{fetched.url}: no result set {name!r}; it has "
                                   f"{sorted(sets)}", url=fetched.url)
        data = sets[name]
        return [dict(zip(data["headers"], row, strict=False)) for row in data["data"]]

    async def fetch(self) -> Batch:
        """Request the endpoint (paced by the host's token bucket) and normalise its rows."""
        if self._fetcher is None:
            self._fetcher = HttpFetcher(self.config)
        fetched = await self._fetcher.get(self.url, params=self.parameters, decode=self._rows)
        batch = Batch(source=self.name, fetched_at=fetched.fetched_at,
                      not_modified=fetched.not_modified)
        batch.rows, self.issues = normalise_rows(
            fetched.data, source=self.name, mapping=self.mapping, key=self.key,
            data_time_column="GAME_DATE", fetched_at=fetched.fetched_at)
        return batch

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        if self._fetcher is not None:
            await self._fetcher.aclose()
            self._fetcher = None
