"""What happens to each fetched batch of one sync: validate, hold, keep the last good data,
and emit only what changed.

The pipeline is the memory of a sync. It keeps the last accepted snapshot of every game and
the last row of every key; when the source fails (as a whole, or for one game) that data
stays available, marked stale, with its age.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from courtside.model import GameSnapshot, SourceHealth, utcnow
from courtside.sources.changes import ChangeTracker
from courtside.sources.records import Batch, StatRow, rows_frame
from courtside.sources.validation import Issue, SnapshotValidator

__all__ = ["Current", "SyncPipeline", "SyncUpdate"]


@dataclass(slots=True)
class SyncUpdate:
    """What a sync hands its sink after a run.

    Attributes:
        sync_id, name: the sync.
        snapshots: per game, the header and only the player/team lines that changed; a game
            that just went stale appears without lines and with ``stale`` set.
        rows: tabular rows that are new or changed.
        issues: validation problems (held records, accepted corrections).
        stale: the source failed this run; what it serves is the last good data.
        age_seconds: age of the data served when stale.
        error: the failure of this run, or of the parts that failed.
        health: the source's health after this run.
        emitted_at: when the update was built.
    """

    sync_id: str
    name: str
    snapshots: list[GameSnapshot] = field(default_factory=list)
    rows: list[StatRow] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    stale: bool = False
    age_seconds: float | None = None
    error: str | None = None
    health: SourceHealth | None = None
    emitted_at: datetime = field(default_factory=utcnow)

    @property
    def empty(self) -> bool:
        """True when there is nothing to tell the sink."""
        return not (self.snapshots or self.rows or self.issues or self.error)

    def frame(self) -> Any:
        """The rows as a Polars DataFrame (provenance in ``_key``, ``_source``... columns)."""
        return rows_frame(self.rows)


@dataclass(slots=True)
class Current:
    """The data a sync serves right now: full snapshots and rows, stale ones marked."""

    snapshots: list[GameSnapshot]
    rows: list[StatRow]
    stale: bool
    age_seconds: float | None


class SyncPipeline:
    """Validation, hold, last-good memory and change detection for one sync."""

    def __init__(self, sync_id: str, name: str, confirm_after: int = 3) -> None:
        self.sync_id = sync_id
        self.name = name
        self.validator = SnapshotValidator(confirm_after)
        self.changes = ChangeTracker()
        self.games: dict[str, GameSnapshot] = {}
        self.rows: dict[str, StatRow] = {}
        self.scoreboard: dict[str, dict[str, Any]] = {}
        self.stale_games: dict[str, datetime] = {}
        self.failing_since: datetime | None = None
        self.last_good_at: datetime | None = None

    def game_states(self) -> list[dict[str, Any]]:
        """Status and start time of every game known (for REAL_TIME pacing)."""
        states = {gid: {"status": g.get("status"), "start_time": g.get("start_time")}
                  for gid, g in self.scoreboard.items()}
        for gid, snap in self.games.items():
            states.setdefault(gid, {"start_time": None})["status"] = snap.status
        return list(states.values())

    def _stale_marker(self, game_id: str) -> GameSnapshot:
        return dataclasses.replace(self.games[game_id], players=[], teams=[], stale=True)

    def accept(self, batch: Batch, row_issues: list[Issue] | None = None) -> SyncUpdate:
        """Apply a fetched batch; returns the changes to emit."""
        now = batch.fetched_at
        update = SyncUpdate(self.sync_id, self.name, issues=list(row_issues or []))
        was_failing = self.failing_since is not None
        self.failing_since = None
        for game in batch.games:
            self.scoreboard[game["game_id"]] = game
        held: set[str] = set()
        for snap in batch.snapshots:
            ok, issues = self.validator.check(snap, self.games.get(snap.game_id))
            update.issues += issues
            if not ok:
                held.add(snap.game_id)
                continue
            self.games[snap.game_id] = snap
            recovered = self.stale_games.pop(snap.game_id, None) is not None or was_failing
            changed = self.changes.snapshot_changes(snap)
            if changed is None and recovered:
                changed = dataclasses.replace(snap, players=[], teams=[])
            if changed is not None:
                update.snapshots.append(changed)
        failed_games = held | {k for k in batch.errors if k in self.games}
        for game_id in failed_games:
            if game_id in self.games and game_id not in self.stale_games:
                self.stale_games[game_id] = self.games[game_id].fetched_at or now
                update.snapshots.append(self._stale_marker(game_id))
        if was_failing:
            # Every game was announced stale; those not in this batch (a finished game no
            # longer polled) are announced fresh again too.
            polled = {s.game_id for s in batch.snapshots}
            update.snapshots += [dataclasses.replace(s, players=[], teams=[])
                                 for gid, s in self.games.items()
                                 if gid not in polled and gid not in failed_games]
        for row in batch.rows:
            self.rows[row.key] = row
        update.rows = self.changes.row_changes(batch.rows)
        problems = [f"{k}: {v}" for k, v in batch.errors.items()]
        problems += [f"{i.entity}: {i.message}" for i in update.issues if i.held]
        if problems:
            update.error = "; ".join(problems[:5]) + (
                f" (+{len(problems) - 5} more)" if len(problems) > 5 else "")
        self.last_good_at = now
        return update

    def fail(self, error: str, now: datetime | None = None) -> SyncUpdate:
        """The whole fetch failed: serve the last good data, marked stale."""
        now = now or utcnow()
        update = SyncUpdate(self.sync_id, self.name, stale=True, error=error)
        if self.failing_since is None:
            self.failing_since = now
            # Tell consumers once that what they hold is now stale; afterwards stay quiet.
            for game_id in self.games:
                if game_id not in self.stale_games:
                    update.snapshots.append(self._stale_marker(game_id))
        if self.last_good_at is not None:
            update.age_seconds = (now - self.last_good_at).total_seconds()
        return update

    def stale_since(self) -> datetime | None:
        """When the oldest data served as stale stopped being refreshed."""
        times = list(self.stale_games.values())
        if self.failing_since is not None:
            times.append(self.failing_since)
        return min(times) if times else None

    def current(self, now: datetime | None = None) -> Current:
        """Everything this sync serves now; stale games and rows marked stale."""
        now = now or utcnow()
        whole = self.failing_since is not None
        snaps = [dataclasses.replace(s, stale=True) if whole or gid in self.stale_games else s
                 for gid, s in self.games.items()]
        rows = [dataclasses.replace(r, stale=True) if whole else r for r in self.rows.values()]
        age = None
        if whole and self.last_good_at is not None:
            age = (now - self.last_good_at).total_seconds()
        elif self.stale_games:
            age = (now - min(self.stale_games.values())).total_seconds()
        return Current(snaps, rows, whole or bool(self.stale_games), age)
