"""The formula language: text in, an allow-listed expression tree out.

The text is parsed with ``ast.parse(mode="eval")`` and then converted, node by node, into the
small tree below. Anything not on the allow-list (attributes, subscripts, lambdas,
comprehensions, strings, bitwise operators, calls outside the function table...) is rejected
with a ``FormulaError`` naming the token and its column. Nothing is ever evaluated here.

Grammar, in Python's own syntax: numbers, names, ``+ - * / **``, unary ``-``/``+``,
comparisons (chains allowed), ``and``/``or``/``not``, ``a if cond else b`` and the functions
``min max abs sqrt clip round``. Every node is typed: arithmetic takes numbers, conditions take
booleans, and a formula's value is a number.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from courtside.model import FormulaError

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_NODES",
    "MAX_TEXT",
    "BinOp",
    "BoolOp",
    "Call",
    "Compare",
    "IfElse",
    "Name",
    "Neg",
    "Node",
    "Not",
    "Num",
    "names_in",
    "parse",
    "render",
]

MAX_TEXT = 4000
"""Longest formula text accepted, in characters."""
MAX_DEPTH = 64
"""Deepest nesting of the tree accepted."""
MAX_NODES = 2000
"""Most tree nodes accepted in one formula."""
MAX_EXPONENT = 16
"""Largest absolute exponent accepted after ``**`` (exponents must be number literals)."""

# name -> (fewest args, most args or None)
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "min": (2, None),
    "max": (2, None),
    "abs": (1, 1),
    "sqrt": (1, 1),
    "clip": (3, 3),
    "round": (1, 2),
}

NUM = "number"
BOOL = "condition"


# --------------------------------------------------------------------------- the tree


@dataclass(frozen=True, slots=True)
class Num:
    """A number literal."""

    value: float


@dataclass(frozen=True, slots=True)
class Name:
    """A stat name, context name or another formula's id."""

    id: str


@dataclass(frozen=True, slots=True)
class Neg:
    """Unary minus."""

    operand: Node


