"""Game resources and their update notifications.

``courtside://games`` lists the tracked games; ``courtside://games/{gameId}`` is one game's box
score with every live formula (JSON). While a game is live, :class:`GameNotifier` follows the
live bus and announces each change of a game resource to MCP clients: on
``subscriptions/listen`` streams (protocol 2026-07-28) and to sessions that used the earlier
``resources/subscribe``. Bursts are coalesced (at most one notification per game every
``min_interval`` seconds): a notification says "read me again", not what changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from typing import Any

import mcp_types as types
from mcp.server.mcpserver import MCPServer
from mcp.server.subscriptions import ResourceUpdated, SubscriptionBus

from courtside.mcp.calls import resource_errors

__all__ = ["GAME_URI", "GameNotifier", "game_uri", "register_game_resources"]

log = logging.getLogger("courtside.mcp")

GAME_URI = "courtside://games/{gameId}"
GAMES_URI = "courtside://games"
FINAL = 3


def game_uri(game_id: str) -> str:
    """The resource URI of a game."""
    return f"courtside://games/{game_id}"


def register_game_resources(server: MCPServer, service: Any) -> None:
    """Add the games list and the game resource template to ``server``."""

    @server.resource(GAMES_URI, name="games", mime_type="application/json",
                     description="The tracked games: id, status (1 scheduled, 2 live, 3 final), "
                                 "period, clock, teams and score.")
    async def games() -> str:
        return json.dumps(service.games())

    @server.resource(GAME_URI, name="game", mime_type="application/json",
                     description="A tracked game's live box score: the game (score, period, "
                                 "clock), both teams and every player with counting stats and "
                                 "formula values. Updated while the game is live.")
    async def game(gameId: str) -> str:
        with resource_errors():
            return json.dumps(await service.find_game_boxscore(gameId))


class GameNotifier:
    """Announces changes of game resources while games are live (see the module docstring).

    Args:
        service: the service whose bus carries the live updates.
        bus: the MCP server's subscription bus (``subscriptions/listen`` streams).
        min_interval: the shortest time between two notifications for one game.
    """

    def __init__(self, service: Any, bus: SubscriptionBus, *, min_interval: float = 0.2) -> None:
        self.service = service
        self.bus = bus
        self.min_interval = min_interval
        self.notifications = 0
        self._task: asyncio.Task[Any] | None = None
        self._legacy: dict[str, weakref.WeakSet[Any]] = {}

    # ------------------------------------------------------------------ lifecycle

    def ensure_running(self) -> None:
        """Start following the live bus if the service runs and nothing follows it yet."""
        task = self._task
        if (task is None or task.done()) and self.service.running:
            with contextlib.suppress(RuntimeError):  # no running loop: the next message retries
                self._task = self.service.spawn(self._run(), name="mcp-game-notifier")

    # ------------------------------------------------------------------ earlier protocol

    def install_legacy_subscriptions(self, server: MCPServer) -> None:
        """Serve ``resources/subscribe``/``unsubscribe`` for clients before 2026-07-28."""
        lowlevel = server._lowlevel_server  # the SDK offers no public handle for these two

        async def subscribe(ctx: Any, params: types.SubscribeRequestParams) -> types.EmptyResult:
            self._legacy.setdefault(str(params.uri), weakref.WeakSet()).add(_connection(ctx))
            self.ensure_running()
            return types.EmptyResult()

        async def unsubscribe(ctx: Any,
                              params: types.UnsubscribeRequestParams) -> types.EmptyResult:
            self._legacy.get(str(params.uri), weakref.WeakSet()).discard(_connection(ctx))
            return types.EmptyResult()

        lowlevel.add_request_handler("resources/subscribe", types.SubscribeRequestParams,
                                     subscribe)
        lowlevel.add_request_handler("resources/unsubscribe", types.UnsubscribeRequestParams,
                                     unsubscribe)

    # ------------------------------------------------------------------ following the bus

    async def _run(self) -> None:
        scoreboard = self.service.bus.subscribe("scoreboard")
        watchers: dict[str, asyncio.Task[Any]] = {}
        try:
            for summary in self.service.games():
                if summary["status"] != FINAL:
                    self._watch(watchers, summary["game_id"])
            async for _seq, payload in scoreboard:
                entity = payload.get("entity") or {}
                game_id = str(entity.get("game_id") or entity.get("id") or "")
                if game_id and (payload.get("values") or {}).get("GAME_STATUS") != FINAL:
                    self._watch(watchers, game_id)
        finally:
            scoreboard.close()
            for task in watchers.values():
                task.cancel()
            for task in watchers.values():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def _watch(self, watchers: dict[str, asyncio.Task[Any]], game_id: str) -> None:
        task = watchers.get(game_id)
        if task is None or task.done():
            watchers[game_id] = asyncio.get_running_loop().create_task(
                self._follow(game_id), name=f"mcp-game-{game_id}")

    async def _follow(self, game_id: str) -> None:
        """Notify on every (coalesced) change of one game until it is final."""
        subscription = self.service.bus.subscribe(f"game:{game_id}")
        try:
            await self.notify(game_uri(game_id))  # it changed before we subscribed
            while True:
                message = await subscription.get()
                final = False
                while message is not None:
                    final = final or _is_final(message[1])
                    message = subscription.get_nowait()
                if subscription.closed and not final:
                    return
                await self.notify(game_uri(game_id))
                if final:
                    return
                await asyncio.sleep(self.min_interval)
        finally:
            subscription.close()

    async def notify(self, uri: str) -> None:
        """Tell every listening client that ``uri`` changed."""
        self.notifications += 1
        await self.bus.publish(ResourceUpdated(uri=uri))
        for connection in list(self._legacy.get(uri, ())):
            try:
                await connection.send_resource_updated(uri)
            except Exception:  # a gone client must not stop the others
                self._legacy[uri].discard(connection)
                log.debug("dropped a resources/subscribe session for %s", uri, exc_info=True)


def _connection(ctx: Any) -> Any:
    """The client's connection: it lives as long as the client is connected (the session
    object a handler gets lives for one request), so a weak set of them cleans itself."""
    return getattr(ctx.session, "_connection", ctx.session)


def _is_final(payload: dict[str, Any]) -> bool:
    entity = payload.get("entity") or {}
    return entity.get("kind") == "game" and (payload.get("values") or {}).get(
        "GAME_STATUS") == FINAL
