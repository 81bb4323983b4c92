"""courtside: real-time NBA statistics calculation.

The public Python API is imported lazily so that ``import courtside`` stays cheap.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    # name -> module that defines it
    "compute": "courtside.batch.compute",
    "derive_context": "courtside.batch.compute",
    "RealTimeCalculationService": "courtside.service",
    "start_realtime_service": "courtside.service",
    "stop_realtime_service": "courtside.service",
    "calculate_formula_realtime": "courtside.service",
    "process_batch_calculations": "courtside.service",
    "sync_live_data": "courtside.service",
    "get_realtime_service_status": "courtside.service",
    "optimize_realtime_performance": "courtside.service",
    "read_source": "courtside.sources.quick",
    "evaluate_snapshot": "courtside.formulas.entity",
    "evaluate_entity": "courtside.formulas.entity",
    "game_log_teams": "courtside.formulas.gamelog",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'courtside' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
