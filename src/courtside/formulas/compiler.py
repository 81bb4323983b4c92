"""Compiles a formula tree twice: to a Python closure and to a ``polars.Expr``.

Both forms share one semantics, and a property test holds them to it:

- every value is a float or null; a null input makes the result null;
- ``x / 0`` is null, and so is any result that is not finite (``inf``, ``nan``), ``sqrt`` of a
  negative number and a power with no real value;
- comparisons with a null are null; ``and``/``or``/``not`` follow Kleene logic (``null and
  False`` is False); ``a if null else b`` is null;
- ``min``/``max`` with a null argument are null; ``round`` rounds half away from zero.

References to other formulas are inlined before compiling (cycles are rejected), so one
compiled formula is self-contained and Polars can share common sub-expressions.
"""

from __future__ import annotations

import math
import operator
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, reduce
from typing import Any

import polars as pl

from courtside.formulas.language import (
    BinOp,
    BoolOp,
    Call,
    Compare,
    IfElse,
    Name,
    Neg,
    Node,
    Not,
    Num,
    names_in,
    render,
    walk,
)
from courtside.model import FormulaError

__all__ = ["CompiledFormula", "Values", "compile_formula", "inline", "staged_select"]

Values = Mapping[str, float | int | None]
Scalar = Callable[[Values], float | bool | None]
Lookup = Callable[[str], Node | None]


# --------------------------------------------------------------------------- inlining


def inline(node: Node, lookup: Lookup, *, _stack: tuple[str, ...] = ()) -> Node:
    """Replace every reference to another formula by that formula's tree.

    ``lookup(name)`` returns the tree of a formula, or None when ``name`` is an input.
    Raises ``FormulaError`` on a cycle, naming it.
    """
    match node:
        case Name(name):
            sub = lookup(name)
            if sub is None:
                return node
            if name in _stack:
                cycle = " -> ".join([*_stack[_stack.index(name):], name])
                raise FormulaError(f"formulas refer to each other in a cycle: {cycle}")
            return inline(sub, lookup, _stack=(*_stack, name))
        case Num():
            return node
        case Neg(operand):
            return Neg(inline(operand, lookup, _stack=_stack))
        case Not(operand):
            return Not(inline(operand, lookup, _stack=_stack))
        case BinOp(op, left, right):
            return BinOp(op, inline(left, lookup, _stack=_stack),
                         inline(right, lookup, _stack=_stack))
        case Compare(ops, operands):
            return Compare(ops, tuple(inline(o, lookup, _stack=_stack) for o in operands))
        case BoolOp(op, values):
            return BoolOp(op, tuple(inline(v, lookup, _stack=_stack) for v in values))
        case Call(func, args):
            return Call(func, tuple(inline(a, lookup, _stack=_stack) for a in args))
        case IfElse(cond, then, other):
            return IfElse(inline(cond, lookup, _stack=_stack), inline(then, lookup, _stack=_stack),
                          inline(other, lookup, _stack=_stack))
    raise TypeError(f"not a formula node: {node!r}")


# --------------------------------------------------------------------------- the compiled form


@dataclass(frozen=True, eq=False)
class CompiledFormula:
    """One formula, ready to evaluate on a single entity or on a frame.

    Attributes:
        name: the formula's id (the output column name).
        tree: the inlined tree (only inputs left as names).
        inputs: the input names the formula reads (stats and context values).
        expr: the Polars expression, aliased to ``name``.
    """

    name: str
    tree: Node
    inputs: frozenset[str]
    expr: pl.Expr
    _scalar: Scalar = field(repr=False)
    _fast: dict[tuple[str, ...], pl.Expr] = field(default_factory=dict, repr=False)
    # The traced closure ``explain`` uses, built once per thread: rebuilding it per call cost
    # milliseconds for PER, which made explaining a season's null rows take seconds.
    _traced: threading.local = field(default_factory=threading.local, repr=False)

    def __call__(self, values: Values) -> float | None:
        """Evaluate on one entity's values (missing names count as null)."""
        result = self._scalar(values)
        if result is None:
            return None
        result = float(result)
        return result if math.isfinite(result) else None

    def explain(self, values: Values) -> str | None:
        """Why the value for ``values`` is null, or None when it is not null."""
        if self(values) is not None:
            return None
        state = self._traced
        if getattr(state, "scalar", None) is None:
            state.reasons = []
            state.scalar = _build_scalar(self.tree, state.reasons)
        reasons: list[str] = state.reasons
        reasons.clear()
        final = state.scalar(values)
        if reasons:
            return reasons[0]
        if final is not None and not math.isfinite(float(final)):
            return f"the result is not a finite number ({final})"
        return "the result is null"

    @cached_property
    def staged(self) -> tuple[list[tuple[int, pl.Expr]], pl.Expr]:
        """The Polars form with repeated parts as columns (see :func:`staged_select`)."""
        return _staged_exprs(self.name, self.tree)

    @cached_property
    def size(self) -> int:
        """Nodes in the inlined tree (a measure of how costly the expression is to plan)."""
        return sum(1 for _ in walk(self.tree))

    def expr_for(self, schema: Mapping[str, pl.DataType]) -> pl.Expr:
        """``expr`` specialised to a frame's column types; always the same values.

        When every input is an integer column and the formula is plain arithmetic whose
        result is provably finite (see ``_lean_bounds``), the final finiteness check is left
        out: it can never fire there, and it costs a pass over the data.
        """
        if not self.inputs or not all(
                name in schema and schema[name].is_integer() for name in self.inputs):
            return self.expr
        key = ("int",)
        fast = self._fast.get(key)
        if fast is None:
            bounds = _lean_bounds(self.tree)
            proven = bounds is not None and bounds[0] < _LEAN_LIMIT
            fast = _build_fast(self.tree).alias(self.name) if proven else self.expr
            self._fast[key] = fast
        return fast


