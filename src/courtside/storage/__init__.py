"""Persistence: SQLAlchemy 2 tables, SQLite by default, PostgreSQL by URL."""

from courtside.storage.db import Database, metadata

__all__ = ["Database", "metadata"]
