"""Turning rows of any tabular source into validated rows of canonical stats.

A mapping renames source columns to canonical names (``{"Points": "PTS"}``); columns that
already carry a canonical name keep it. Canonical stats become floats (``MIN`` also from
``"34:12"``); a row whose stat cannot be read, or that breaks a box-score invariant, is held
back with an :class:`Issue` rather than passed on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from courtside.model import CANONICAL_STATS, ConfigError, DataError, utcnow
from courtside.sources.livedata import parse_iso_minutes
from courtside.sources.records import StatRow
from courtside.sources.validation import Issue, line_problems

__all__ = ["CANONICAL_STATS", "KEY_CANDIDATES", "normalise_rows", "parse_minutes"]

#: Columns tried, in order, to key a row when the config names none.
KEY_CANDIDATES: tuple[str, ...] = ("GAME_ID", "PLAYER_ID", "TEAM_ID", "SEASON", "PLAYER",
                                   "TEAM", "ID")


def parse_minutes(value: Any) -> float:
    """Minutes as a float from a number, ``"34:12"`` or an ISO duration ``PT34M12.00S``
    (``PT1H02M30S`` too: :func:`~courtside.sources.livedata.parse_iso_minutes`); ValueError
    when it is none of them."""
    if value is None or value == "":
        return 0.0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if ":" in text:
        mins, _, secs = text.partition(":")
        return float(mins) + float(secs) / 60.0
    if text.upper().startswith("PT"):
        try:
            return parse_iso_minutes(text.upper())
        except DataError as exc:  # a row's bad value: the row is held back, not the batch
            raise ValueError(str(exc)) from None
    return float(text)


def _number(name: str, value: Any) -> float | None:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if name == "MIN":
        number = parse_minutes(value)
    elif isinstance(value, bool):
        raise ValueError(f"a boolean {value!r}")
    else:
        number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not finite ({value!r})")
    return number


def _as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def pick_key_columns(columns: Sequence[str], configured: Sequence[str] | None) -> list[str]:
    """The columns that identify a row: the configured ones, else the usual id columns."""
    if configured:
        missing = [c for c in configured if c not in columns]
        if missing:
            raise ConfigError(f"key column(s) {missing} are not in the data; columns are "
                              f"{list(columns)[:30]}")
        return list(configured)
    found = [c for c in KEY_CANDIDATES if c in columns]
    return found


def normalise_rows(records: Iterable[Mapping[str, Any]], *, source: str,
                   mapping: Mapping[str, str] | None = None, key: Sequence[str] | None = None,
                   data_time_column: str | None = None, fetched_at: datetime | None = None,
                   key_prefix: str = "") -> tuple[list[StatRow], list[Issue]]:
    """Validated canonical rows and the issues of the rows held back.

    ``key`` names the identifying columns (after mapping); without it the usual id columns
    (GAME_ID, PLAYER_ID, TEAM_ID...) are used, and failing those the row's position.
    """
    fetched_at = fetched_at or utcnow()
    mapping = dict(mapping or {})
    rows: list[StatRow] = []
    issues: list[Issue] = []
    key_cols: list[str] | None = None
    for index, record in enumerate(records):
        values = {mapping.get(k, k): v for k, v in record.items()}
        if key_cols is None:
            key_cols = pick_key_columns(list(values), key)
        row_key = key_prefix + ("|".join(str(values.get(c)) for c in key_cols)
                                if key_cols else f"row{index}")
        bad = []
        stats: dict[str, float] = {}
        for name in CANONICAL_STATS:
            if name in values:
                try:
                    number = _number(name, values[name])
                except (TypeError, ValueError) as exc:
                    bad.append(f"{name}={values[name]!r} is not a number ({exc})")
                    continue
                values[name] = number
                if number is not None:
                    stats[name] = number
        if bad:
            issues.append(Issue(row_key, "schema", "; ".join(bad)))
            continue
        problems = line_problems(stats)
        if problems:
            issues.append(Issue(row_key, problems[0][0], "; ".join(m for _, m in problems)))
            continue
        data_time = _as_datetime(values.get(data_time_column)) if data_time_column else None
        rows.append(StatRow(key=row_key, values=values, source=source, fetched_at=fetched_at,
                            data_time=data_time))
    return rows, issues
