"""The sync scheduler: persistence and auto-start, isolation, sinks, change-only emission."""

from __future__ import annotations

import asyncio

import pytest

from courtside.model import (
    ConfigError,
    DataSourceType,
    DataSync,
    HealthState,
    SyncFrequency,
    utcnow,
)
from courtside.sources.base import Source
from courtside.sources.errors import FetchError
from courtside.sources.records import Batch, StatRow
from courtside.sources.registry import build_source
from courtside.sources.scheduler import SyncScheduler, new_sync
from courtside.storage.db import Database
from courtside.storage.syncs import SyncStore


async def until(condition, timeout: float = 10.0) -> None:
    """Poll ``condition`` on the loop until it holds: no fixed sleep that a busy machine
    could outlast."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.fixture
def store(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'courtside.db'}")
    db.migrate()
    yield SyncStore(db)
    db.dispose()


async def test_syncs_persist_and_restart_with_auto_start(store, tmp_path):
    (tmp_path / "a.csv").write_text("GAME_ID,PTS\ng1,10\n")
    got = []
    auto = new_sync("files", "file_system", "minute", {"path": str(tmp_path / "*.csv")})
    manual = new_sync("manual", "file_system", "hour", {"path": str(tmp_path)},
                      auto_start=False)
    async with SyncScheduler(sink=got.append, store=store) as sched:
        await sched.add(auto)
        await sched.add(manual, start=False)
        await until(lambda: got)
    assert [r.values["PTS"] for r in got[0].rows] == [10.0]
    saved = store.get("files")
    assert saved.health.state is HealthState.OK and saved.health.last_success_at is not None
    assert saved.last_run_at is not None and saved.frequency is SyncFrequency.MINUTE
    # A new service process: only the auto-start sync comes back.
    async with SyncScheduler(store=store) as again:
        assert await again.start() == ["files"]
        assert [s.name for s in again.syncs()] == ["files"]
    assert [s.name for s in store.list()] == ["files", "manual"]
    await SyncScheduler(store=store).remove("manual")
    assert [s.name for s in store.list()] == ["files"]
    with pytest.raises(ConfigError, match="already exists"):
        store.add(auto)


def test_bad_definitions_are_refused_clearly(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) \['colour'\]"):
        new_sync("x", "file_system", "minute", {"path": "p", "colour": "red"})
    with pytest.raises(ConfigError, match="needs path"):
        new_sync("x", "file_system", "minute", {})
    with pytest.raises(ConfigError, match="only a SELECT"):
        new_sync("x", "database", "minute", {"url": f"sqlite:///{tmp_path}/d.db",
                                             "query": "DELETE FROM t"})


def test_bad_scheduler_settings_are_refused_when_defined(tmp_path):
    path = {"path": str(tmp_path)}
    for bad, match in (({"interval_seconds": "fast"}, "interval_seconds must be a positive"),
                       ({"timeout_seconds": 0}, "timeout_seconds must be a positive"),
                       ({"confirm_after": "x"}, "confirm_after must be a positive whole"),
                       ({"pace": {"live": "fast"}}, "pace intervals must be numbers"),
                       ({"pace": 5}, "pace must be an object")):
        with pytest.raises(ConfigError, match=match):
            new_sync("x", "file_system", "minute", {**path, **bad})


async def test_a_stored_sync_with_bad_settings_does_not_stop_the_others(store, tmp_path):
    good = new_sync("good", "file_system", "minute", {"path": str(tmp_path)})
    bad = DataSync(sync_id="bad", name="bad", source_type=DataSourceType.FILE_SYSTEM,
                   frequency=SyncFrequency.MINUTE,
                   config={"path": str(tmp_path), "interval_seconds": "fast"})
    store.add(bad)  # stored by an older version that did not check
    store.add(good)
    async with SyncScheduler(store=store) as sched:
        assert await sched.start() == ["good"]


class Counting(Source):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.n = 0

    async def fetch(self) -> Batch:
        self.n += 1
        now = utcnow()
        return Batch(self.name, now, rows=[StatRow("k", {"N": self.n}, self.name, now)])


class Hanging(Source):
    async def fetch(self) -> Batch:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


class Failing(Source):
    async def fetch(self) -> Batch:
        raise FetchError("connection refused")


class Malformed(Source):
    """A batch the pipeline cannot take (a scoreboard summary without its game_id)."""

    async def fetch(self) -> Batch:
        return Batch(self.name, utcnow(), games=[{"status": 2}])


class BadClose(Counting):
    async def aclose(self) -> None:
        raise OSError("close failed")


def factory(sync: DataSync) -> Source:
    return {"count": Counting, "hang": Hanging, "fail": Failing, "malformed": Malformed,
            "badclose": BadClose}[sync.name](sync.name)


def quick(name: str, **config) -> DataSync:
    return DataSync(sync_id=name, name=name, source_type="file_system",
                    frequency=SyncFrequency.SECOND,
                    config={"interval_seconds": 0.02, "timeout_seconds": 0.2, **config})


async def test_a_hanging_or_failing_source_never_blocks_another():
    seen: list = []
    async with SyncScheduler(sink=seen.append, source_factory=factory) as sched:
        for name in ("hang", "fail", "count"):
            await sched.start_sync(quick(name))
        await until(lambda: sched.health("hang").consecutive_failures >= 2)
        counted = [u for u in seen if u.name == "count"]
        # "count" ran every ~20 ms while "hang" sat in two 200 ms timeouts (blocked by it,
        # it would have run about twice)
        assert len(counted) >= 8
        hang = sched.health("hang")
        assert "timeout" in hang.last_error
        fail = sched.health("fail")
        assert fail.state is HealthState.DOWN  # never had data to serve
        assert "connection refused" in fail.last_error
        assert sched.health("count").state is HealthState.OK
        assert all(not e.task.done() for e in sched._running.values())


async def test_a_raising_or_slow_sink_does_not_stop_its_sync():
    calls = []

    async def bad_sink(update):
        calls.append(update)
        if len(calls) % 2:
            raise RuntimeError("sink bug")
        await asyncio.sleep(10)  # cut short by sink_timeout

    async with SyncScheduler(sink=bad_sink, source_factory=factory, sink_timeout=0.05) as s:
        await s.start_sync(quick("count"))
        await until(lambda: len(calls) >= 4)  # past two raising and two timed-out sinks
        assert not s._running["count"].task.done()


async def test_a_batch_the_pipeline_rejects_fails_the_run_not_the_sync():
    async with SyncScheduler(source_factory=factory) as sched:
        await sched.start_sync(quick("malformed"))
        await until(lambda: sched.health("malformed").consecutive_failures >= 2)
        assert "KeyError" in sched.health("malformed").last_error
        assert not sched._running["malformed"].task.done()


async def test_a_source_that_fails_to_close_does_not_keep_the_others_running():
    sched = SyncScheduler(source_factory=factory)
    await sched.start_sync(quick("badclose"))
    await sched.start_sync(quick("count"))
    task = sched._running["count"].task
    await sched.stop()
    assert sched.syncs() == [] and task.done()


async def test_only_changed_rows_reach_the_sink(tmp_path):
    path = tmp_path / "box.csv"
    path.write_text("GAME_ID,PLAYER_ID,PTS\ng1,1,10\ng1,2,4\n")
    got = []
    sync = new_sync("files", "file_system", "second", {"path": str(path), "detect": "hash"})
    async with SyncScheduler(sink=got.append) as sched:
        await sched.run_once(sync)
        await sched.run_once(sync.sync_id)
        assert len(got) == 1 and len(got[0].rows) == 2
        path.write_text("GAME_ID,PLAYER_ID,PTS\ng1,1,12\ng1,2,4\n")
        await sched.run_once(sync.sync_id)
    assert len(got) == 2 and [(r.key, r.values["PTS"]) for r in got[1].rows] == [("box.csv:g1|1", 12.0)]


async def test_database_cursor_survives_a_restart(store, tmp_path):
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'src.db'}"
    eng = create_engine(url)
    with eng.begin() as c:
        c.execute(text("CREATE TABLE t (id INTEGER, pts INTEGER)"))
        c.execute(text("INSERT INTO t VALUES (1, 5), (2, 7)"))
    sync = new_sync("db", "database", "minute", {"url": url, "query": "SELECT * FROM t",
                                                "cursor_column": "id", "key": ["id"]})
    got = []
    async with SyncScheduler(sink=got.append, store=store) as sched:
        await sched.add(sync, start=False)
        await sched.run_once(sync.sync_id)
    assert store.state(sync.sync_id) == {"cursor": 2}
    with eng.begin() as c:
        c.execute(text("INSERT INTO t VALUES (3, 9)"))
    eng.dispose()
    async with SyncScheduler(sink=got.append, store=store) as sched:
        await sched.start()
        await until(lambda: len(got) == 2)
    assert [r.values["id"] for r in got[1].rows] == [3]  # not 1 and 2 again


async def test_realtime_pace_against_the_fake(fake_nba):
    sync = new_sync("live", "nba_api", "real_time", {"base_url": fake_nba.url,
                                                     "pace": {"live": 1, "pregame": 30,
                                                              "final": 600}})
    assert build_source(sync).data_types == ["scoreboard", "boxscore"]
    async with SyncScheduler() as sched:
        fake_nba.reset(elapsed=-120)
        await sched.run_once(sync)
        assert sched.next_interval("live") == 30
        fake_nba.reset(elapsed=600)
        await sched.run_once("live")
        assert sched.next_interval("live") == 1
        fake_nba.reset(elapsed=10**6)
        await sched.run_once("live")
        assert sched.next_interval("live") == 600


@pytest.mark.postgres
def test_sync_store_on_postgres(postgres_url):
    import uuid

    db = Database(postgres_url)
    db.migrate()
    store = SyncStore(db)
    sync = new_sync(f"pg-{uuid.uuid4().hex[:8]}", "database", "hour",
                    {"url": postgres_url, "query": "SELECT 1 AS one"})
    try:
        store.add(sync)
        got = store.get(sync.name)
        assert got.config == sync.config and got.created_at == sync.created_at
        assert got.created_at.tzinfo is not None
        got.health.consecutive_failures = 3
        store.record_run(sync.sync_id, last_run_at=utcnow(), health=got.health,
                         state={"cursor": 41})
        again = store.get(sync.sync_id)
        assert again.health.consecutive_failures == 3 and store.state(sync.sync_id) == {
            "cursor": 41}
    finally:
        store.remove(sync.sync_id)
        db.dispose()
