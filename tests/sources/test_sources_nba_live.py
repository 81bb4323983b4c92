"""NBA_API live adapter against the fake cdn.nba.com."""

from __future__ import annotations

import json

from courtside.sources.nba_live import NbaLiveSource

GAME = "0022000001"


async def test_follows_the_scoreboards_live_games(fake_nba):
    async with NbaLiveSource("live", fake_nba.url) as src:
        batch = await src.fetch()
    assert len(batch.games) == 9 and not batch.errors
    assert sorted(s.game_id for s in batch.snapshots) == sorted(g["game_id"] for g in batch.games)
    snap = next(s for s in batch.snapshots if s.game_id == GAME)
    assert snap.source == "live" and snap.fetched_at is not None and snap.data_time is not None
    assert snap.status == 2 and len(snap.teams) == 2


async def test_scheduled_games_are_not_polled_and_finals_stop(fake_nba):
    fake_nba.reset(elapsed=-60)
    async with NbaLiveSource("live", fake_nba.url) as src:
        batch = await src.fetch()
        assert batch.snapshots == [] and {g["status"] for g in batch.games} == {1}
        fake_nba.reset(elapsed=10**6)
        assert len((await src.fetch()).snapshots) == 9
        assert len((await src.fetch()).snapshots) == 9  # once more, in case it was held
        assert (await src.fetch()).snapshots == []  # then the finished games are left alone


async def test_playbyplay_only_derives_the_box_score(fake_nba):
    async with NbaLiveSource("live", fake_nba.url, game_ids=[GAME],
                             data_types=["playbyplay"]) as pbp, \
            NbaLiveSource("box", fake_nba.url, game_ids=[GAME], data_types=["boxscore"]) as box:
        derived = (await pbp.fetch()).snapshots[0]
        served = (await box.fetch()).snapshots[0]
    assert {t.id: t.stats["PTS"] for t in derived.teams} == \
        {t.id: t.stats["PTS"] for t in served.teams}
    assert derived.source == "live"


async def test_one_failing_game_does_not_stop_the_others(fake_nba):
    fake_nba.fault("5xx", count=10, path=f"boxscore_{GAME}")
    async with NbaLiveSource("live", fake_nba.url, retry={"attempts": 1}) as src:
        batch = await src.fetch()
    assert list(batch.errors) == [GAME] and "503" in batch.errors[GAME]
    assert len(batch.snapshots) == 8


async def test_unchanged_games_come_from_304s(fake_nba):
    async with NbaLiveSource("live", fake_nba.url, game_ids=[GAME],
                             data_types=["boxscore"]) as src:
        first = (await src.fetch()).snapshots[0]
        before = fake_nba.admin("GET", "/_faults")["not_modified"]
        again = (await src.fetch()).snapshots[0]
        assert fake_nba.admin("GET", "/_faults")["not_modified"] == before + 1
    assert again.players == first.players and again.fetched_at > first.fetched_at


async def test_playbyplay_only_works_before_both_teams_have_scored(fake_nba):
    # Home and away come from the scoreboard: the actions alone cannot tell them apart yet.
    fake_nba.reset(elapsed=5)
    async with NbaLiveSource("live", fake_nba.url,
                             data_types=["scoreboard", "playbyplay"]) as src:
        batch = await src.fetch()
    assert not batch.errors and len(batch.snapshots) == len(batch.games) == 9
    board = {g["game_id"]: g for g in batch.games}
    for snap in batch.snapshots:
        assert snap.home_team_id == board[snap.game_id]["home"]["team_id"]
        assert snap.home_tricode == board[snap.game_id]["home"]["tricode"]


async def test_a_working_game_flows_when_the_scoreboard_and_another_game_fail(fake_nba):
    games = list(fake_nba.admin("GET", "/_games"))[:2]
    fake_nba.fault("5xx", count=10, path="todaysScoreboard")
    fake_nba.fault("5xx", count=10, path=f"boxscore_{games[1]}")
    async with NbaLiveSource("live", fake_nba.url, game_ids=games,
                             retry={"attempts": 1}) as src:
        batch = await src.fetch()
    assert [s.game_id for s in batch.snapshots] == [games[0]]
    assert sorted(batch.errors) == sorted(["scoreboard", games[1]])


async def test_a_scoreboard_with_a_bad_value_is_schema_drift_and_games_still_flow(
        scripted, shared_data):
    # One body for every path: a valid boxscore, and a scoreboard whose status is text.
    doc = json.loads((shared_data / "nba-live" / f"boxscore_{GAME}.json").read_text())
    doc["scoreboard"] = {"games": [{"gameId": GAME, "gameStatus": "live"}]}
    script, url = scripted
    script.default = (200, json.dumps(doc).encode(), {"content-type": "application/json"}, 0.0)
    async with NbaLiveSource("live", url, game_ids=[GAME], retry={"attempts": 1}) as src:
        batch = await src.fetch()
    assert [s.game_id for s in batch.snapshots] == [GAME]
    assert "the scoreboard changed shape" in batch.errors["scoreboard"]
