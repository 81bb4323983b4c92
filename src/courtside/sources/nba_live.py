"""NBA_API live source: cdn.nba.com liveData scoreboard, boxscores and play-by-play.

Data types: ``scoreboard`` (the day's games; also how games to follow are found),
``boxscore`` (one box score per followed game) and ``playbyplay`` (the box score derived
from the events, when ``boxscore`` is not asked for: the play-by-play feed moves first).
Without ``game_ids`` the source follows the scoreboard's live games, and each game that
turns final once more. Every request goes through :class:`HttpFetcher`, so one game's
failure is reported in ``Batch.errors`` while the other games flow.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from courtside.model import ConfigError, DataError, GameSnapshot, utcnow
from courtside.sources.base import Source
from courtside.sources.errors import SchemaDriftError, SourceError
from courtside.sources.http import Fetched, HttpConfig, HttpFetcher
from courtside.sources.records import Batch

__all__ = ["BOXSCORE_PATH", "LIVE_DATA_TYPES", "PLAYBYPLAY_PATH", "SCOREBOARD_PATH",
           "NbaLiveSource"]

SCOREBOARD_PATH = "/static/json/liveData/scoreboard/todaysScoreboard_00.json"
BOXSCORE_PATH = "/static/json/liveData/boxscore/boxscore_{game_id}.json"
PLAYBYPLAY_PATH = "/static/json/liveData/playbyplay/playbyplay_{game_id}.json"
LIVE_DATA_TYPES = ("scoreboard", "boxscore", "playbyplay")

DEFAULT_HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) courtside",
    "Accept": "application/json",
    "Referer": "https://www.nba.com/",
    "Origin": "https://www.nba.com",
}


class NbaLiveSource(Source):
    """Polls cdn.nba.com liveData (or a server with the same paths, such as fake-nba).

    Config keys: ``base_url`` (default https://cdn.nba.com), ``game_ids``, ``data_types``,
    ``headers``, ``proxy``, ``connect_timeout``, ``read_timeout``, ``retry`` (attempts,
    base_delay, max_delay), ``failure_threshold``, ``reset_timeout``, ``host_rates``.
    """

    kind = "nba_api"

    def __init__(self, name: str, base_url: str = "https://cdn.nba.com", *,
                 game_ids: Sequence[str] | None = None, data_types: Sequence[str] | None = None,
                 headers: Mapping[str, str] | None = None, proxy: str | None = None,
                 connect_timeout: float = 3.0, read_timeout: float = 5.0,
                 retry: Mapping[str, Any] | None = None, failure_threshold: int = 5,
                 reset_timeout: float = 30.0,
                 host_rates: Mapping[str, float] | None = None) -> None:
        super().__init__(name)
        types = list(data_types or ("scoreboard", "boxscore"))
        unknown = sorted(set(types) - set(LIVE_DATA_TYPES))
        if unknown:
            raise ConfigError(f"unknown liveData type(s) {unknown}; use {list(LIVE_DATA_TYPES)} "
                              "(or gamelog for stats.nba.com history)")
        self.data_types = types
        self.game_ids = [str(g) for g in game_ids] if game_ids else None
        self.config = HttpConfig.from_options({
            "base_url": base_url, "headers": {**DEFAULT_HEADERS, **dict(headers or {})},
            "proxy": proxy, "connect_timeout": connect_timeout, "read_timeout": read_timeout,
            "retry": dict(retry or {}), "failure_threshold": failure_threshold,
            "reset_timeout": reset_timeout,
            "host_rates": dict(host_rates) if host_rates is not None else None})
        self._fetcher: HttpFetcher | None = None
        self._parsed: dict[str, tuple[str | None, GameSnapshot]] = {}
        self._finished: set[str] = set()
        self._final_polls: dict[str, int] = {}
        self._last_games: list[dict[str, Any]] = []

    @property
    def fetcher(self) -> HttpFetcher:
        """The HTTP fetcher, created on first use (so building a source opens nothing)."""
        if self._fetcher is None:
            self._fetcher = HttpFetcher(self.config)
        return self._fetcher

    async def _scoreboard(self) -> list[dict[str, Any]]:
        from courtside.sources.livedata import parse_scoreboard

        fetched = await self.fetcher.get(SCOREBOARD_PATH)
        try:
            return parse_scoreboard(fetched.data)
        except (DataError, KeyError, TypeError, ValueError, AttributeError) as exc:
            self.fetcher.forget(fetched)
            raise SchemaDriftError(f"{fetched.url}: the scoreboard changed shape: {exc}",
                                   url=fetched.url) from exc

    def _reuse(self, game_id: str, fetched: Fetched) -> GameSnapshot | None:
        cached = self._parsed.get(game_id)
        if fetched.not_modified and cached and cached[0] == fetched.etag:
            return dataclasses.replace(cached[1], fetched_at=fetched.fetched_at)
        return None

    async def _game(self, game_id: str) -> GameSnapshot:
        from courtside.sources.livedata import parse_boxscore

        use_box = "boxscore" in self.data_types or "playbyplay" not in self.data_types
        path = (BOXSCORE_PATH if use_box else PLAYBYPLAY_PATH).format(game_id=game_id)
        fetched = await self.fetcher.get(path)
        snap = self._reuse(game_id, fetched)
        if snap is not None:
            return snap
        try:
            if use_box:
                snap = parse_boxscore(fetched.data, source=self.name,
                                      fetched_at=fetched.fetched_at)
            else:
                from courtside.sources.playbyplay import derive_boxscore

                # Before both teams have scored the actions cannot tell home from away;
                # the scoreboard, when polled, always can.
                summary = next((g for g in self._last_games if g["game_id"] == game_id), None)
                teams = ({"home_team_id": summary["home"]["team_id"],
                          "away_team_id": summary["away"]["team_id"]} if summary else {})
                snap = derive_boxscore(fetched.data, **teams)
                if summary:
                    snap.home_tricode = snap.home_tricode or summary["home"]["tricode"]
                    snap.away_tricode = snap.away_tricode or summary["away"]["tricode"]
                snap.source, snap.fetched_at = self.name, fetched.fetched_at
                snap.data_time = snap.data_time or fetched.fetched_at
        except (DataError, KeyError, TypeError, ValueError, AttributeError) as exc:
            self.fetcher.forget(fetched)
            raise SchemaDriftError(f"{fetched.url}: the document changed shape: {exc}",
                                   url=fetched.url) from exc
        if snap.game_id != game_id:
            raise SchemaDriftError(f"{fetched.url}: holds game {snap.game_id}, not {game_id}",
                                   url=fetched.url)
        self._parsed[game_id] = (fetched.etag, snap)
        return snap

    def _targets(self, games: list[dict[str, Any]]) -> list[str]:
        if self.game_ids is not None:
            return [g for g in self.game_ids if g not in self._finished]
        if "boxscore" not in self.data_types and "playbyplay" not in self.data_types:
            return []
        return [g["game_id"] for g in games
                if g["status"] == 2 or (g["status"] == 3 and g["game_id"] not in self._finished)]

    async def _gather(self, game_ids: list[str]) -> dict[str, GameSnapshot | Exception]:
        results = await asyncio.gather(*(self._game(g) for g in game_ids),
                                       return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result  # cancellation and the like are not a game's failure
        return dict(zip(game_ids, results, strict=True))  # type: ignore[arg-type]

    async def fetch(self) -> Batch:
        """One poll: the scoreboard (when asked or needed) and every followed game.

        Games already known to be live are fetched together with the scoreboard, so a
        poll costs one round trip; games the scoreboard shows newly live or final follow.
        """
        batch = Batch(source=self.name, fetched_at=utcnow())
        early = self._targets(self._last_games)
        outcomes: dict[str, GameSnapshot | Exception] = {}
        if "scoreboard" in self.data_types or self.game_ids is None:
            board, outcomes = await asyncio.gather(self._scoreboard_or_error(),
                                                   self._gather(early))
            if isinstance(board, Exception):
                if self.game_ids is None:
                    raise board
                batch.errors["scoreboard"] = str(board)
            else:
                batch.games = self._last_games = board
        else:
            outcomes = await self._gather(early)
        targets = self._targets(batch.games)
        outcomes.update(await self._gather([g for g in targets if g not in outcomes]))
        for game_id in targets:
            result = outcomes[game_id]
            if isinstance(result, Exception):
                batch.errors[game_id] = f"{type(result).__name__}: {result}"
                continue
            batch.snapshots.append(result)
            if result.status == 3:
                # Poll a final game once more, in case the first final was held back.
                self._final_polls[game_id] = self._final_polls.get(game_id, 0) + 1
                if self._final_polls[game_id] >= 2:
                    self._finished.add(game_id)
        # Nothing usable (every followed game failed, no scoreboard): fail the whole fetch
        # so the scheduler serves the last good data, marked stale.
        if targets and not batch.snapshots and not batch.games:
            raise next(outcomes[g] for g in targets if isinstance(outcomes[g], Exception))
        batch.fetched_at = utcnow()
        return batch

    async def _scoreboard_or_error(self) -> list[dict[str, Any]] | Exception:
        try:
            return await self._scoreboard()
        except SourceError as exc:
            return exc

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        if self._fetcher is not None:
            await self._fetcher.aclose()
            self._fetcher = None
