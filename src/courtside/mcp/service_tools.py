"""MCP tools for the service itself: lifecycle, calculations, batch jobs, syncs, status, tuning.

Each tool is a thin call of one ``RealTimeCalculationService`` method; descriptions and
argument docs are written for a language model reading them cold.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from courtside.mcp.calls import tool_errors
from courtside.model import CalculationStatus, ConfigError, EntityRef

__all__ = ["register_service_tools"]

MAX_ROWS = 100_000

FormulaId = Annotated[str, Field(description="Formula id or alias, e.g. TS_PCT, PER, USG_PCT "
                                             "(list_formulas shows them all).")]


def _task_dict(task: Any, entity: dict[str, Any] | None) -> dict[str, Any]:
    return {"formula_id": task.formula_id, "value": task.result, "status": task.status.value,
            "entity": entity, "cache_hit": task.cache_hit, "data_version": task.data_version,
            "formula_version": task.formula_version, "duration_ms": task.duration_ms}


def _job_dict(job: Any) -> dict[str, Any]:
    data = job.to_dict()
    data.pop("options", None)
    return data


def register_service_tools(server: MCPServer, service: Any) -> None:
    """Add the service tools to ``server``."""

    @server.tool(description="Start the real-time calculation service (database, live engine, "
                 "usage tracking). Idempotent: a running service is left as it is. Returns "
                 "the service status.")
    async def start_realtime_service() -> dict[str, Any]:
        with tool_errors():
            await service.start()
            return (await service.status()).to_dict()

    @server.tool(description="Stop the real-time calculation service: background work is "
                 "finished or cancelled and state is saved. Other tools fail until "
                 "start_realtime_service is called again.")
    async def stop_realtime_service() -> dict[str, Any]:
        with tool_errors():
            await service.stop()
            return {"running": service.running}

    @server.tool(description="Compute one formula now, for a live player or team (by id or "
                 "name, in a live game) and/or for stat values you give in input_data. Returns "
                 "the value (null when undefined, e.g. division by zero) with the entity, data "
                 "version and whether it came from the cache.")
    async def calculate_formula_realtime(
        formula_id: FormulaId,
        input_data: Annotated[dict[str, float] | None, Field(
            description="Stat values by canonical name (PTS, FGA, FTA, MIN, TEAM_FGA...). "
                        "With a live entity they override its live values.")] = None,
        player: Annotated[str | None, Field(
            description="A live player: NBA personId or name ('Stephen Curry', 'Curry').")] = None,
        team: Annotated[str | None, Field(
            description="A live team: NBA teamId or tricode ('GSW').")] = None,
        game_id: Annotated[str | None, Field(
            description="The game of the player or team; default: the latest live game "
                        "holding it.")] = None,
        timeout_seconds: Annotated[float, Field(
            gt=0, le=60, description="Wait at most this long for the value.")] = 5.0,
    ) -> dict[str, Any]:
        with tool_errors():
            if player and team:
                raise ConfigError("give either player or team, not both")
            ref: EntityRef | None = None
            if player or team:
                kind, query = ("player", player) if player else ("team", team)
                ref = service.resolve_entity(kind, query, game_id)
            elif game_id:
                raise ConfigError("game_id goes with a player or team; to read the whole game "
                                  "use get_game_boxscore")
            if ref is None and not input_data:
                raise ConfigError("give input_data (stat values), a player or team, or both")
            task = await service.calculate(formula_id, input_data, entity=ref,
                                           timeout_seconds=timeout_seconds, interface="mcp")
            if task.status is CalculationStatus.TIMEOUT:
                raise ToolError(f"{formula_id}: no value within {timeout_seconds:g} s "
                                f"({task.error or 'timed out'})")
            if task.status is not CalculationStatus.COMPLETED:
                raise ToolError(f"{formula_id}: {task.error}")
            entity = None
            if ref is not None:
                entity = (await service.entity_values(task.entity or ref))["entity"]
            return _task_dict(task, entity)

    @server.tool(description="Start a batch calculation of formulas over a table: a CSV, "
                 "Parquet, JSON or NDJSON file, folder or glob on the server (data_path), or "
                 "rows you give. Returns the job at once (status queued); follow it with "
                 "get_batch_job(job_id, wait=true), read rows with get_batch_results. With "
                 "wait=true this call itself waits, sending progress notifications.")
    async def process_batch_calculations(
        formulas: Annotated[list[str], Field(min_length=1, description="Formula ids, e.g. "
                                             "['TS_PCT', 'PER'].")],
        ctx: Context,
        data_path: Annotated[str | None, Field(
            description="Path, folder or glob of the input files, as the server sees it.")] = None,
        rows: Annotated[list[dict[str, Any]] | None, Field(
            description=f"Inline rows instead of a file (at most {MAX_ROWS:,}); column names "
                        "as in the source (PTS, FGA...).")] = None,
        preset: Annotated[str | None, Field(
            description="Column naming of the input: nba-stats, nba-live or bbr; default: "
                        "guessed.")] = None,
        column_map: Annotated[dict[str, str] | None, Field(
            description="Source column -> canonical stat name, for columns the preset does "
                        "not know, e.g. {'Points': 'PTS', '3PM': 'FG3M'}.")] = None,
        executor: Annotated[Literal["sequential", "parallel", "dask"], Field(
            description="sequential (one core), parallel (all cores) or dask.")] = "sequential",
        batch_size: Annotated[int | None, Field(
            ge=1, description="Rows per chunk; default: chosen from the data size.")] = None,
        wait: Annotated[bool, Field(
            description="Wait for the job to finish (with progress notifications).")] = False,
    ) -> dict[str, Any]:
        with tool_errors():
            if (data_path is None) == (rows is None):
                raise ConfigError("give either data_path (a file, folder or glob) or rows")
            data: Any = data_path
            if rows is not None:
                if not rows or len(rows) > MAX_ROWS:
                    raise ConfigError(f"rows must hold 1 to {MAX_ROWS:,} rows, got {len(rows)}")
                import polars as pl

                data = pl.DataFrame(rows, infer_schema_length=None)
            job = await service.process_batch(formulas, data, executor=executor,
                                              batch_size=batch_size, preset=preset,
                                              mapping=column_map)
            if wait:
                job = await follow_job(service, job.job_id, ctx, timeout=3600.0)
            return _job_dict(job)

    @server.tool(description="A batch job's status and row counts. With wait=true, waits "
                 "until the job finishes (or timeout_seconds pass), sending a progress "
                 "notification per finished chunk.")
    async def get_batch_job(
        job_id: Annotated[str, Field(description="The job id from process_batch_calculations.")],
        ctx: Context,
        wait: Annotated[bool, Field(description="Wait for the job to finish.")] = False,
        timeout_seconds: Annotated[float, Field(gt=0, le=3600,
                                                description="Longest wait.")] = 600.0,
    ) -> dict[str, Any]:
        with tool_errors():
            if wait:
                return _job_dict(await follow_job(service, job_id, ctx, timeout_seconds))
            return _job_dict(await service.batch_status(job_id))

    @server.tool(description="Result rows of a batch job (input ids plus one column per "
                 "formula), limit rows from offset, with the errors of those rows (row_index, "
                 "formula, reason), the totals and next_offset for the next page.")
    async def get_batch_results(
        job_id: Annotated[str, Field(description="The job id.")],
        limit: Annotated[int, Field(ge=0, le=1000, description="Rows to return.")] = 20,
        offset: Annotated[int, Field(ge=0, description="Rows to skip.")] = 0,
    ) -> dict[str, Any]:
        with tool_errors():
            return await service.batch_results(job_id, limit=limit, offset=offset)

    @server.tool(description="Cancel a running batch job after its current chunk; finished "
                 "chunks keep their results.")
    async def cancel_batch_job(
        job_id: Annotated[str, Field(description="The job id.")],
    ) -> dict[str, Any]:
        with tool_errors():
            return _job_dict(await service.cancel_batch(job_id))

    @server.tool(description="Run a data sync now (one by id or name, or every enabled one) "
                 "and feed what changed to the live games. Returns what each sync did, as "
                 "runs: games fed, rows, stale, error, health.")
    async def sync_live_data(
        sync: Annotated[str | None, Field(
            description="A sync id or name; default: every enabled sync.")] = None,
    ) -> dict[str, Any]:
        with tool_errors():
            # the shape of REST's POST /v1/syncs/{ref}/run (and an object, as declared)
            return {"runs": await service.sync_live_data(sync)}

    @server.tool(description="The service's status: running, uptime, sources and their "
                 "health, live games, subscribers, cache, calculations and latency figures.")
    async def get_realtime_service_status() -> dict[str, Any]:
        with tool_errors():
            return (await service.status()).to_dict()

    @server.tool(description="Tune the service from its measured figures and recent usage: "
                 "recommendations with their evidence; with apply=true the safe ones (cache "
                 "size and TTL, cache warming, batch size, sync intervals) are applied and "
                 "their effect measured before and after.")
    async def optimize_realtime_performance(
        apply: Annotated[bool, Field(description="Apply the safe recommendations.")] = True,
    ) -> dict[str, Any]:
        with tool_errors():
            return await service.optimize(apply=apply)


async def follow_job(service: Any, job_id: str, ctx: Context, timeout: float) -> Any:
    """Wait for a batch job to finish, reporting its progress to the MCP client."""
    from courtside.batch.progress import topic

    subscription = service.bus.subscribe(topic(job_id))
    try:
        job = await service.batch_status(job_id)  # after subscribing: no event is missed
        last = -1
        async with asyncio.timeout(timeout):
            while not job.status.finished:
                if job.processed_rows != last:
                    last = job.processed_rows
                    await ctx.report_progress(job.processed_rows, job.total_rows or None,
                                              f"{job.chunks_done}/{job.chunks_total} chunks")
                # progress events wake us at once; the status poll covers a missed one
                if await subscription.get(timeout=1.0) is None and subscription.closed:
                    await asyncio.sleep(1.0)  # the bus closed under us: poll instead
                job = await service.batch_status(job_id)
        await ctx.report_progress(job.processed_rows, job.total_rows or None,
                                  f"{job.status.value}: {job.chunks_done}/{job.chunks_total} "
                                  "chunks")
        return job
    except TimeoutError:
        raise ToolError(f"job {job_id} is still {job.status.value} after {timeout:g} s "
                        f"({job.processed_rows}/{job.total_rows} rows); call get_batch_job "
                        "again to keep waiting") from None
    finally:
        subscription.close()