def compile_formula(name: str, tree: Node, lookup: Lookup | None = None) -> CompiledFormula:
    """Inline references (through ``lookup``) and compile both forms."""
    full = inline(tree, lookup) if lookup is not None else tree
    expr = _finite(_build_expr(full)).alias(name)
    return CompiledFormula(name=name, tree=full, inputs=frozenset(names_in(full)), expr=expr,
                           _scalar=_build_shared_scalar(full))


# --------------------------------------------------------------------------- shared parts

# Inlining copies a sub-formula into every place that uses it (BPM reads its position a dozen
# times, Win Shares reads Oliver's possessions twice...). The closure evaluates each repeated
# numeric part once per call and reuses the value: the same operations in the same order, so
# the same result, for a fraction of the work.
_MEMO = "\x00shared"
_MEMO_MIN_SIZE = 5


class _Shared:
    """The values of one call, plus the shared parts computed so far."""

    __slots__ = ("memo", "values")

    def __init__(self, values: Values) -> None:
        self.values = values
        self.memo: dict[str, float | None] = {}

    def get(self, name: str, default: object = None) -> object:
        return self.values.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self.values


def _children(node: Node, fn: Callable[[Node], Node]) -> Node:
    match node:
        case Neg(operand):
            return Neg(fn(operand))
        case Not(operand):
            return Not(fn(operand))
        case BinOp(op, left, right):
            return BinOp(op, fn(left), right if op == "**" else fn(right))
        case Compare(ops, operands):
            return Compare(ops, tuple(fn(o) for o in operands))
        case BoolOp(op, values):
            return BoolOp(op, tuple(fn(v) for v in values))
        case Call(func, args):
            return Call(func, (fn(args[0]), *args[1:]) if func == "round"
                        else tuple(fn(a) for a in args))
        case IfElse(cond, then, other):
            return IfElse(fn(cond), fn(then), fn(other))
    return node


def _shared_plan(tree: Node, prefix: str = _MEMO) -> tuple[Node, list[tuple[str, Node]]]:
    """The tree with every repeated numeric part replaced by a name (``prefix`` + a number),
    and those parts in an order where each comes after the parts it reads."""
    sizes: dict[int, int] = {}

    def size(node: Node) -> int:
        known = sizes.get(id(node))
        if known is None:
            known = 1 + sum(size(c) for c in _direct_children(node))
            sizes[id(node)] = known
        return known

    counts: dict[Node, int] = {}
    for node in walk(tree):
        if isinstance(node, BinOp | Neg | Call) and size(node) >= _MEMO_MIN_SIZE:
            counts[node] = counts.get(node, 0) + 1
    repeated = {n for n, c in counts.items() if c > 1}
    stages: list[tuple[str, Node]] = []
    keys: dict[Node, str] = {}

    def rebuild(node: Node) -> Node:
        if node in keys:
            return Name(keys[node])
        new = _children(node, rebuild)
        if node in repeated:
            key = keys[node] = f"{prefix}{len(keys)}"
            stages.append((key, new))
            return Name(key)
        return new

    return (rebuild(tree), stages) if repeated else (tree, [])


def _direct_children(node: Node) -> list[Node]:
    out: list[Node] = []
    _children(node, lambda c: out.append(c) or c)
    return out


