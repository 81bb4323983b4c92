"""DATABASE source: single SELECT only, read-only connections, incremental cursor.

Run for real against SQLite and the machine's PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text

from courtside.model import ConfigError
from courtside.sources.database import DatabaseSource
from courtside.sources.errors import SourceError
from courtside.sources.sqlguard import ensure_single_select


@pytest.mark.parametrize("sql", [
    "DELETE FROM box",
    "SELECT 1; DROP TABLE box",
    "select * from box; delete from box;",
    "WITH x AS (DELETE FROM box RETURNING *) SELECT * FROM x",
    "SELECT * INTO copy FROM box",
    "UPDATE box SET pts = 0",
    "PRAGMA writable_schema = 1",
    "",
    "SELECT 1 /* unterminated",
    # SQLite runs WITH ... REPLACE INTO; replace is only a function when it is called.
    "WITH c AS (SELECT 1 AS a) REPLACE INTO box (id) SELECT a FROM c",
    "SELECT * FROM box FOR UPDATE",
    "SELECT * FROM box LOCK IN SHARE MODE",
    "SELECT replace(note, 'a', 'b') INTO copy FROM box",
    "SELECT comment FROM box; SET default_transaction_read_only = off",
    "SET default_transaction_read_only = off",
    "COMMENT ON TABLE box IS 'x'",
    "LOAD 'plugin'",
])
def test_anything_but_one_select_is_rejected(sql):
    with pytest.raises(ConfigError):
        ensure_single_select(sql)


def test_keywords_inside_literals_and_comments_are_fine():
    sql = "SELECT 'drop table; delete' AS note, \"update\" FROM box -- insert\n;"
    assert ensure_single_select(sql) == sql.rstrip().rstrip(";").rstrip()
    assert ensure_single_select("WITH t AS (SELECT 1 AS a) SELECT a FROM t")


@pytest.mark.parametrize("sql", [
    "SELECT comment, load, set, copy, call, analyze, release, security FROM box",
    "SELECT b.comment AS do_note, replace(b.comment, 'x', 'y') AS cleaned FROM box b",
    "SELECT * FROM box WHERE load > 2 ORDER BY set",
    "SELECT REPLACE (comment, 'a', 'b') FROM box",
])
def test_statement_keywords_used_as_column_and_function_names_are_fine(sql):
    assert ensure_single_select(sql) == sql


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, tmp_path) -> str:
    """Each backend for real: a SQLite file, and the machine's PostgreSQL."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'games.db'}"


@contextmanager
def scratch_table(url: str, columns: str) -> Iterator[tuple[Engine, str]]:
    """A table of ``columns`` made for one test, dropped after it; with a writable engine."""
    table = f"box_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table} ({columns})"))
    try:
        yield admin, table
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP TABLE {table}"))
        admin.dispose()


async def test_keyword_columns(url):
    # SQLite needs "set" quoted; PostgreSQL takes it bare; comment, load and replace() go bare.
    set_column = '"set"' if url.startswith("sqlite") else "set"
    with scratch_table(url, 'id INTEGER, comment TEXT, load INTEGER, "set" INTEGER') as (
            admin, table):
        with admin.begin() as conn:
            conn.execute(text(f"INSERT INTO {table} VALUES (1, 'late minutes', 7, 2)"))
        src = DatabaseSource("db", url, f"SELECT id, comment, load, {set_column}, replace(comment, "
                             f"'late', 'early') AS fixed FROM {table} WHERE load > 2",
                             cursor_column="id")
        [row] = (await src.fetch()).rows
        assert (row.values["comment"], row.values["load"], row.values["set"],
                row.values["fixed"]) == ("late minutes", 7, 2, "early minutes")
        await src.aclose()


def make_rows(conn, table: str, first: int, n: int) -> None:
    for i in range(first, first + n):
        conn.execute(text(f"INSERT INTO {table} (id, game_id, player_id, pts, fgm, fga) "
                          "VALUES (:i, :g, :p, :pts, :fgm, :fga)"),
                     {"i": i, "g": f"g{i // 10}", "p": i, "pts": 2 * i % 30, "fgm": i % 10,
                      "fga": i % 10 + 3})


