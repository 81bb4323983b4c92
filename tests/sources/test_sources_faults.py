"""Fault tests against the fake NBA server: for each fault kind the source turns degraded,
keeps serving the last good data marked stale with its age, recovers by itself once the
fault ends, and nothing crashes; 1,000 faults in a row leak no task, socket or file handle.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import psutil
import pytest

from courtside.model import HealthState
from courtside.sources.fake_faults import FAULT_KINDS
from courtside.sources.scheduler import SyncScheduler, new_sync

GAME = "0022000001"


def live_sync(url: str, **extra):
    config = {"base_url": url, "game_ids": [GAME], "retry": {"attempts": 1},
              "read_timeout": 0.25, "failure_threshold": 1000, "interval_seconds": 0.05,
              **extra}
    return new_sync("live", "nba_api", "second", config, data_types=["boxscore"])


def lines(snap):
    return {p.id: p.stats for p in snap.players}


@pytest.mark.parametrize("kind", FAULT_KINDS)
async def test_fault_degrades_serves_stale_and_recovers(fake_nba, kind):
    updates = []
    sync = live_sync(fake_nba.url)
    async with SyncScheduler(sink=updates.append) as sched:
        await sched.run_once(sync)
        assert sched.health("live").state is HealthState.OK
        [good] = sched.current("live").snapshots
        assert not good.stale and good.status == 2

        fake_nba.fault(kind, count=2, path="boxscore", delay=1.0)
        fake_nba.reset(elapsed=1700)  # the game moves on while the feed is broken
        fake_nba.fault(kind, count=2, path="boxscore", delay=1.0)
        for _ in range(2):
            update = await sched.run_once("live")
            health = sched.health("live")
            assert health.state is HealthState.DEGRADED, (kind, health)
            assert health.last_error and health.stale_seconds is not None
            current = sched.current("live")
            [served] = current.snapshots
            assert current.stale and served.stale and current.age_seconds > 0
            assert lines(served) == lines(good)  # the last good data, not the faulty one
        stale_notes = [s for u in updates for s in u.snapshots if s.stale]
        assert len(stale_notes) == 1 and stale_notes[0].players == []  # told once

        update = await sched.run_once("live")  # fault over: recovers by itself
        assert sched.health("live").state is HealthState.OK
        assert sched.health("live").consecutive_failures == 0
        [fresh] = sched.current("live").snapshots
        assert not fresh.stale and not sched.current("live").stale
        assert lines(fresh) != lines(good)
        assert update.snapshots and not update.snapshots[0].stale and update.snapshots[0].players


async def test_the_running_loop_survives_every_fault_in_turn(fake_nba):
    updates = []
    sync = live_sync(fake_nba.url)
    async with SyncScheduler(sink=updates.append) as sched:
        await sched.start_sync(sync)
        for _ in range(200):
            await asyncio.sleep(0.02)
            if sched.health("live").last_success_at is not None:
                break
        for kind in FAULT_KINDS:
            fake_nba.fault(kind, count=3, path="boxscore", delay=0.5)
            for _ in range(200):
                await asyncio.sleep(0.02)
                if sched.health("live").state is not HealthState.OK:
                    break
            assert sched.health("live").state is HealthState.DEGRADED, kind
            for _ in range(300):
                await asyncio.sleep(0.02)
                if sched.health("live").state is HealthState.OK:
                    break
            assert sched.health("live").state is HealthState.OK, kind
        task = sched._running[sync.sync_id].task
        assert not task.done()
    served = fake_nba.admin("GET", "/_faults")["served"]
    assert all(served.get(k, 0) >= 3 for k in FAULT_KINDS)


@pytest.mark.slow
async def test_a_thousand_faults_leak_no_task_socket_or_file(fake_nba):
    process = psutil.Process()
    # Never accept a repeated lowered counter as a correction here: every fault must count.
    syncs = [dataclasses.replace(live_sync(fake_nba.url, read_timeout=0.05, down_after=10**6,
                                           confirm_after=10**6), sync_id=f"s{i}", name=f"s{i}")
             for i in range(8)]
    async with SyncScheduler() as sched:
        for sync in syncs:
            await sched.run_once(sync)
            await sched.run_once(sync.sync_id)
        tasks_before = len(asyncio.all_tasks())
        fds_before = process.num_fds()
        sockets_before = len(process.net_connections(kind="tcp"))
        before = fake_nba.admin("GET", "/_faults")["served"]
        for kind in FAULT_KINDS:
            count = 25 if kind == "timeout" else 200
            fake_nba.fault(kind, count=count, path="boxscore", delay=0.3)
        failed = 0

        async def hammer(sync_id: str) -> None:
            nonlocal failed
            # Eight syncs at once, so that the fake's latency does not add up 1,000 times.
            while failed < 1025:
                update = await sched.run_once(sync_id)
                if update.error or update.issues:
                    failed += 1
                else:
                    return

        await asyncio.gather(*(hammer(s.sync_id) for s in syncs))
        after = fake_nba.admin("GET", "/_faults")["served"]
        served = {k: after.get(k, 0) - before.get(k, 0) for k in FAULT_KINDS}
        assert sum(served.values()) >= 1000 and served["timeout"] == 25
        assert failed >= 1000
        fake_nba.admin("DELETE", "/_faults")
        for sync in syncs:
            await sched.run_once(sync.sync_id)
            assert sched.health(sync.sync_id).state is HealthState.OK

        def settled() -> bool:
            return (len(asyncio.all_tasks()) == tasks_before
                    and process.num_fds() <= fds_before + 1
                    and len(process.net_connections(kind="tcp")) <= sockets_before + 1)

        # the server finishes its last held answers: poll (bounded) instead of a fixed sleep
        deadline = time.monotonic() + 5
        while not settled() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(asyncio.all_tasks()) == tasks_before
        assert process.num_fds() <= fds_before + 1
        assert len(process.net_connections(kind="tcp")) <= sockets_before + 1


async def test_one_failing_game_goes_stale_alone(fake_nba):
    other = "0022400740"
    sync = new_sync("live", "nba_api", "second",
                    {"base_url": fake_nba.url, "game_ids": [GAME, other],
                     "retry": {"attempts": 1}, "failure_threshold": 1000},
                    data_types=["boxscore"])
    updates = []
    async with SyncScheduler(sink=updates.append) as sched:
        await sched.run_once(sync)
        fake_nba.reset(elapsed=1700)
        fake_nba.fault("5xx", count=1, path=f"boxscore_{GAME}")
        update = await sched.run_once("live")
        assert sched.health("live").state is HealthState.DEGRADED
        assert GAME in sched.health("live").last_error
        stale = {s.game_id: s.stale for s in sched.current("live").snapshots}
        assert stale == {GAME: True, other: False}
        moved = {s.game_id for s in update.snapshots if not s.stale}
        assert moved == {other}  # the healthy game's changes still flowed
        await sched.run_once("live")
        assert sched.health("live").state is HealthState.OK
        assert not any(s.stale for s in sched.current("live").snapshots)
