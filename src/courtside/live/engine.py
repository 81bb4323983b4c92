"""The live engine: every tracked game's state, fed by snapshots and play-by-play, published.

``LiveEngine`` keeps one :class:`~courtside.live.state.GameState` per game. Feeding it
(``apply_snapshot`` with a normalised box score, or ``apply_action`` with one liveData
play-by-play action once ``open_playbyplay`` has set the game up) recomputes only the formulas
whose inputs changed and publishes one update per changed entity:

- on ``game:<gameId>``: every entity of the game (players, both teams, the game itself);
- on ``player:<personId>`` / ``team:<teamId>``: that entity's own updates;
- on ``scoreboard``: the game entity's updates (status, period, clock, scores, stale).

Payloads follow ``courtside.live.bus`` (``entity``, changed-only ``values``, ``data_time``,
``sent_at``). The game entity carries ``GAME_STATUS`` (1 scheduled, 2 live, 3 final),
``PERIOD``, ``GAME_CLOCK``, ``HOME_PTS``, ``AWAY_PTS`` and ``STALE``. Changes to one game are
serialised (a lock per game), so seq order on a topic is data-version order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from courtside.live.bus import Bus
from courtside.live.state import EntityUpdate, GameState, LiveFormula, LiveFormulas
from courtside.model import ConfigError, DataError, GameSnapshot, NotFoundError, utcnow

__all__ = ["LiveEngine", "update_payload"]

UpdateListener = Callable[[EntityUpdate], None]

_RETIRED_KEPT = 1000  # retired game ids remembered, for a clear "retired" error


def update_payload(update: EntityUpdate) -> dict[str, Any]:
    """The bus payload of one entity update (see ``courtside.live.bus``)."""
    return {"entity": update.entity(), "values": update.values,
            "data_time": update.data_time.isoformat() if update.data_time else None,
            "sent_at": utcnow().isoformat()}


class LiveEngine:
    """Tracked games, their incremental recomputation and publication.

    Args:
        bus: where updates are published.
        formulas: the formulas kept current, in dependency order.
        league: league context values every game uses (``LG_*``, ``LG_PACE``, ``LG_APER``).
    """

    def __init__(self, bus: Bus, formulas: Iterable[LiveFormula] = (),
                 league: Mapping[str, float] | None = None) -> None:
        self.bus = bus
        self.formulas = LiveFormulas(formulas)
        self.league = dict(league or {})
        self.games: dict[str, GameState] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._feeds: dict[str, Any] = {}  # gameId -> BoxScoreBuilder
        self._arrivals: dict[str, tuple[asyncio.Event, int]] = {}  # gameId -> (event, waiters)
        self.listeners: list[UpdateListener] = []
        # called with the seconds from a change's arrival (its game's lock taken) to its
        # updates published: the latency the engine adds (the service feeds a histogram)
        self.recompute_observers: list[Callable[[float], None]] = []
        self.retired: dict[str, datetime] = {}  # gameId -> when retired (the latest ones)
        self.updates_published = 0
        self.evaluations = 0  # formula evaluations (recomputations) over every game
        self.snapshots_applied = 0
        self.actions_applied = 0

    # ------------------------------------------------------------------ reading

    def game(self, game_id: str) -> GameState:
        """A tracked game's state; NotFoundError naming the tracked games otherwise."""
        state = self.games.get(str(game_id))
        if state is None:
            retired = self.retired.get(str(game_id))
            if retired is not None:
                raise NotFoundError(f"game {game_id} ended and was retired from live tracking "
                                    f"at {retired.isoformat()}; its final box score is kept "
                                    "in storage, where the game's box score is still served")
            known = ", ".join(sorted(self.games)) or "none yet"
            raise NotFoundError(f"game {game_id} is not tracked (tracked: {known}); start a "
                                "sync or replay for it")
        return state

    def find_entity(self, kind: str, ident: str,
                    game_id: str | None = None) -> tuple[GameState, str]:
        """The game holding an entity (the latest game when ``game_id`` is None)."""
        if kind not in ("player", "team", "game"):
            raise ConfigError(f"entity kind must be player, team or game, not {kind!r}")
        if game_id is not None:
            state = self.game(game_id)
            if state.entity_info(kind, ident) is None:
                raise NotFoundError(f"{kind} {ident} is not in game {game_id}")
            return state, str(ident)
        for state in reversed(list(self.games.values())):
            if state.entity_info(kind, ident) is not None:
                return state, str(ident)
        raise NotFoundError(f"{kind} {ident} is in no tracked game; pass game_id or start a "
                            "sync for the game")

    def summaries(self) -> list[dict[str, Any]]:
        """One summary per tracked game (see ``GameState.summary``)."""
        return [g.summary() for g in self.games.values()]

    async def wait_for_game(self, game_id: str) -> GameState:
        """Wait until the game's first data arrives (bounded by the caller's timeout)."""
        game_id = str(game_id)
        if game_id in self.games:
            return self.games[game_id]
        event, waiters = self._arrivals.get(game_id) or (asyncio.Event(), 0)
        self._arrivals[game_id] = (event, waiters + 1)
        try:
            await event.wait()
        finally:
            # forget the event with its last waiter, so unknown ids leave nothing behind
            event, waiters = self._arrivals.get(game_id, (event, 1))
            if waiters <= 1:
                self._arrivals.pop(game_id, None)
            else:
                self._arrivals[game_id] = (event, waiters - 1)
        return self.games[game_id]

    # ------------------------------------------------------------------ feeding

    def _state(self, game_id: str) -> GameState:
        state = self.games.get(game_id)
        if state is None:
            state = self.games[game_id] = GameState(game_id, self.formulas, self.league)
        return state

    def _lock(self, game_id: str) -> asyncio.Lock:
        lock = self._locks.get(game_id)
        if lock is None:
            lock = self._locks[game_id] = asyncio.Lock()
        return lock

    async def apply_snapshot(self, snapshot: GameSnapshot) -> list[EntityUpdate]:
        """Fold a normalised box score in; returns (and publishes) the entity updates."""
        if not isinstance(snapshot, GameSnapshot):
            raise DataError(f"apply_snapshot takes a GameSnapshot, not {type(snapshot).__name__}")
        async with self._lock(snapshot.game_id):
            started = time.perf_counter()
            state = self._state(snapshot.game_id)
            updates = state.apply(snapshot)
            self.evaluations += len(state.last_recomputed)
            self.snapshots_applied += 1
            await self._publish(updates)
            self._observe(started)
        self._arrived(snapshot.game_id)
        return updates

    def open_playbyplay(self, pbp_doc: Mapping[str, Any],
                        boxscore_doc: Mapping[str, Any] | None = None) -> tuple[str, list]:
        """Set a game up to be fed by play-by-play actions; returns (gameId, its actions).

        ``pbp_doc`` is a liveData play-by-play document; ``boxscore_doc`` (optional) gives
        home/away, names and starters. The actions come back in feed order, for callers that
        replay them with ``apply_action``.
        """
        from courtside.sources.playbyplay import builder_for

        builder, actions = builder_for(pbp_doc, boxscore_doc)
        self._feeds[builder.game_id] = builder
        return builder.game_id, actions

    async def apply_action(self, game_id: str, action: Mapping[str, Any]) -> list[EntityUpdate]:
        """Apply one play-by-play action to a game set up by ``open_playbyplay``."""
        builder = self._feeds.get(str(game_id))
        if builder is None:
            raise NotFoundError(f"game {game_id} has no play-by-play feed; call "
                                "open_playbyplay(doc) first")
        async with self._lock(builder.game_id):
            started = time.perf_counter()
            builder.apply(action)
            state = self._state(builder.game_id)
            updates = state.apply(builder.snapshot(source="playbyplay"))
            self.evaluations += len(state.last_recomputed)
            self.actions_applied += 1
            await self._publish(updates)
            self._observe(started)
        self._arrived(builder.game_id)
        return updates

    async def mark_stale(self, game_id: str, stale: bool = True) -> EntityUpdate | None:
        """Flag a game's data stale (its source failing) or fresh; publishes the change."""
        state = self.games.get(str(game_id))
        if state is None:
            return None
        async with self._lock(state.game_id):
            update = state.mark_stale(stale)
            if update:
                await self._publish([update])
        return update

    async def set_formulas(self, formulas: Iterable[LiveFormula]) -> list[EntityUpdate]:
        """Replace the live formula set; new or changed formulas are computed and published."""
        new = LiveFormulas(formulas)
        changed = [f.id for f in new.by_id.values()
                   if f.id not in self.formulas.by_id
                   or self.formulas.by_id[f.id].version != f.version
                   or self.formulas.by_id[f.id].compiled is not f.compiled]
        self.formulas = new
        updates: list[EntityUpdate] = []
        # a copy: a game that starts while we wait on a lock is already built with ``new``
        for state in list(self.games.values()):
            async with self._lock(state.game_id):
                state.formulas = new
                game_updates = state.recompute_formulas(changed)
                self.evaluations += len(state.last_recomputed)
                await self._publish(game_updates)
                updates += game_updates
        return updates

    def drop_game(self, game_id: str) -> None:
        """Stop tracking a game (its bus topics keep their state; see ``retire_game``)."""
        self.games.pop(str(game_id), None)
        self._feeds.pop(str(game_id), None)
        self._locks.pop(str(game_id), None)

    async def retire_game(self, game_id: str) -> GameState | None:
        """Stop tracking a game and free its bus state: the ``game:`` topic, the topics of
        its players and teams that no other tracked game holds, and its entity on
        ``scoreboard``. Returns the game's last state (None when it was not tracked)."""
        game_id = str(game_id)
        async with self._lock(game_id):
            state = self.games.get(game_id)
            if state is None:
                return None
            # the bus first, so that a game no longer listed has no bus state left either;
            # subscribers learn it is gone (RETIRED) before its state is freed
            retired = {"entity": state.entity_info("game", game_id)
                       or {"kind": "game", "id": game_id, "game_id": game_id},
                       "values": {"RETIRED": True}, "data_time": None,
                       "sent_at": utcnow().isoformat()}
            await self.bus.publish_many([(f"game:{game_id}", retired),
                                         ("scoreboard", retired)])
            held = {key for other in self.games.values() if other is not state
                    for key in other.entities}
            await self.bus.forget(f"game:{game_id}")
            for kind, ident in state.entities:
                if kind != "game" and (kind, ident) not in held:
                    await self.bus.forget(f"{kind}:{ident}")
            await self.bus.forget("scoreboard", [f"game:{game_id}"])
            self.drop_game(game_id)
            self.retired[game_id] = utcnow()
            while len(self.retired) > _RETIRED_KEPT:
                del self.retired[next(iter(self.retired))]
        return state

    def _arrived(self, game_id: str) -> None:
        waiting = self._arrivals.get(game_id)
        if waiting is not None:
            waiting[0].set()

    def _observe(self, started: float) -> None:
        elapsed = time.perf_counter() - started
        for observe in self.recompute_observers:
            observe(elapsed)

    async def _publish(self, updates: list[EntityUpdate]) -> None:
        if not updates:
            return
        items: list[tuple[str, dict[str, Any]]] = []
        for update in updates:
            for listener in self.listeners:
                listener(update)
            payload = update_payload(update)
            items.append((f"game:{update.game_id}", payload))
            items.append(("scoreboard" if update.kind == "game"
                          else f"{update.kind}:{update.id}", payload))
        await self.bus.publish_many(items)  # one round trip per change on Redis
        self.updates_published += len(updates)
