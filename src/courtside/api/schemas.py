"""Request bodies of the REST API (responses are the service's JSON-ready shapes)."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

__all__ = ["CalculateRequest", "DefineFormulasRequest", "SyncRequest"]


class CalculateRequest(BaseModel):
    """One formula for explicit inputs, a live entity, or both (explicit inputs win)."""

    model_config = ConfigDict(extra="forbid")

    # formula_id/input_data are accepted too: the names of calculate_formula_realtime and MCP.
    formula: str = Field(min_length=1, max_length=200,
                         validation_alias=AliasChoices("formula", "formula_id"),
                         description="A formula id or alias (TS_PCT, ts%) or a custom name "
                         "(also accepted as formula_id).")
    inputs: dict[str, float | None] | None = Field(
        default=None, max_length=500, validation_alias=AliasChoices("inputs", "input_data"),
        description="Stat name -> value, e.g. {\"PTS\": 30, \"FGA\": 20, \"FTA\": 6} "
        "(also accepted as input_data).")
    entity: str | None = Field(
        default=None, max_length=100,
        description="A live entity: 'player:203925@0022000001', 'team:1610612744', 'game:0022000001'.")
    use_live_data: bool = True
    cache_result: bool = True
    timeout_seconds: float | None = Field(default=None, gt=0, le=60)


class DefineFormulasRequest(BaseModel):
    """Custom formulas as ``NAME=EXPR`` texts."""

    model_config = ConfigDict(extra="forbid")

    definitions: list[str] = Field(min_length=1, max_length=50,
                                   description="e.g. [\"MY_TS=PTS/(2*(FGA+0.44*FTA))\"]")


class SyncRequest(BaseModel):
    """A new sync: a source bound to a frequency."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    source_type: str = Field(description="nba_api, custom_endpoint, file_system, database, replay")
    frequency: str = Field(default="real_time",
                           description="real_time, second, minute, hour or day")
    config: dict[str, Any] = Field(default_factory=dict)
    data_types: list[str] = Field(default_factory=list)
    auto_start: bool = True
