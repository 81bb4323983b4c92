"""Shared fixtures: the real NBA data folder and the machine's services.

Tests that need PostgreSQL, Redis or a browser skip with a reason when the service is
missing, except when ``COURTSIDE_REQUIRE_SERVICES=1`` (set by ``.ci/run``): then they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from data_paths import SHARED_DATA

REQUIRE_SERVICES = os.environ.get("COURTSIDE_REQUIRE_SERVICES") == "1"


def _missing(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (COURTSIDE_REQUIRE_SERVICES=1, so this is a failure)")
    pytest.skip(reason)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session", autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Nothing a test runs (a CLI command's usage event, a service without a data_dir) writes
    under the real ~/.courtside."""
    if not os.environ.get("COURTSIDE_DATA_DIR"):
        os.environ["COURTSIDE_DATA_DIR"] = str(tmp_path_factory.mktemp("courtside-home"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real NBA recordings and tables (../shared/data)."""
    if not SHARED_DATA.is_dir():
        _missing(f"the real NBA data folder {SHARED_DATA} is missing")
    return SHARED_DATA


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of the PostgreSQL on 127.0.0.1:5432 (database ``test``), inside a
    schema of this test session's own, dropped at the end: runs sharing the database (CI and
    a developer's, or two at once) never see each other's rows."""
    url = os.environ.get("COURTSIDE_TEST_POSTGRES",
                         "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    if not _port_open("127.0.0.1", 5432):
        _missing("PostgreSQL is not listening on 127.0.0.1:5432")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg is not installed (pip install -e '.[test]')")
    from sqlalchemy import create_engine, text

    schema = f"courtside_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of the Redis on 127.0.0.1:6379."""
    if not _port_open("127.0.0.1", 6379):
        _missing("Redis is not listening on 127.0.0.1:6379")
    return os.environ.get("COURTSIDE_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium, for Playwright page tests."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        _missing("Debian's chromium is not installed (apt-get install chromium)")
    return path