def _build_shared_scalar(tree: Node) -> Scalar:
    top, stages = _shared_plan(tree)
    if not stages:
        return _build_scalar(tree, None)
    built = [(key, _build_scalar(part, None)) for key, part in stages]
    final = _build_scalar(top, None)

    def shared(values: Values) -> float | bool | None:
        frame = _Shared(values)
        memo = frame.memo
        for key, part in built:
            memo[key] = part(frame)  # type: ignore[arg-type]
        return final(frame)  # type: ignore[arg-type]
    return shared


def staged_select(frame: pl.DataFrame, formulas: Sequence[CompiledFormula],
                  keep: Sequence[str] = ()) -> pl.DataFrame:
    """``frame.select(keep + each formula's expr)``, with every repeated part of a formula
    computed once as a column first (eagerly, level by level), then dropped.

    Same values as the inlined expressions (the same operations in the same order); for large
    formulas (Win Shares, BPM) far less planning, which grows with the square of an
    expression's depth.
    """
    levels: list[list[pl.Expr]] = []
    finals: list[pl.Expr] = []
    for compiled in formulas:
        parts, final = compiled.staged
        for level, expr in parts:
            while len(levels) <= level:
                levels.append([])
            levels[level].append(expr)
        finals.append(final)
    for exprs in levels:
        frame = frame.with_columns(exprs)
    return frame.select([*keep, *finals])


def _staged_exprs(name: str, tree: Node) -> tuple[list[tuple[int, pl.Expr]], pl.Expr]:
    """A formula's repeated parts as (dependency level, column expression), and the final
    expression reading them as columns."""
    top, stages = _shared_plan(tree, f"__shared_{name}_")
    depth: dict[str, int] = {}
    parts = []
    for key, part in stages:
        level = 1 + max((depth[n] for n in names_in(part) if n in depth), default=-1)
        depth[key] = level
        parts.append((level, _build_expr(part).alias(key)))
    return parts, _finite(_build_expr(top)).alias(name)


# --------------------------------------------------------------------------- finiteness proof

_LEAN_LIMIT = 1e300
_INT_BOUND = 2.0 ** 64  # |value| of any 64-bit integer column
_MIN_QUANTUM = -1000  # stay clear of subnormals, where the quantum argument fails


def _lean_bounds(node: Node) -> tuple[float, int | None] | None:
    """(bound on |value|, quantum exponent q or None) over integer inputs, or None.

    Every value of the subtree is a multiple of 2**q (so a nonzero one is at least 2**q in
    size): integers are multiples of 1, a literal is a multiple of its last significand
    bit, and rounding a sum, difference or product of multiples of 2**q (no subnormals)
    gives a multiple of 2**q again. A guarded division ``a / b`` (b != 0) is then at most
    bound(a) / 2**q(b). None when the subtree uses anything but + - * / and negation.
    """
    match node:
        case Num(value):
            if value == 0:
                return 0.0, None
            return abs(value), math.frexp(value)[1] - 53
        case Name():
            return _INT_BOUND, 0
        case Neg(operand):
            return _lean_bounds(operand)
        case BinOp(op, left, right) if op in "+-*/":
            a, b = _lean_bounds(left), _lean_bounds(right)
            if a is None or b is None:
                return None
            (ba, qa), (bb, qb) = a, b
            if op == "/":
                if qb is None or qb < _MIN_QUANTUM:
                    return None  # a zero-only or unknown-quantum denominator: no proof
                return ba / 2.0 ** qb * (1 + 1e-12), None
            if op == "*":
                if ba == 0 or bb == 0:
                    return 0.0, None
                q = None if qa is None or qb is None else qa + qb
                if q is not None and q < _MIN_QUANTUM:
                    q = None
                return ba * bb * (1 + 1e-12), q
            q = qa if qb is None else qb if qa is None else min(qa, qb)
            if (qa is None and ba) or (qb is None and bb):
                q = None  # a term of unknown quantum (a quotient) spoils the sum's
            return (ba + bb) * (1 + 1e-12), q
    return None


def _build_fast(node: Node) -> pl.Expr:
    """The Polars form of a tree ``_lean_bounds`` accepts, for integer inputs.

    Same values as ``_build_expr``; a column divisor is guarded with ``when(b != 0)``,
    which Polars evaluates faster than ``replace(0, None)`` on flat formulas like these.
    Numbers and names (and anything else) are built exactly as the safe form builds them.
    """
    match node:
        case Neg(operand):
            return -_build_fast(operand)
        case BinOp(op, left, right):
            if op == "/" and isinstance(right, Num):
                return _build_expr(node)  # a number divisor: exactly as the safe form
            a, b = _build_fast(left), _build_fast(right)
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if op == "/":
                return pl.when(b != 0).then(a / b)
    return _build_expr(node)