@dataclass(frozen=True, slots=True)
class BinOp:
    """Arithmetic: ``op`` is one of ``+ - * / **``. For ``**`` the right side is a ``Num``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Compare:
    """A comparison chain: ``operands[0] ops[0] operands[1] ops[1] ...``."""

    ops: tuple[str, ...]
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class BoolOp:
    """``and`` / ``or`` over two or more conditions (Kleene logic with nulls)."""

    op: str
    values: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """``not`` of a condition."""

    operand: Node


@dataclass(frozen=True, slots=True)
class IfElse:
    """``then if cond else other``."""

    cond: Node
    then: Node
    other: Node


@dataclass(frozen=True, slots=True)
class Call:
    """A call of a function from ``FUNCTIONS``."""

    func: str
    args: tuple[Node, ...]


Node = Num | Name | Neg | BinOp | Compare | BoolOp | Not | IfElse | Call

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_CMPOPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_HINTS: dict[type, str] = {
    ast.BitXor: "'^' is not a power here; write ** for powers",
    ast.BitAnd: "bitwise operators are not allowed; use 'and' for conditions",
    ast.BitOr: "bitwise operators are not allowed; use 'or' for conditions",
    ast.Invert: "bitwise operators are not allowed",
    ast.LShift: "shift operators are not allowed",
    ast.RShift: "shift operators are not allowed",
    ast.MatMult: "matrix multiplication is not allowed",
    ast.Mod: "'%' is not allowed; percentages are written as fractions or *100",
    ast.FloorDiv: "'//' is not allowed; use / (and round() if needed)",
    ast.Attribute: "attribute access is not allowed",
    ast.Subscript: "subscripts are not allowed",
    ast.Lambda: "lambdas are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "generator expressions are not allowed",
    ast.JoinedStr: "strings are not allowed",
    ast.Starred: "starred arguments are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.List: "lists are not allowed",
    ast.Tuple: "tuples are not allowed; a formula is a single value",
    ast.Set: "sets are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.Slice: "slices are not allowed",
}


# --------------------------------------------------------------------------- parsing


def parse(text: str, *, resolve: Callable[[str], str | None] | None = None) -> Node:
    """Parse formula text into an allow-listed, type-checked tree.

    ``resolve`` maps a name as written to its canonical name, or None when unknown; without it
    every name is accepted as written. Raises ``FormulaError`` naming the token and its column.
    """
    if not isinstance(text, str):
        raise FormulaError(f"a formula is text, not {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise FormulaError(f"formula is {len(text)} characters long; the limit is {MAX_TEXT}")
    if not text.strip():
        raise FormulaError("formula is empty; write an expression such as PTS / (2*TSA)")
    if "\x00" in text:
        raise FormulaError("formula contains a NUL character", text=text,
                           column=text.index("\x00") + 1)
    body = text.strip()  # leading blanks would be an indentation error to ast
    lead = len(text) - len(text.lstrip())  # columns are reported in ``text``, as written
    try:
        tree = ast.parse(body, mode="eval")
    except SyntaxError as exc:
        col = exc.offset
        token = None
        if exc.text and col:
            token = exc.text[col - 1: col + 9].strip() or None
        hint = ""
        if not col or col > len(body):
            col, hint = len(body) + 1, "; the formula ends too early"
        if exc.msg and "statement" in exc.msg.lower():
            hint = "; a formula is one expression, not a statement"
        raise FormulaError(f"syntax error: {exc.msg}{hint}", text=text, column=col + lead,
                           token=token) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise FormulaError(f"formula cannot be parsed: {type(exc).__name__} "
                           "(too deeply nested?)", text=text) from None
    builder = _Builder(text, resolve)
    node, kind = builder.build(tree.body, 1)
    if kind != NUM:
        raise FormulaError("a formula must give a number, not a condition; "
                           "write e.g. '1 if PTS > 20 else 0'", text=text, column=1)
    return node


class _Builder:
    def __init__(self, source: str, resolve: Callable[[str], str | None] | None) -> None:
        self.source = source  # as written: errors name it, columns count in it
        self.text = source.strip()  # what ast parsed: node positions count in it
        self.lead = len(source) - len(source.lstrip())
        self.resolve = resolve
        self.nodes = 0

    def fail(self, node: ast.AST, message: str) -> FormulaError:
        col = getattr(node, "col_offset", None)
        token = ast.get_source_segment(self.text, node) if hasattr(node, "lineno") else None
        if token and len(token) > 40:
            token = token[:37] + "..."
        return FormulaError(message, text=self.source,
                            column=None if col is None else col + 1 + self.lead, token=token)

    def build(self, node: ast.AST, depth: int) -> tuple[Node, str]:
        self.nodes += 1
        if depth > MAX_DEPTH:
            raise self.fail(node, f"formula is nested more than {MAX_DEPTH} levels deep")
        if self.nodes > MAX_NODES:
            raise self.fail(node, f"formula has more than {MAX_NODES} parts")
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            hint = _HINTS.get(type(node), f"{type(node).__name__} is not allowed in formulas")
            raise self.fail(node, hint)
        return method(node, depth + 1)

    def expect(self, node: ast.AST, depth: int, kind: str, role: str) -> Node:
        built, got = self.build(node, depth)
        if got != kind:
            raise self.fail(node, f"{role} must be a {kind}, not a {got}")
        return built

    # -- leaves
    def _Constant(self, node: ast.Constant, depth: int) -> tuple[Node, str]:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(node, f"only numbers are allowed as literals, not {type(value).__name__}")
        try:
            as_float = float(value)
        except OverflowError:
            raise self.fail(node, "number literal is too large") from None
        if not math.isfinite(as_float) or abs(as_float) > 1e15:
            raise self.fail(node, "number literal is too large (limit 1e15)")
        return Num(as_float), NUM

    def _Name(self, node: ast.Name, depth: int) -> tuple[Node, str]:
        name = node.id
        if name.startswith("_"):
            raise self.fail(node, "names starting with '_' are not allowed")
        if name in FUNCTIONS:
            raise self.fail(node, f"{name} is a function; call it as {name}(...)")
        if self.resolve is not None:
            canonical = self.resolve(name)
            if canonical is None:
                raise self.fail(node, f"unknown name {name!r}: not a stat, a context value or a "
                                      "formula id (see `courtside formulas list`)")
            name = canonical
        return Name(name), NUM

    # -- arithmetic
    def _UnaryOp(self, node: ast.UnaryOp, depth: int) -> tuple[Node, str]:
        if isinstance(node.op, ast.Not):
            return Not(self.expect(node.operand, depth, BOOL, "the operand of 'not'")), BOOL
        if isinstance(node.op, ast.USub | ast.UAdd):
            operand = self.expect(node.operand, depth, NUM, "the operand of unary minus")
            if isinstance(node.op, ast.UAdd):
                return operand, NUM
            if isinstance(operand, Num):
                return Num(-operand.value), NUM
            return Neg(operand), NUM
        raise self.fail(node, _HINTS.get(type(node.op), "this operator is not allowed"))

    def fail_operator(self, node: ast.BinOp, message: str) -> FormulaError:
        # ast keeps no position for operators: find the first character after the left side.
        line = self.text.splitlines()[node.left.end_lineno - 1] if node.left.end_lineno else ""
        col = node.left.end_col_offset or 0
        while col < len(line) and line[col] in " \t)":
            col += 1
        token = line[col:col + 2].strip() or None
        return FormulaError(message, text=self.source, column=col + 1 + self.lead, token=token)

    def _BinOp(self, node: ast.BinOp, depth: int) -> tuple[Node, str]:
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise self.fail_operator(node, _HINTS.get(type(node.op), "this operator is not allowed"))
        left = self.expect(node.left, depth, NUM, f"the left side of {op!r}")
        right = self.expect(node.right, depth, NUM, f"the right side of {op!r}")
        if op == "**":
            if not isinstance(right, Num):
                raise self.fail(node.right, "the exponent of ** must be a number literal")
            if abs(right.value) > MAX_EXPONENT:
                raise self.fail(node.right, f"exponent {right.value:g} is too large "
                                            f"(limit ±{MAX_EXPONENT})")
        return BinOp(op, left, right), NUM

    # -- conditions
    def _Compare(self, node: ast.Compare, depth: int) -> tuple[Node, str]:
        ops = []
        for op in node.ops:
            sym = _CMPOPS.get(type(op))
            if sym is None:
                raise self.fail(node, f"comparison {type(op).__name__} is not allowed; "
                                      "use < <= > >= == !=")
            ops.append(sym)
        operands = [self.expect(node.left, depth, NUM, "a compared value")]
        operands += [self.expect(c, depth, NUM, "a compared value") for c in node.comparators]
        return Compare(tuple(ops), tuple(operands)), BOOL

    def _BoolOp(self, node: ast.BoolOp, depth: int) -> tuple[Node, str]:
        op = "and" if isinstance(node.op, ast.And) else "or"
        values = tuple(self.expect(v, depth, BOOL, f"an operand of {op!r}") for v in node.values)
        return BoolOp(op, values), BOOL

    def _IfExp(self, node: ast.IfExp, depth: int) -> tuple[Node, str]:
        cond = self.expect(node.test, depth, BOOL, "the condition of 'if'")
        then, kind = self.build(node.body, depth)
        other = self.expect(node.orelse, depth, kind, "the 'else' branch")
        return IfElse(cond, then, other), kind

    # -- functions
    def _Call(self, node: ast.Call, depth: int) -> tuple[Node, str]:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise self.fail(node.func, "only these functions can be called: "
                                       + ", ".join(sorted(FUNCTIONS)))
        func = node.func.id
        if node.keywords:
            raise self.fail(node, f"{func}() takes no keyword arguments")
        low, high = FUNCTIONS[func]
        count = len(node.args)
        if count < low or (high is not None and count > high):
            want = f"{low}" if low == high else f"{low} to {high}" if high else f"at least {low}"
            raise self.fail(node, f"{func}() takes {want} arguments, got {count}")
        args = [self.expect(a, depth, NUM, f"an argument of {func}()") for a in node.args]
        if func == "round" and len(args) == 2:
            digits = args[1]
            if not isinstance(digits, Num) or digits.value != int(digits.value) \
                    or not 0 <= digits.value <= 10:
                raise self.fail(node.args[1], "round()'s digits must be a whole number 0 to 10")
        return Call(func, tuple(args)), NUM


# --------------------------------------------------------------------------- tree helpers


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents first."""
    yield node
    match node:
        case Neg(operand) | Not(operand):
            yield from walk(operand)
        case BinOp(_, left, right):
            yield from walk(left)
            yield from walk(right)
        case Compare(_, operands) | BoolOp(_, operands) | Call(_, operands):
            for child in operands:
                yield from walk(child)
        case IfElse(cond, then, other):
            yield from walk(cond)
            yield from walk(then)
            yield from walk(other)


