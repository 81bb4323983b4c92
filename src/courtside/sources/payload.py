"""Decoding response bodies, with errors that name the actual problem.

A JSON endpoint can hand back an HTML block page (stats.nba.com answers unwelcome clients
with a 403 page), a body cut short by a dropped connection, or plain garbage; each gets its
own error so that an operator sees "blocked" or "truncated" rather than "Expecting value".
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from courtside.sources.errors import HTMLPageError, SourceError, TruncatedJSONError

__all__ = ["decode_csv", "decode_json", "html_error", "looks_like_html"]

_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def looks_like_html(body: bytes, content_type: str = "") -> bool:
    """True when the body is an HTML page rather than data."""
    if "html" in content_type.lower():
        return True
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def html_error(body: bytes, status: int, url: str) -> HTMLPageError:
    """The error for an HTML page where data was expected, with the page title and a hint."""
    match = _TITLE.search(body[:4096])
    title = match.group(1).decode("utf-8", "replace").strip() if match else ""
    hint = (" The server is refusing this client: check the request headers (User-Agent, "
            "Referer), the proxy, and the request rate." if status in (401, 403, 429) else
            " Check the URL: it points at a web page, not a data endpoint.")
    label = f" titled {title!r}" if title else ""
    return HTMLPageError(f"{url} returned an HTML page{label} (HTTP {status}) instead of "
                         f"JSON.{hint}", status=status, url=url)


def _stops_early(text: str) -> bool:
    """True when the text ends inside a string or with brackets still open: cut short."""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
    return in_string or depth > 0


def decode_json(body: bytes, *, url: str, status: int = 200, content_type: str = "") -> Any:
    """The JSON value of a body, or a clear error for HTML, truncated or invalid JSON."""
    if looks_like_html(body, content_type):
        raise html_error(body, status, url)
    if not body.strip():
        raise TruncatedJSONError(f"{url} returned an empty body (HTTP {status}); expected "
                                 "JSON. The response was cut off or the server is failing.",
                                 url=url)
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise SourceError(f"{url} returned a body that is not UTF-8 text ({exc}); expected "
                          "JSON.", url=url) from exc
    except json.JSONDecodeError as exc:
        if _stops_early(exc.doc):
            raise TruncatedJSONError(
                f"{url} returned JSON that stops after {len(body)} bytes ({exc.msg}): the "
                "response was truncated (dropped connection or proxy limit). It will be "
                "retried; the last good data is served meanwhile.", url=url) from exc
        raise SourceError(f"{url} returned invalid JSON at line {exc.lineno} column "
                          f"{exc.colno}: {exc.msg}", url=url) from exc


def decode_csv(body: bytes, *, url: str, status: int = 200,
               content_type: str = "") -> list[dict[str, str]]:
    """The rows of a CSV body as dicts keyed by its header, or a clear error for HTML."""
    if looks_like_html(body, content_type):
        raise html_error(body, status, url)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{url} returned CSV that is not UTF-8 text ({exc})", url=url) from exc
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise SourceError(f"{url} returned CSV without a header row; the first line must "
                          "name the columns", url=url)
    rows = list(reader)
    width = len(reader.fieldnames)
    for i, row in enumerate(rows, start=2):
        if None in row or len(row) != width:
            raise TruncatedJSONError(f"{url} returned CSV whose line {i} has the wrong number "
                                     "of fields: truncated or malformed", url=url)
    return rows