# --------------------------------------------------------------------------- scalar form


def _num(x: float | int | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if x != x else x  # NaN counts as null


def _no_note(reason: str) -> None:
    return None


def _build_scalar(node: Node, trace: list[str] | None) -> Scalar:
    """Nested closures; with ``trace``, records why a value became null."""
    note = _no_note if trace is None else trace.append

    match node:
        case Num(value):
            return lambda v: value
        case Name(name):
            if name.startswith(_MEMO):  # a shared part, already computed for this call
                return lambda v: v.memo[name]  # type: ignore[attr-defined]
            if trace is None:
                return lambda v: _num(v.get(name))

            def traced_name(v: Values) -> float | None:
                x = _num(v.get(name))
                if x is None:
                    note(f"input {name} is {'missing' if name not in v else 'null'}")
                return x
            return traced_name
        case Neg(operand):
            f = _build_scalar(operand, trace)
            return lambda v: None if (x := f(v)) is None else -x
        case BinOp(op, left, right):
            return _scalar_binop(op, _build_scalar(left, trace), _build_scalar(right, trace),
                                 right, note)
        case Compare(ops, operands):
            fs = [_build_scalar(o, trace) for o in operands]
            tests = [_COMPARE[op] for op in ops]

            def compare(v: Values) -> bool | None:
                xs = [f(v) for f in fs]
                results = [None if a is None or b is None else t(a, b)
                           for t, a, b in zip(tests, xs, xs[1:], strict=False)]
                return _kleene_and(results)
            return compare
        case BoolOp(op, values):
            fs = [_build_scalar(x, trace) for x in values]
            combine = _kleene_and if op == "and" else _kleene_or
            return lambda v: combine([f(v) for f in fs])
        case Not(operand):
            f = _build_scalar(operand, trace)
            return lambda v: None if (x := f(v)) is None else not x
        case IfElse(cond, then, other):
            fc, ft, fo = (_build_scalar(n, trace) for n in (cond, then, other))

            def if_else(v: Values) -> float | bool | None:
                c = fc(v)
                if c is None:
                    if trace is not None:
                        note(f"the condition {render(cond)} is null")
                    return None
                return ft(v) if c else fo(v)
            return if_else
        case Call(func, args):
            return _scalar_call(func, [_build_scalar(a, trace) for a in args], args, note)
    raise TypeError(f"not a formula node: {node!r}")


def _scalar_binop(op: str, fl: Scalar, fr: Scalar, right: Node,
                  note: Callable[[str], None]) -> Scalar:
    if op == "+":
        return lambda v: None if (a := fl(v)) is None or (b := fr(v)) is None else a + b
    if op == "-":
        return lambda v: None if (a := fl(v)) is None or (b := fr(v)) is None else a - b
    if op == "*":
        return lambda v: None if (a := fl(v)) is None or (b := fr(v)) is None else a * b
    if op == "/":
        if isinstance(right, Num) and right.value != 0:
            # Polars divides a column by a number as a multiplication by its reciprocal;
            # doing the same keeps both forms equal to the last bit.
            inverse = 1.0 / right.value
            return lambda v: None if (a := fl(v)) is None else a * inverse

        def divide(v: Values) -> float | None:
            a, b = fl(v), fr(v)
            if a is None or b is None:
                return None
            if b == 0:
                if note is not _no_note:  # render only when explaining: it is costly
                    note(f"division by zero: {render(right)} is 0")
                return None
            return a / b
        return divide
    exponent = right.value if isinstance(right, Num) else 0.0

    def power(v: Values) -> float | None:
        a = fl(v)
        if a is None:
            return None
        try:
            result = a ** exponent
        except (OverflowError, ZeroDivisionError):
            result = math.inf
        if isinstance(result, complex) or not math.isfinite(result):
            note(f"{a:g} ** {exponent:g} has no finite real value")
            return None
        return result
    return power


def _scalar_call(func: str, fs: list[Scalar], args: tuple[Node, ...],
                 note: Callable[[str], None]) -> Scalar:
    if func in ("min", "max"):
        better = (lambda a, b: a <= b) if func == "min" else (lambda a, b: a >= b)

        def extreme(v: Values) -> float | None:
            xs = [f(v) for f in fs]
            if any(x is None for x in xs):
                return None
            return reduce(lambda a, b: a if better(a, b) else b, xs)
        return extreme
    if func == "abs":
        f = fs[0]
        return lambda v: None if (x := f(v)) is None else abs(x)
    if func == "sqrt":
        f = fs[0]

        def sqrt(v: Values) -> float | None:
            x = f(v)
            if x is None:
                return None
            if x < 0:
                note(f"sqrt of a negative number ({x:g})")
                return None
            return math.sqrt(x)
        return sqrt
    if func == "clip":
        fx, flo, fhi = fs

        def clip(v: Values) -> float | None:
            x, lo, hi = fx(v), flo(v), fhi(v)
            if x is None or lo is None or hi is None:
                return None
            x = x if x >= lo else lo
            return x if x <= hi else hi
        return clip
    if func == "round":
        f = fs[0]
        digits = args[1].value if len(args) == 2 and isinstance(args[1], Num) else 0.0
        factor = 10.0 ** digits

        def round_half_away(v: Values) -> float | None:
            x = f(v)
            if x is None:
                return None
            y = abs(x) * factor + 0.5
            floored = float(math.floor(y)) if math.isfinite(y) else y
            sign = (x > 0) - (x < 0)
            return sign * floored / factor
        return round_half_away
    raise TypeError(f"unknown function {func}")


# Both forms: the operators work on floats and on Polars expressions alike.
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}


