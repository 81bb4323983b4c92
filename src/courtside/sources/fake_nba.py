"""A local stand-in for cdn.nba.com: recorded games served live, with faults on request.

``courtside fake-nba --port P --games DIR [--speed X]`` serves, at the real liveData paths,
every game recorded in DIR as if it were being played now: the play-by-play grows with the
(accelerated) clock, the boxscore is derived from the actions so far, the scoreboard lists
the games. Admin endpoints, for tests and demos:

- ``POST /_faults`` ``{"kind": "5xx", "count": 3, "path": "boxscore", "status": 503,
  "delay": 10}`` arms a fault (kinds in :data:`FAULT_KINDS`); ``GET`` shows armed and served
  faults; ``DELETE`` disarms all.
- ``POST /_clock`` ``{"elapsed": 600, "speed": 10, "pregame": 0}`` sets the game clock
  (seconds since each game's first action); ``GET`` reads it, with the wall time it started.

Every data response carries an ETag and honours If-None-Match with a 304.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from courtside.model import ConfigError
from courtside.sources.fake_faults import (
    BLOCK_PAGE,
    FAULT_KINDS,
    FaultInjector,
    drift,
    lower_a_counter,
)
from courtside.sources.fake_games import RecordedGame, clone_games, load_games

__all__ = ["FakeNBA", "GameClock", "create_app"]


@dataclass
class GameClock:
    """Elapsed game seconds = ``elapsed0 + (now - started) * speed - pregame``."""

    speed: float = 1.0
    elapsed0: float = 0.0
    pregame: float = 0.0
    started: float = 0.0
    started_wall: float = 0.0

    def __post_init__(self) -> None:
        self.reset(self.elapsed0, self.speed, self.pregame)

    def reset(self, elapsed: float, speed: float, pregame: float = 0.0) -> None:
        """Restart the clock at ``elapsed`` seconds (negative: before tip-off)."""
        if speed < 0:
            raise ConfigError(f"speed must be >= 0, got {speed}")
        self.elapsed0, self.speed, self.pregame = elapsed, speed, pregame
        self.started, self.started_wall = time.monotonic(), time.time()

    def elapsed(self) -> float:
        """Seconds of game time since each game's first action."""
        return self.elapsed0 - self.pregame + (time.monotonic() - self.started) * self.speed

    def tip_off(self) -> datetime:
        """The wall time at which the games start."""
        offset = (self.pregame - self.elapsed0) / self.speed if self.speed else 0.0
        return datetime.fromtimestamp(self.started_wall, UTC) + timedelta(seconds=offset)

    def state(self) -> dict[str, Any]:
        """The clock's settings and reading."""
        return {"elapsed": self.elapsed(), "speed": self.speed, "elapsed0": self.elapsed0,
                "pregame": self.pregame, "started_wall": self.started_wall}


