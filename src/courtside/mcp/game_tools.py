"""MCP tools for formulas and live games: list, describe, define; games and box scores."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from courtside.mcp.calls import tool_errors

__all__ = ["register_game_tools"]


def _brief(formula: dict[str, Any]) -> dict[str, Any]:
    return {k: formula.get(k) for k in ("id", "description", "unit", "level", "kind",
                                        "aliases")}


def register_game_tools(server: MCPServer, service: Any) -> None:
    """Add the formula and game tools to ``server``."""

    @server.tool(description="List the formulas (id, description, unit, level, kind, aliases). "
                 "kind filters: stat (published formulas), step, context or custom (defined "
                 "at run time).")
    async def list_formulas(
        kind: Annotated[Literal["stat", "step", "context", "custom"] | None, Field(
            description="Only formulas of this kind.")] = None,
    ) -> list[dict[str, Any]]:
        with tool_errors():
            return [_brief(f) for f in service.list_formulas(kind)]

    @server.tool(description="A formula's full definition: expression, description, unit, "
                 "citation, version, the context it needs and the stat inputs it reads.")
    async def describe_formula(
        formula_id: Annotated[str, Field(description="Formula id or alias, e.g. TS_PCT.")],
    ) -> dict[str, Any]:
        with tool_errors():
            return service.formula_info(formula_id)

    @server.tool(description="Define (or redefine) a custom formula from an expression over "
                 "stat names and other formula ids, e.g. name='PTS_PER_SHOT', "
                 "expression='PTS / (FGA + 0.44 * FTA)'. Allowed: numbers, + - * / **, "
                 "comparisons, 'a if cond else b', min max abs sqrt clip round. Live games "
                 "compute it at once; a redefinition gets the next version.")
    async def define_formula(
        name: Annotated[str, Field(description="New formula id: letters, digits and _, "
                                               "starting with a letter.")],
        expression: Annotated[str, Field(description="The formula's expression.")],
    ) -> dict[str, Any]:
        with tool_errors():
            defined = await service.define_formulas([(name, expression)])
            return next(f for f in defined if f["id"].upper() == name.upper())

    @server.tool(description="The games the service tracks, live or finished: id, status "
                 "(1 scheduled, 2 live, 3 final), period, clock, teams, score. Read a game's "
                 "box score with get_game_boxscore or the resource courtside://games/{gameId}.")
    async def list_live_games() -> list[dict[str, Any]]:
        with tool_errors():
            return service.games()

    @server.tool(description="A tracked game's box score with formula values: the game "
                 "(score, period, clock), both teams and every player, each with counting "
                 "stats and the live formulas. A finished game retired from live tracking is "
                 "read from storage (marked archived: true).")
    async def get_game_boxscore(
        game_id: Annotated[str, Field(description="The NBA gameId, e.g. 0022000001.")],
        formulas: Annotated[list[str] | None, Field(
            description="Keep only these formula values (counting stats are always kept); "
                        "default: every live formula.")] = None,
        players: Annotated[bool, Field(description="Include player lines.")] = True,
    ) -> dict[str, Any]:
        with tool_errors():
            box = await service.find_game_boxscore(game_id, formulas)
            if not players:
                box["entities"] = [e for e in box["entities"] if e["kind"] != "player"]
            return box