def _kleene_and(xs: list) -> bool | None:
    if any(x is False for x in xs):
        return False
    return None if any(x is None for x in xs) else True


def _kleene_or(xs: list) -> bool | None:
    if any(x is True for x in xs):
        return True
    return None if any(x is None for x in xs) else False


# --------------------------------------------------------------------------- Polars form

_NULL = pl.lit(None, dtype=pl.Float64)


def _finite(e: pl.Expr) -> pl.Expr:
    return pl.when(e.is_finite()).then(e)


def _build_expr(node: Node) -> pl.Expr:
    match node:
        case Num(value):
            return pl.lit(value, dtype=pl.Float64)
        case Name(name):
            return pl.col(name).cast(pl.Float64)
        case Neg(operand):
            return -_build_expr(operand)
        case BinOp(op, left, right):
            a = _build_expr(left)
            if op == "**":
                return _finite(a.pow(right.value if isinstance(right, Num) else 0.0))
            b = _build_expr(right)
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            # The divisor is referenced once: Polars plans an expression as a tree, so every
            # repeated reference multiplies the planning work of nested formulas.
            if isinstance(right, Num):
                return a / b if right.value != 0 else _NULL
            return a / b.replace(0.0, None)
        case Compare(ops, operands):
            xs = [_build_expr(o) for o in operands]
            parts = [_COMPARE[op](a, b) for op, a, b in zip(ops, xs, xs[1:], strict=False)]
            return reduce(lambda p, q: p & q, parts)
        case BoolOp(op, values):
            xs = [_build_expr(v) for v in values]
            return reduce((lambda p, q: p & q) if op == "and" else (lambda p, q: p | q), xs)
        case Not(operand):
            return ~_build_expr(operand)
        case IfElse(cond, then, other):
            c = _build_expr(cond)
            return pl.when(c.is_null()).then(None).when(c).then(_build_expr(then)) \
                .otherwise(_build_expr(other))
        case Call(func, args):
            return _polars_call(func, [_build_expr(a) for a in args], args)
    raise TypeError(f"not a formula node: {node!r}")


def _polars_call(func: str, xs: list[pl.Expr], args: tuple[Node, ...]) -> pl.Expr:
    if func in ("min", "max"):
        return reduce(lambda a, b: _pick(a, b, func), xs)
    if func == "clip" and all(isinstance(a, Num) for a in args[1:]):
        lo, hi = args[1].value, args[2].value
        if lo <= hi:
            return xs[0].clip(lo, hi)  # one reference to x; null stays null
    if func == "abs":
        return xs[0].abs()
    if func == "sqrt":
        return pl.when(xs[0] >= 0).then(xs[0].sqrt())
    if func == "clip":
        x, lo, hi = xs
        return _pick(_pick(x, lo, "max"), hi, "min")
    if func == "round":
        digits = args[1].value if len(args) == 2 and isinstance(args[1], Num) else 0.0
        factor = 10.0 ** digits
        x = xs[0]
        return x.sign() * (x.abs() * factor + 0.5).floor() / factor
    raise TypeError(f"unknown function {func}")


def _pick(a: pl.Expr, b: pl.Expr, func: str) -> pl.Expr:
    # min/max_horizontal skip nulls, where the language makes the result null: the
    # comparison a - b is null when either side is, and references each side once more.
    pick = pl.min_horizontal(a, b) if func == "min" else pl.max_horizontal(a, b)
    return pl.when((a - b).is_not_null()).then(pick)
