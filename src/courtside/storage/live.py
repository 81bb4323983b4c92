"""The ``live_games`` table: each tracked game's last box score, kept across restarts.

The service writes every game's box score here when it stops and reads the recent ones back
when it starts, so a restart (a deploy, a crash after a graceful stop) resumes with the games
as they were instead of blank until the next sync.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import JSON, Column, DateTime, Integer, String, Table, delete, select

from courtside.model import GameSnapshot, utcnow
from courtside.storage.db import Database, as_utc, metadata

__all__ = ["LiveGameStore", "live_games"]

live_games = Table(
    "live_games",
    metadata,
    Column("game_id", String(32), primary_key=True),
    Column("snapshot", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
)


class LiveGameStore:
    """Saves and loads live games' box scores."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, games: list[tuple[GameSnapshot, int]]) -> int:
        """Replace the stored box score of each game; returns how many were saved."""
        now = utcnow()
        with self.db.begin() as conn:
            for snapshot, version in games:
                conn.execute(delete(live_games).where(live_games.c.game_id == snapshot.game_id))
                conn.execute(live_games.insert().values(
                    game_id=snapshot.game_id, snapshot=snapshot.to_dict(), version=version,
                    saved_at=now))
        return len(games)

    def load(self, within: timedelta | None = timedelta(hours=24)) -> list[GameSnapshot]:
        """The games saved within ``within`` of now (all when None), oldest first."""
        query = select(live_games.c.snapshot, live_games.c.saved_at).order_by(
            live_games.c.saved_at)
        with self.db.begin() as conn:
            rows = conn.execute(query).all()
        cutoff = utcnow() - within if within is not None else None
        out = []
        for snapshot, saved_at in rows:
            if cutoff is None or as_utc(saved_at) >= cutoff:
                out.append(GameSnapshot.from_dict(snapshot))
        return out

    def get(self, game_id: str) -> GameSnapshot | None:
        """One game's saved box score, or None."""
        with self.db.begin() as conn:
            saved = conn.execute(select(live_games.c.snapshot).where(
                live_games.c.game_id == str(game_id))).scalar_one_or_none()
        return GameSnapshot.from_dict(saved) if saved is not None else None

    def forget(self, game_id: str) -> None:
        """Drop a game's saved box score."""
        with self.db.begin() as conn:
            conn.execute(delete(live_games).where(live_games.c.game_id == game_id))
