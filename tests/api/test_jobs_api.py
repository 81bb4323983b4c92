"""``/v1/jobs`` over a real service behind a real uvicorn: batch jobs on the real 2023-24 box
scores, their progress on the WebSocket, cancel and resume, errors, the token, the OpenAPI."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from tests.api.serving import ServerThread
from tests.api.wsclient import recv, send
from websockets.asyncio.client import connect

import courtside
from batch_support import MAPPING, slow_compute
from courtside.api.app import create_app
from courtside.batch.executors import EXECUTORS
from courtside.service import RealTimeCalculationService

TOKEN = "jobs-t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ROWS = 25_143
# The raw CSV has no game column: its stats' mapping only (team totals are then per team).
STATS_MAP = dict(m.split("=") for m in MAPPING if not m.endswith("=GAME"))
FORMULAS = ["TS_PCT", "EFG_PCT", "USG_PCT"]


@pytest.fixture(scope="module")
def season_csv(shared_data: Path) -> Path:
    return shared_data / "boxscores" / "player_boxscores_2023-24.csv"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """A token-guarded server over a fresh service (few live formulas: a faster start)."""
    service = RealTimeCalculationService(data_dir=tmp_path_factory.mktemp("jobs-api"),
                                         live_formulas=["TS_PCT"])
    server = ServerThread(create_app(service, token=TOKEN, mcp=False))
    server.service = service  # type: ignore[attr-defined]
    yield server.start()
    server.stop()


@pytest.fixture
def http(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as client:
        yield client


def wait_finished(http: httpx.Client, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = http.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def all_results(http: httpx.Client, job_id: str) -> tuple[list[dict], list[dict], dict]:
    rows: list[dict] = []
    errors: list[dict] = []
    offset: int | None = 0
    page: dict = {}
    while offset is not None:
        page = http.get(f"/v1/jobs/{job_id}/results",
                        params={"offset": offset, "limit": 10_000}).json()
        rows += page["rows"]
        errors += page["errors"]
        offset = page["next_offset"]
    return rows, errors, page


def test_a_job_on_a_season_file_equals_compute(http: httpx.Client, season_csv: Path) -> None:
    submitted = http.post("/v1/jobs", json={
        "formulas": ["ts%", "EFG_PCT", "usg_pct"], "input": {"path": str(season_csv)},
        "mapping": STATS_MAP, "batch_size": 5_000})
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()
    assert submitted.headers["location"] == f"/v1/jobs/{job['job_id']}"
    assert job["status"] in ("queued", "processing") and job["formulas"] == FORMULAS
    assert job["results_url"] == f"/v1/jobs/{job['job_id']}/results"

    done = wait_finished(http, job["job_id"])
    assert done["status"] == "completed", done["error"]
    assert (done["total_rows"], done["processed_rows"], done["chunks_total"]) == (ROWS, ROWS, 6)
    assert done["progress"] == 1.0 and done["started_at"] and done["completed_at"]
    assert Path(done["result_path"]).is_dir()

    rows, errors, last = all_results(http, job["job_id"])
    expected = courtside.compute(season_csv, FORMULAS, mapping=STATS_MAP)
    assert [r["row_index"] for r in rows] == list(range(ROWS))
    for formula in FORMULAS:  # JSON floats round-trip exactly
        assert [r[formula] for r in rows] == expected[formula].to_list(), formula
    # Kelly Oubre Jr., PHI at SAS 2024-04-07, by hand: 26 PTS, 22 FGA, 2 FTA.
    oubre = next(r for r in rows if r["Player"] == "Kelly Oubre Jr." and r["Date"] == "04/07/2024")
    assert oubre["TS_PCT"] == pytest.approx(26 / (2 * (22 + 0.44 * 2)))
    # every null has its reason, and the errors came with the pages of their rows
    nulls = {(r["row_index"], f) for r in rows for f in FORMULAS if r[f] is None}
    assert {(e["row_index"], e["formula"]) for e in errors} == nulls
    assert len(errors) == last["error_count"] > 1_000
    assert "division by zero" in next(e["reason"] for e in errors if e["formula"] == "TS_PCT")


def test_inline_rows_and_the_list_newest_first(http: httpx.Client) -> None:
    ids = []
    for pts in (30, 12):
        reply = http.post("/v1/jobs", json={
            "formulas": ["TS_PCT"], "input": {"rows": [{"PTS": pts, "FGA": 20, "FTA": 10},
                                                       {"PTS": 0, "FGA": 0, "FTA": 0}]}})
        assert reply.status_code == 202, reply.text
        ids.append(reply.json()["job_id"])
        assert wait_finished(http, ids[-1])["status"] == "completed"
    page = http.get(f"/v1/jobs/{ids[0]}/results").json()
    assert [r["TS_PCT"] for r in page["rows"]] == [pytest.approx(30 / 48.8), None]
    assert page["errors"][0]["row_index"] == 1 and page["next_offset"] is None

    listed = http.get("/v1/jobs", params={"status": "completed"}).json()
    order = [j["job_id"] for j in listed["jobs"]]
    assert order.index(ids[1]) < order.index(ids[0])  # newest first
    assert listed["count"] == len(listed["jobs"])
    assert {j["status"] for j in listed["jobs"]} == {"completed"}
    bad = http.get("/v1/jobs", params={"status": "done"})
    assert bad.status_code == 422 and "status" in bad.json()["error"]["message"]


async def test_cancel_a_running_job_seen_on_its_websocket_topic_then_resume(
        server: ServerThread, season_csv: Path) -> None:
    jobs = server.service.jobs  # type: ignore[attr-defined]
    jobs.compute = slow_compute  # >= 0.15 s per chunk: 26 chunks take >= 3.9 s
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=AUTH, timeout=30) as http:
            reply = await http.post("/v1/jobs", json={
                "formulas": ["TS_PCT", "USG_PCT"], "input": {"path": str(season_csv)},
                "mapping": STATS_MAP, "batch_size": 1_000})
            assert reply.status_code == 202, reply.text
            job_id = reply.json()["job_id"]
            async with connect(server.ws_url, additional_headers=AUTH) as ws:
                await send(ws, type="subscribe", topic=f"jobs:{job_id}")
                snapshot = await recv(ws)
                assert snapshot["type"] == "snapshot" and snapshot["topic"] == f"jobs:{job_id}"
                event = await recv(ws, timeout=30)
                while event.get("processed_rows", 0) == 0:
                    event = await recv(ws, timeout=30)
            assert event["type"] == "event" and event["event"] == "job_progress"
            assert event["topic"] == f"jobs:{job_id}"
            assert event["job_id"] == job_id and event["status"] == "processing"
            assert event["total_rows"] == ROWS and event["chunks_total"] == 26
            assert event["processed_rows"] % 1_000 == 0 and event["rows_per_second"] > 0

            cancel = await http.post(f"/v1/jobs/{job_id}/cancel")
            assert cancel.status_code == 200, cancel.text
            job = cancel.json()
            while job["status"] not in ("completed", "failed", "cancelled"):
                await _sleep()
                job = (await http.get(f"/v1/jobs/{job_id}")).json()
            assert job["status"] == "cancelled", job
            assert 0 < job["chunks_done"] < 26 and "cancel" in job["error"]
            partial = (await http.get(f"/v1/jobs/{job_id}/results",
                                      params={"limit": 0})).json()
            assert partial["total_rows"] == job["processed_rows"] == job["chunks_done"] * 1_000
            again = await http.post(f"/v1/jobs/{job_id}/cancel")
            assert again.status_code == 409 and "already cancelled" in again.text

            jobs.compute = None  # the rest at full speed
            resumed = await http.post(f"/v1/jobs/{job_id}/resume")
            assert resumed.status_code == 202, resumed.text
            job = resumed.json()
            while job["status"] not in ("completed", "failed", "cancelled"):
                await _sleep()
                job = (await http.get(f"/v1/jobs/{job_id}")).json()
            assert job["status"] == "completed" and job["processed_rows"] == ROWS
            page = (await http.get(f"/v1/jobs/{job_id}/results",
                                   params={"offset": ROWS - 1, "limit": 5})).json()
            assert page["total_rows"] == ROWS and page["rows"][0]["row_index"] == ROWS - 1
            done = await http.post(f"/v1/jobs/{job_id}/resume")
            assert done.status_code == 409 and "already completed" in done.text
    finally:
        jobs.compute = None


async def _sleep() -> None:
    import asyncio

    await asyncio.sleep(0.1)


def error_of(reply: httpx.Response, status: int) -> str:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"error"} and body["error"]["code"]
    return body["error"]["message"]


def test_bad_requests_say_what_to_fix(http: httpx.Client, tmp_path: Path) -> None:
    for path in ("/v1/jobs/nope", "/v1/jobs/nope/results"):
        assert "no batch job 'nope'" in error_of(http.get(path), 404)
    for path in ("/v1/jobs/nope/cancel", "/v1/jobs/nope/resume"):
        assert "no batch job 'nope'" in error_of(http.post(path), 404)
    rows = {"rows": [{"PTS": 1, "FGA": 1, "FTA": 0}]}

    def submit(**body: Any) -> httpx.Response:
        return http.post("/v1/jobs", json={"formulas": ["TS_PCT"], "input": rows, **body})

    message = error_of(submit(formulas=["TS_PCTT"]), 422)
    assert "unknown formula 'TS_PCTT'" in message and "did you mean TS_PCT" in message
    assert "syntax error" in error_of(submit(define=["X=PTS+"]), 422)
    message = error_of(submit(executor="gpu"), 422)
    assert "executor" in message and "'sequential', 'parallel' or 'dask'" in message
    assert "batch_size" in error_of(submit(batch_size=0), 422)
    assert "exactly one of path, rows, query or source" in error_of(
        submit(input={"path": "x.csv", "source": "box"}), 422)
    assert "exactly one of" in error_of(submit(input={}), 422)

    missing = tmp_path / "none.csv"
    assert f"input file {missing} does not exist" in error_of(
        submit(input={"path": str(missing)}), 422)
    assert "no file matches" in error_of(submit(input={"path": str(tmp_path / "*.csv")}), 422)
    (tmp_path / "box.txt").write_text("PTS\n1\n")
    assert "unknown file type '.txt'" in error_of(
        submit(input={"path": str(tmp_path / "box.txt")}), 422)
    db = f"sqlite:///{tmp_path / 'x.db'}"
    assert "single read-only SELECT" in error_of(
        submit(input={"query": {"url": db, "sql": "DELETE FROM box"}}), 400)
    assert "invalid database URL" in error_of(
        submit(input={"query": {"url": "not a url", "sql": "SELECT 1"}}), 400)
    (tmp_path / "lacking.csv").write_text("PTS,FGA\n10,8\n")
    message = error_of(submit(input={"path": str(tmp_path / "lacking.csv")}), 422)
    assert "need FTA, which the input lacks" in message
    assert "need FTA" in error_of(submit(input={"rows": [{"PTS": 1, "FGA": 1}]}), 422)
    message = error_of(submit(input={"source": "no-such-sync"}), 422)
    assert "no configured source 'no-such-sync'; configured sources:" in message
    # none of these made a job
    listed = http.get("/v1/jobs", params={"limit": 500}).json()["jobs"]
    assert not any(j["input"].startswith(str(tmp_path)) for j in listed)


def test_writes_need_the_token_reads_do_not(server: ServerThread) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as anonymous:
        body = {"formulas": ["TS_PCT"], "input": {"rows": [{"PTS": 1, "FGA": 1}]}}
        for path, json in [("/v1/jobs", body), ("/v1/jobs/any/cancel", None),
                           ("/v1/jobs/any/resume", None)]:
            reply = anonymous.post(path, json=json)
            assert reply.status_code == 401 and "Authorization: Bearer" in reply.text
        wrong = anonymous.post("/v1/jobs", json=body, headers={"Authorization": "Bearer no"})
        assert wrong.status_code == 401
        assert anonymous.get("/v1/jobs").status_code == 200
        assert anonymous.get("/v1/jobs/any").status_code == 404


def test_a_configured_source_as_input(http: httpx.Client, season_csv: Path,
                                      tmp_path: Path) -> None:
    part = tmp_path / "part.csv"
    pl.read_csv(season_csv, infer_schema_length=10_000).head(2_000).write_csv(part)
    sync = http.post("/v1/syncs", json={
        "name": "box-files", "source_type": "file_system", "frequency": "day",
        "config": {"path": str(part), "mapping": STATS_MAP}, "auto_start": False})
    assert sync.status_code == 201, sync.text
    reply = http.post("/v1/jobs", json={"formulas": ["TS_PCT", "USG_PCT"],
                                        "input": {"source": "box-files"}})
    assert reply.status_code == 202, reply.text
    job = wait_finished(http, reply.json()["job_id"])
    assert job["status"] == "completed", job["error"]
    assert job["input"] == "source box-files (file_system): 2000 rows"
    rows, _, _ = all_results(http, job["job_id"])
    expected = courtside.compute(part, ["TS_PCT", "USG_PCT"], mapping=STATS_MAP)
    assert [r["USG_PCT"] for r in rows] == expected["USG_PCT"].to_list()
    message = error_of(http.post("/v1/jobs", json={"formulas": ["TS_PCT"],
                                                   "input": {"source": "box-filez"}}), 422)
    assert "configured sources: box-files." in message


def test_openapi_documents_the_jobs_routes_with_their_schemas(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    paths = spec["paths"]
    assert {"/v1/jobs", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/cancel",
            "/v1/jobs/{job_id}/resume", "/v1/jobs/{job_id}/results"} <= set(paths)
    post = paths["/v1/jobs"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/JobRequest")
    assert post["responses"]["202"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/JobView")
    assert post["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorResponse")
    schemas = spec["components"]["schemas"]
    assert {"JobRequest", "JobInput", "QueryInput", "JobView", "JobList", "JobResults",
            "RowError", "BatchStatus"} <= set(schemas)
    assert set(schemas["JobInput"]["properties"]) == {"path", "rows", "query", "source"}
    executor = schemas["JobRequest"]["properties"]["executor"]
    assert executor["enum"] == list(EXECUTORS)  # the schema follows the job API
    assert http.get("/docs").status_code == 200
