"""Periods of analysis: a named span (``hour``, ``7d``, ``all``) or explicit since/until."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from courtside.model import ConfigError, utcnow

_NAMED: dict[str, timedelta | None] = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=30),
    "year": timedelta(days=365),
    "all": None,
}
_SPAN = re.compile(r"^(\d+)([mhdw])$")
_UNIT = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

# Bucket widths for volume-over-time charts, smallest first.
_BUCKETS: list[tuple[str, timedelta]] = [
    ("1m", timedelta(minutes=1)), ("5m", timedelta(minutes=5)), ("15m", timedelta(minutes=15)),
    ("1h", timedelta(hours=1)), ("6h", timedelta(hours=6)), ("1d", timedelta(days=1)),
    ("1w", timedelta(weeks=1)), ("4w", timedelta(weeks=4)),
]
MAX_BUCKETS = 60


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open span of time ``[since, until)`` in UTC, with the name it was asked by."""

    since: datetime
    until: datetime
    name: str = "custom"

    @property
    def seconds(self) -> float:
        """The span's length in seconds."""
        return (self.until - self.since).total_seconds()

    def bucket(self) -> tuple[str, timedelta]:
        """The smallest bucket width that draws the period in at most ``MAX_BUCKETS`` bars."""
        for label, width in _BUCKETS:
            if self.seconds / width.total_seconds() <= MAX_BUCKETS:
                return label, width
        return _BUCKETS[-1]

    def halves(self) -> tuple[Period, Period]:
        """The first and second halves, for trends."""
        mid = self.since + (self.until - self.since) / 2
        return Period(self.since, mid, "first_half"), Period(mid, self.until, "second_half")

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"name": self.name, "since": self.since.isoformat(), "until": self.until.isoformat()}


def parse_time(value: datetime | str, what: str) -> datetime:
    """``value`` as a datetime: ISO 8601 text is parsed (its offset, if any, kept); ConfigError
    naming ``what`` when it is not ISO 8601."""
    if not isinstance(value, str):
        return value
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{what} {value!r} is not an ISO 8601 time "
                          "(e.g. 2026-01-31T20:00:00Z)") from None


def _utc(value: datetime | str, what: str) -> datetime:
    value = parse_time(value, what)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def resolve_period(period: str | None = None, *, since: datetime | str | None = None,
                   until: datetime | str | None = None, now: datetime | None = None,
                   earliest: datetime | None = None) -> Period:
    """Turn a period name or since/until into a ``Period``.

    Names: hour, day, week, month, year, all, or a span such as ``15m``, ``6h``, ``7d``, ``2w``,
    ending at ``until`` (default now). ``all`` starts at ``earliest`` (the first stored event).
    Explicit ``since`` wins over the name's start.
    """
    end = _utc(until, "until") if until is not None else (now or utcnow())
    name = (period or ("custom" if since is not None else "day")).strip().lower()
    if since is not None:
        start = _utc(since, "since")
    elif name in _NAMED:
        span = _NAMED[name]
        if span is None:
            start = earliest if earliest is not None and earliest < end else end - timedelta(hours=1)
        else:
            start = end - span
    elif m := _SPAN.match(name):
        if int(m.group(1)) == 0:
            raise ConfigError(f"period {period!r} is empty; a span needs a length above 0")
        try:
            start = end - timedelta(**{_UNIT[m.group(2)]: int(m.group(1))})
        except OverflowError:
            raise ConfigError(f"period {period!r} reaches before the year 1; use 'all' for "
                              "every stored event") from None
    else:
        raise ConfigError(f"period {period!r} is not known; use one of {sorted(_NAMED)} or a "
                          "span such as 15m, 6h, 7d, 2w, or give since/until")
    if start >= end:
        raise ConfigError(f"period: since ({start.isoformat()}) must be before until "
                          f"({end.isoformat()})")
    return Period(start, end, name)
