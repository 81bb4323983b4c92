"""The ``custom_formulas`` table: formulas defined at run time, kept across restarts."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table, delete, select

from courtside.model import utcnow
from courtside.storage.db import Database, metadata

__all__ = ["CustomFormulaStore", "custom_formulas"]

custom_formulas = Table(
    "custom_formulas",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("expression", String(4000), nullable=False),
    Column("version", Integer, nullable=False),
    Column("defined_at", DateTime(timezone=True), nullable=False),
)


class CustomFormulaStore:
    """Saves and loads custom formula definitions (name, expression, version)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, formulas: list[tuple[str, str, int]]) -> None:
        """Store (or replace) each definition."""
        now = utcnow()
        with self.db.begin() as conn:
            for name, expression, version in formulas:
                conn.execute(delete(custom_formulas).where(custom_formulas.c.name == name))
                conn.execute(custom_formulas.insert().values(
                    name=name, expression=expression, version=version, defined_at=now))

    def load(self) -> list[tuple[str, str, int]]:
        """Every stored definition, in definition order."""
        query = select(custom_formulas.c.name, custom_formulas.c.expression,
                       custom_formulas.c.version).order_by(custom_formulas.c.defined_at,
                                                           custom_formulas.c.name)
        with self.db.begin() as conn:
            return [(r.name, r.expression, r.version) for r in conn.execute(query)]