async def test_incremental(url):
    with scratch_table(url, "id INTEGER PRIMARY KEY, game_id TEXT, player_id INTEGER, "
                            "pts INTEGER, fgm INTEGER, fga INTEGER") as (admin, table):
        with admin.begin() as conn:
            make_rows(conn, table, 1, 5)
        src = DatabaseSource("db", url, f"SELECT id, game_id, player_id, pts, fgm, fga FROM {table}",
                             cursor_column="id", key=["game_id", "player_id"],
                             mapping={"pts": "PTS", "fgm": "FGM", "fga": "FGA"})
        first = await src.fetch()
        assert [r.values["id"] for r in first.rows] == [1, 2, 3, 4, 5]
        assert first.rows[2].values["PTS"] == 6.0 and first.rows[2].key == "g0|3"
        assert src.state() == {"cursor": 5}
        assert (await src.fetch()).rows == []
        with admin.begin() as conn:
            make_rows(conn, table, 6, 3)
        assert [r.values["id"] for r in (await src.fetch()).rows] == [6, 7, 8]
        # A restarted source resumes after the persisted cursor.
        again = DatabaseSource("db", url, f"SELECT * FROM {table}", cursor_column="id")
        again.restore({"cursor": 7})
        assert [r.values["id"] for r in (await again.fetch()).rows] == [8]
        await again.aclose()
        await src.aclose()


async def test_sqlite_connection_is_read_only_even_past_the_guard(tmp_path):
    url = f"sqlite:///{tmp_path / 'games.db'}"
    eng = create_engine(url)
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE box (id INTEGER)"))
    eng.dispose()
    src = DatabaseSource("db", url, "SELECT * FROM box")
    with src._engine.connect() as conn, pytest.raises(Exception, match="readonly"):
        conn.execute(text("INSERT INTO box VALUES (1)"))
    await src.aclose()


@pytest.mark.postgres
async def test_postgres_session_is_read_only_even_past_the_guard(postgres_url):
    src = DatabaseSource("db", postgres_url, "SELECT 1 AS one")
    with src._engine.connect() as conn, pytest.raises(Exception, match="read-only"):
        conn.execute(text("CREATE TABLE courtside_should_not_exist (id int)"))
    assert [r.values["one"] for r in (await src.fetch()).rows] == [1]
    await src.aclose()


async def test_query_errors_are_clear(tmp_path):
    url = f"sqlite:///{tmp_path / 'games.db'}"
    create_engine(url).connect().close()
    src = DatabaseSource("db", url, "SELECT * FROM missing_table")
    with pytest.raises(SourceError, match="no such table: missing_table"):
        await src.fetch()
    await src.aclose()
    with pytest.raises(ConfigError, match="in-memory"):
        DatabaseSource("db", "sqlite://", "SELECT 1")


async def test_ties_across_pages(url):
    """Rows sharing a cursor value across page boundaries: each delivered exactly once."""
    # cursor values: 1 x3, 2 x7 (longer than a page), 3 x1, 4 x5, 5 x2, and NULL x2.
    groups = [(1, 3), (2, 7), (3, 1), (4, 5), (5, 2), (None, 2)]
    with scratch_table(url, "id INTEGER PRIMARY KEY, stamp INTEGER") as (admin, table):
        with admin.begin() as conn:
            ident = 0
            for stamp, n in groups:
                for _ in range(n):
                    ident += 1
                    conn.execute(text(f"INSERT INTO {table} (id, stamp) VALUES (:i, :s)"),
                                 {"i": ident, "s": stamp})
        src = DatabaseSource("db", url, f"SELECT id, stamp FROM {table}",
                             cursor_column="stamp", limit=4)
        seen: list[int] = []
        for _ in range(20):  # bounded: a skipping or repeating source must fail, not hang
            rows = (await src.fetch()).rows
            if not rows:
                break
            seen += [r.values["id"] for r in rows]
            # A restarted source (cursor persisted as JSON) continues where this one stopped.
            restarted = DatabaseSource("db", url, f"SELECT id, stamp FROM {table}",
                                       cursor_column="stamp", limit=4)
            restarted.restore(src.state())
            await src.aclose()
            src = restarted
        assert sorted(seen) == list(range(1, 19)), seen  # all non-NULL rows, none twice
        with admin.begin() as conn:
            for i, stamp in ((21, 5), (22, 6), (23, 6), (24, 6), (25, 6), (26, 6)):
                conn.execute(text(f"INSERT INTO {table} (id, stamp) VALUES (:i, :s)"),
                             {"i": i, "s": stamp})
        # stamp 5 is behind the cursor now (a late row of an old value is not picked up);
        # the five rows of stamp 6 arrive whole in one fetch though the page size is 4.
        assert sorted(r.values["id"] for r in (await src.fetch()).rows) == [22, 23, 24, 25, 26]
        assert (await src.fetch()).rows == []
        await src.aclose()
