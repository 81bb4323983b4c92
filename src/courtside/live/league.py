"""The league context a live game's formulas read (``LG_*`` totals, ``LG_PACE``, ``LG_APER``).

A single game has no league of its own, so live values use a season's league figures: by
default the file shipped in ``courtside/data`` (a recent season's totals, its source written
in the file), or whatever the caller supplies (``league=`` on the service).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from courtside.model import ConfigError

__all__ = ["DEFAULT_LEAGUE_FILE", "load_league_context"]

DEFAULT_LEAGUE_FILE = "league_2023-24.json"


def load_league_context(source: str | Path | Mapping[str, float] | None = None) -> dict[str, float]:
    """League context values: from a mapping, a JSON file, or the shipped default.

    A file holds ``{"values": {"LG_PTS": ..., ...}}`` (or the mapping itself). Every name must
    start with ``LG_`` and every value be a number.
    """
    if isinstance(source, Mapping):
        values = dict(source)
    else:
        if source is None:
            text = resources.files("courtside.data").joinpath(DEFAULT_LEAGUE_FILE).read_text()
            where = f"courtside/data/{DEFAULT_LEAGUE_FILE}"
        else:
            path = Path(source)
            if not path.is_file():
                raise ConfigError(f"league context file {path} does not exist")
            text, where = path.read_text(), str(path)
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"league context file {where} is not JSON: {exc}") from None
        values = doc.get("values", doc) if isinstance(doc, dict) else None
        if not isinstance(values, dict):
            raise ConfigError(f"league context file {where}: expected {{'values': {{...}}}}")
    out: dict[str, float] = {}
    for name, value in values.items():
        if not str(name).startswith("LG_"):
            raise ConfigError(f"league context name {name!r} must start with LG_ "
                              "(e.g. LG_PTS, LG_PACE)")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"league context {name} must be a number, got {value!r}")
        out[str(name)] = float(value)
    return out
