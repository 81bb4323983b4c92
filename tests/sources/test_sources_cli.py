"""``courtside sync add|list|remove|run`` through the real CLI app."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from courtside.cli import _register, app

_register()
runner = CliRunner()


def cli(*args: str, db: str):
    return runner.invoke(app, [*args, "--db", db])


def test_add_list_run_remove(tmp_path):
    db = f"sqlite:///{tmp_path / 'cs.db'}"
    box = tmp_path / "box.csv"
    box.write_text("GAME_ID,PLAYER_ID,PTS,FGM,FGA\ng1,1,10,4,8\ng1,2,3,6,5\n")
    added = cli("sync", "add", "box", "--type", "file_system", "--set", f"path={box}",
                "--frequency", "minute", "--no-auto-start", db=db)
    assert added.exit_code == 0, added.output
    listed = cli("sync", "list", "--json", db=db)
    [sync] = json.loads(listed.output)
    assert (sync["name"], sync["source_type"], sync["frequency"], sync["auto_start"]) == \
        ("box", "file_system", "minute", False)
    assert sync["config"] == {"path": str(box)}

    ran = cli("sync", "run", "box", "--json", db=db)
    assert ran.exit_code == 1, ran.output  # a held row leaves the source degraded
    update = json.loads(ran.output.splitlines()[0])
    assert [(r["key"], r["PTS"]) for r in update["rows"]] == [("box.csv:g1|1", 10.0)]
    assert update["issues"][0]["rule"] == "FGM<=FGA" and update["issues"][0]["held"]
    assert update["health"]["state"] == "degraded"
    after = json.loads(cli("sync", "list", "--json", db=db).output)[0]
    assert after["last_run_at"] is not None and after["health"]["last_success_at"] is not None

    assert cli("sync", "remove", "box", db=db).exit_code == 0
    assert json.loads(cli("sync", "list", "--json", db=db).output) == []


def test_bad_definitions_exit_2_with_the_reason(tmp_path):
    db = f"sqlite:///{tmp_path / 'cs.db'}"
    bad = cli("sync", "add", "x", "--type", "database", "--set", "url=sqlite:///a.db",
              "--set", "query=DELETE FROM t", db=db)
    assert bad.exit_code == 2 and "only a SELECT query is allowed" in bad.output
    missing = cli("sync", "run", "nope", db=db)
    assert missing.exit_code == 2 and "no sync 'nope'" in missing.output


def test_run_against_the_fake_feed_reports_health(fake_nba, tmp_path):
    db = f"sqlite:///{tmp_path / 'cs.db'}"
    args = ["sync", "run", "--type", "nba_api", "--set", f"base_url={fake_nba.url}",
            "--set", 'game_ids=["0022000001"]', "--data-type", "boxscore"]
    ok = cli(*args, db=db)
    assert ok.exit_code == 0, ok.output
    assert "game 0022000001 status 2" in ok.output and ok.output.strip().endswith("adhoc: ok")
    fake_nba.fault("html_403", count=50)
    down = cli(*args, "--set", 'retry={"attempts": 1}', db=db)
    assert down.exit_code == 1 and "Access Denied" in down.output and "adhoc: down" in down.output
