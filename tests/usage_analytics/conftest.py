"""Fixtures for the usage analytics tests: a fresh SQLite database and a known event set."""

from __future__ import annotations

import pytest

from courtside.storage.db import Database
from courtside.storage.usage import insert_events

from .known import known_events


@pytest.fixture
def db(tmp_path) -> Database:
    """A migrated SQLite database in the test's temporary folder."""
    database = Database(f"sqlite:///{tmp_path / 'usage.db'}")
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def known_db(db: Database) -> Database:
    """The database holding ``known_events``."""
    insert_events(db, known_events())
    return db
