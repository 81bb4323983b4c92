"""The read-only gate of DATABASE sources: one SELECT statement, nothing else.

Comments and quoted text are blanked before the checks, so a keyword inside a string
literal is harmless and a statement hidden in a comment cannot slip through. This check is
the first of two walls: the connection is also opened read-only where the backend allows.
"""

from __future__ import annotations

import re

from courtside.model import ConfigError

__all__ = ["ensure_single_select"]

# Words that can make one statement beginning with SELECT or WITH write or lock: a
# data-modifying CTE (PostgreSQL, SQLite's WITH ... REPLACE INTO), SELECT ... INTO a new
# table or a file, FOR UPDATE, LOCK IN SHARE MODE.
_WRITES_IN_A_SELECT = {"insert", "update", "delete", "merge", "upsert", "replace", "into", "lock"}
# Words that only begin statements of their own (DDL, permissions, transactions, SQLite's
# PRAGMA/ATTACH). One SELECT cannot hold them, so they are refused only as a second line
# against dialects that accept statements without a separator. Statement words that are
# common column or function names (comment, load, set, do, copy, call, analyze, release,
# ...) are not listed: after the one-SELECT check they can only be identifiers.
_STATEMENT_ONLY = {
    "drop", "alter", "create", "truncate", "grant", "revoke", "attach", "detach", "pragma",
    "vacuum", "exec", "execute", "begin", "commit", "rollback", "savepoint",
}
_FORBIDDEN = _WRITES_IN_A_SELECT | _STATEMENT_ONLY
# replace(...) is the string function, not the statement (which needs INTO or a table name).
_FUNCTIONS = {"replace"}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def _blank_literals(sql: str) -> str:
    out = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end
            out.append(" ")
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end < 0:
                raise ConfigError("query has an unterminated /* comment")
            i = end + 2
            out.append(" ")
        elif ch in ("'", '"', "`"):
            j = i + 1
            while True:
                j = sql.find(ch, j)
                if j < 0:
                    raise ConfigError(f"query has an unterminated {ch} quote")
                if sql.startswith(ch * 2, j):  # doubled quote escapes itself
                    j += 2
                    continue
                break
            out.append(" " if ch == "'" else "x")
            i = j + 1
        elif ch == "$" and (m := re.match(r"\$[A-Za-z_]*\$", sql[i:])):
            end = sql.find(m.group(0), i + len(m.group(0)))
            if end < 0:
                raise ConfigError("query has an unterminated dollar-quoted string")
            out.append(" ")
            i = end + len(m.group(0))
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def ensure_single_select(sql: str) -> str:
    """The query without a trailing semicolon; ConfigError unless it is one plain SELECT."""
    text = sql.strip()
    bare = _blank_literals(text).strip()
    while bare.endswith(";"):
        bare = bare[:-1].rstrip()
        text = text.rstrip()[:-1].rstrip()
    if not bare:
        raise ConfigError("the query is empty; give one SELECT statement")
    if ";" in bare:
        raise ConfigError("the query holds more than one statement; give exactly one SELECT")
    words = [m.group(0).lower() for m in _WORD.finditer(bare)
             if not (m.group(0).lower() in _FUNCTIONS and bare[m.end():].lstrip().startswith("("))]
    if not words or words[0] not in ("select", "with"):
        raise ConfigError(f"only a SELECT query is allowed, got one starting with "
                          f"{(words or ['?'])[0].upper()!r}")
    bad = sorted(set(words) & _FORBIDDEN)
    if bad:
        raise ConfigError(f"the query uses {', '.join(w.upper() for w in bad)}, which is not "
                          "allowed: a database source runs one read-only SELECT")
    return text
