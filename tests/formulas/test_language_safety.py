"""Hostile formula texts are all rejected, with a located message, and run nothing."""

from __future__ import annotations

import sys

import pytest

from courtside.formulas.compiler import compile_formula
from courtside.formulas.language import MAX_DEPTH, MAX_TEXT, parse
from courtside.model import FormulaError

KNOWN = {"PTS", "FGA", "FGM", "FTA", "FTM", "MIN", "TOV", "AST", "TEAM_FGA", "LG_PTS"}


def resolve(name: str) -> str | None:
    return name.upper() if name.upper() in KNOWN else None


HOSTILE = [
    # attribute and dunder access
    "PTS.real", "PTS.__class__", "(1).__class__.__bases__[0].__subclasses__()",
    "().__class__.__mro__[1].__subclasses__()", "PTS.__dict__", "__builtins__",
    "__import__", "__import__('os').system('touch /tmp/courtside_pwned')",
    "__name__", "__file__", "_private", "FGA.__add__(1)", "min.__globals__",
    "abs.__self__", "round.__module__", "[].__class__", "PTS.conjugate()",
    # calls outside the table
    "eval('1')", "exec('1')", "compile('1','x','eval')", "open('/etc/passwd')",
    "getattr(PTS, 'real')", "globals()", "locals()", "vars()", "dir()", "input()",
    "print(PTS)", "breakpoint()", "exit()", "quit()", "help()", "type(PTS)",
    "len(PTS)", "sum(PTS, FGA)", "pow(PTS, 2)", "float('inf')", "int(PTS)",
    "math.sqrt(PTS)", "os.system('ls')", "PTS(1)", "min(PTS, FGA, key=abs)",
    "max(*PTS)", "abs(**PTS)", "sqrt(PTS, FGA)", "clip(PTS, 1)", "round(PTS, FGA)",
    "round(PTS, 11)", "round(PTS, 1.5)", "abs()", "min(PTS)",
    # lambdas, comprehensions, generators
    "lambda: 1", "(lambda x: x)(PTS)", "[x for x in (1, 2)]", "{x for x in (1,)}",
    "{x: 1 for x in (1,)}", "(x for x in (1,))", "sum(x for x in (1,))",
    "min([PTS, FGA])",
    # subscripts and containers
    "PTS[0]", "PTS[1:2]", "[PTS]", "(PTS, FGA)", "{PTS}", "{'a': PTS}", "PTS,",
    # strings, bytes and other literals
    "'PTS'", '"a" * 10', "b'x'", "f'{PTS}'", "f'{__import__(\"os\")}'", "None",
    "True", "False", "...", "1j", "PTS + 'a'", "1e999", "10000000000000000000000",
    # walrus, statements, imports
    "(x := 1)", "PTS := 1", "import os", "from os import system", "x = 1", "del PTS",
    "PTS; FGA", "if PTS: 1", "for x in y: pass", "while 1: pass", "def f(): pass",
    "class A: pass", "raise SystemExit", "assert PTS", "global PTS", "pass",
    "with open('x') as f: pass", "try: 1\nexcept: 2", "return 1", "yield 1",
    "await PTS", "async def f(): pass",
    # bitwise, matrix and other operators
    "PTS ^ 2", "PTS & FGA", "PTS | FGA", "~PTS", "PTS << 2", "PTS >> 1", "PTS @ FGA",
    "PTS % 3", "PTS // 2", "PTS is FGA", "PTS is not None", "PTS in FGA",
    "PTS not in FGA",
    # huge exponents and power tricks
    "PTS ** 100", "9 ** 9 ** 9", "2 ** 1000000", "PTS ** FGA", "PTS ** -17",
    "PTS ** (1 + 1)", "10 ** 400",
    # deep nesting and very long text
    "(" * 300 + "PTS" + ")" * 300,
    "-" * 500 + "PTS",
    "+".join(["PTS"] * 3000),
    "PTS" + " + PTS" * (MAX_TEXT // 6),
    "abs(" * (MAX_DEPTH + 5) + "PTS" + ")" * (MAX_DEPTH + 5),
    "min(" * 100 + "PTS" + ", 1)" * 100,
    "1 if " * 80 + "PTS > 1" + " else 2" * 80,
    # unknown names and type errors
    "FOO", "PTS + BAR", "pts_made", "os", "sys", "TEAM_FOO", "PTS > 1",
    "1 if PTS else 2", "not PTS", "PTS and FGA", "(PTS > 1) + 1", "abs(PTS > 1)",
    # syntax errors and odd characters
    "", "   ", "PTS +", "(PTS", "PTS)", "PTS FGA", "1..2", "PTS\x00", "PTS # comment\nFGA",
    "PTS\\\n+ FGA; import os", "\\x41",
]


def test_the_corpus_is_large_and_varied():
    assert len(HOSTILE) >= 100
    assert len(set(HOSTILE)) == len(HOSTILE)


WATCHED = {"exec", "import", "os.system", "subprocess.Popen", "open", "os.exec", "os.posix_spawn",
           "builtins.input", "ctypes.dlopen", "socket.connect", "os.remove", "shutil.rmtree"}
_recording: list[list[tuple[str, tuple]]] = []


def _hook(event: str, args: tuple) -> None:
    if _recording and event in WATCHED:
        _recording[-1].append((event, args))


sys.addaudithook(_hook)  # audit hooks cannot be removed; this one only records while asked


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_is_rejected_and_runs_nothing(text):
    events: list[tuple[str, tuple]] = []
    _recording.append(events)
    try:
        with pytest.raises(FormulaError) as info:
            tree = parse(text, resolve=resolve)
            compile_formula("X", tree)({"PTS": 1.0, "FGA": 2.0})
    finally:
        _recording.pop()
    message = str(info.value)
    assert message and "Traceback" not in message
    assert events == [], f"{text!r} triggered {events}"


@pytest.mark.parametrize(("text", "column", "token"), [
    ("PTS + foo", 7, "foo"),
    ("PTS.real", 1, "PTS.real"),
    ("PTS ^ 2", 5, "^"),
    ("FGA + (PTS // 2)", 12, "//"),
    ("abs(PTS) + open(1)", 12, "open"),
    ("PTS ** 40", 8, "40"),
    ("PTS +", 6, None),
    # Columns count in the text as written, leading blanks included.
    ("   PTS + foo", 10, "foo"),
    ("  PTS ^ 2", 7, "^"),
    ("  PTS +", 8, None),
])
def test_errors_name_the_token_and_its_column(text, column, token):
    with pytest.raises(FormulaError) as info:
        parse(text, resolve=resolve)
    assert info.value.column == column
    if token is not None:
        assert info.value.token == token
        assert f"column {column} ({token!r})" in str(info.value)


def test_messages_say_how_to_fix():
    cases = {
        "PTS ^ 2": "write ** for powers",
        "PTS > 3": "write e.g. '1 if PTS > 20 else 0'",
        "eval('1')": "only these functions can be called: abs, clip, max, min, round, sqrt",
        "FOO": "courtside formulas list",
        "PTS ** FGA": "must be a number literal",
    }
    for text, hint in cases.items():
        with pytest.raises(FormulaError, match=None) as info:
            parse(text, resolve=resolve)
        assert hint in str(info.value), (text, str(info.value))


def test_limits_are_the_documented_ones():
    ok = "+".join(["PTS"] * 40)
    parse(ok, resolve=resolve)
    with pytest.raises(FormulaError, match=f"limit is {MAX_TEXT}"):
        parse("PTS+" * MAX_TEXT + "PTS")
    with pytest.raises(FormulaError, match="nested more than"):
        parse("abs(" * (MAX_DEPTH + 1) + "PTS" + ")" * (MAX_DEPTH + 1))
    parse("abs(" * 20 + "PTS" + ")" * 20)


def test_nothing_is_evaluated_by_the_parser(tmp_path, monkeypatch):
    canary = tmp_path / "pwned"
    text = f"__import__('os').system('touch {canary}')"
    with pytest.raises(FormulaError):
        parse(text)
    assert not canary.exists()