def names_in(node: Node) -> set[str]:
    """The names a tree refers to (stats, context values and formula ids)."""
    return {n.id for n in walk(node) if isinstance(n, Name)}


_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6,
               "neg": 7, "**": 8}


def render(node: Node, parent: int = 0) -> str:
    """Formula text for a tree (parenthesised only where needed)."""
    def wrap(text: str, prec: int) -> str:
        return f"({text})" if prec < parent else text

    match node:
        case Num(value):
            text = f"{value:g}" if value == int(value) and abs(value) < 1e15 else repr(value)
            return wrap(text, 9) if value >= 0 else wrap(text, 7)
        case Name(id_):
            return id_
        case Neg(operand):
            return wrap("-" + render(operand, 7), 7)
        case BinOp(op, left, right):
            p = _PRECEDENCE[op]
            if op == "**":
                return wrap(f"{render(left, p + 1)} ** {render(right, p)}", p)
            return wrap(f"{render(left, p)} {op} {render(right, p + 1)}", p)
        case Compare(ops, operands):
            p = _PRECEDENCE["cmp"]
            parts = [render(operands[0], p + 1)]
            for op, operand in zip(ops, operands[1:], strict=True):
                parts += [op, render(operand, p + 1)]
            return wrap(" ".join(parts), p)
        case BoolOp(op, values):
            p = _PRECEDENCE[op]
            return wrap(f" {op} ".join(render(v, p + 1) for v in values), p)
        case Not(operand):
            return wrap("not " + render(operand, 3), 3)
        case IfElse(cond, then, other):
            return wrap(f"{render(then, 1)} if {render(cond, 1)} else {render(other, 0)}", 0)
        case Call(func, args):
            return f"{func}({', '.join(render(a) for a in args)})"
    raise TypeError(f"not a formula node: {node!r}")