class FakeNBA:
    """The server's state: games, clock and faults."""

    def __init__(self, games: dict[str, RecordedGame], clock: GameClock) -> None:
        self.games = games
        self.clock = clock
        self.faults = FaultInjector()
        self.requests = 0
        self.not_modified = 0
        self._bodies: dict[tuple, bytes] = {}

    @classmethod
    def from_folder(cls, folder: str | Path, *, speed: float = 1.0, elapsed: float = 0.0,
                    pregame: float = 0.0, count: int | None = None) -> FakeNBA:
        """Load the recorded games of a folder (cloned up to ``count`` games if asked)."""
        games = load_games(folder)
        if count and count > len(games):
            games = clone_games(games, count)
        elif count:
            games = dict(list(games.items())[:count])
        return cls(games, GameClock(speed=speed, elapsed0=elapsed, pregame=pregame))

    def _game(self, game_id: str) -> RecordedGame | None:
        return self.games.get(game_id)

    def document(self, kind: str, game_id: str | None) -> tuple[tuple, dict[str, Any]] | None:
        """(a key naming this version, the document) of a kind, or None for an unknown game."""
        elapsed = self.clock.elapsed()
        if kind == "scoreboard":
            tip = self.clock.tip_off()
            counts = tuple(g.revealed(elapsed) for g in self.games.values())
            doc = {"meta": {"version": 1, "code": 200},
                   "scoreboard": {"gameDate": tip.strftime("%Y-%m-%d"), "leagueId": "00",
                                  "games": [g.scoreboard_entry(n, tip) for g, n
                                            in zip(self.games.values(), counts, strict=True)]}}
            return ("scoreboard", counts, tip.isoformat()), doc
        game = self._game(game_id or "")
        if game is None:
            return None
        count = game.revealed(elapsed)
        doc = game.boxscore(count) if kind == "boxscore" else game.playbyplay(count)
        return (kind, game.game_id, count), doc

    def _body(self, key: tuple, build: Any) -> bytes:
        # Serialising a 40 kB document per request would make the fake the bottleneck of
        # load tests; each version of each document (and of each faulty variant) is built once.
        if key not in self._bodies:
            if len(self._bodies) > 4096:
                self._bodies.clear()
            self._bodies[key] = build()
        return self._bodies[key]

    async def serve(self, request: Request, kind: str, game_id: str | None) -> Response:
        """Answer a data request, applying an armed fault if one matches."""
        self.requests += 1
        found = self.document(kind, game_id)
        if found is None:
            # cdn.nba.com answers unknown games with a 403 XML page; a plain 404 is enough here.
            return Response(b"Not Found", status_code=404, media_type="text/plain")
        key, doc = found
        fault = self.faults.take(request.url.path, kind)
        if fault is not None:
            if fault.kind == "5xx":
                return Response(b"Service Unavailable", status_code=fault.status,
                                media_type="text/plain")
            if fault.kind == "html_403":
                return Response(BLOCK_PAGE, status_code=403, media_type="text/html")
            if fault.kind == "timeout":
                await asyncio.sleep(fault.delay)
            elif fault.kind == "truncated":
                body = self._body(key, lambda: json.dumps(doc, separators=(",", ":")).encode())
                return Response(body[: len(body) // 2], media_type="application/json")
            elif fault.kind == "schema_drift":
                body = self._body(("drift", *key), lambda: json.dumps(drift(doc, kind)).encode())
                return Response(body, media_type="application/json")
            elif fault.kind == "counter_backwards":
                body = self._body(("lower", *key),
                                  lambda: json.dumps(lower_a_counter(doc)).encode())
                return Response(body, media_type="application/json")
        body = self._body(key, lambda: json.dumps(doc, separators=(",", ":")).encode())
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if request.headers.get("if-none-match") == etag:
            self.not_modified += 1
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/json", headers=headers)


def create_app(fake: FakeNBA) -> Starlette:
    """The Starlette app of a FakeNBA."""

    async def scoreboard(request: Request) -> Response:
        return await fake.serve(request, "scoreboard", None)

    async def boxscore(request: Request) -> Response:
        return await fake.serve(request, "boxscore", request.path_params["game_id"])

    async def playbyplay(request: Request) -> Response:
        return await fake.serve(request, "playbyplay", request.path_params["game_id"])

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            fake.faults.clear()
        elif request.method == "POST":
            try:
                spec = await request.json()
                fake.faults.add(str(spec.get("kind")), int(spec.get("count", 1)),
                                path=spec.get("path"), status=spec.get("status"),
                                delay=spec.get("delay"))
            except (ConfigError, ValueError, TypeError, AttributeError) as exc:
                return JSONResponse({"error": str(exc), "kinds": list(FAULT_KINDS)},
                                    status_code=400)
        return JSONResponse({**fake.faults.state(), "requests": fake.requests,
                             "not_modified": fake.not_modified})

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            try:
                spec = await request.json()
                fake.clock.reset(float(spec.get("elapsed", fake.clock.elapsed())),
                                 float(spec.get("speed", fake.clock.speed)),
                                 float(spec.get("pregame", 0.0)))
            except (ConfigError, ValueError, TypeError, AttributeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(fake.clock.state())

    async def games(_request: Request) -> Response:
        elapsed = fake.clock.elapsed()
        return JSONResponse({g.game_id: {"revealed": g.revealed(elapsed),
                                         "actions": len(g.actions), "duration": g.duration,
                                         "first_time": g.first_time.isoformat()
                                         if g.first_time else None}
                             for g in fake.games.values()})

    live = "/static/json/liveData"
    return Starlette(routes=[
        Route(f"{live}/scoreboard/todaysScoreboard_00.json", scoreboard),
        Route(live + "/boxscore/boxscore_{game_id}.json", boxscore),
        Route(live + "/playbyplay/playbyplay_{game_id}.json", playbyplay),
        Route("/_faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_clock", clock, methods=["GET", "POST"]),
        Route("/_games", games),
    ])
