"""Fused row kernels: a row-local function as one loop over rows, compiled by numba.

A normalisation layer's backward pass is a handful of row reductions (sums, dot products) and
entrywise expressions over the rows of N x d matrices.  NumPy computes it one operation at a
time, each a pass over memory (nine for LayerNorm, codegen/row_means.py); a compiler fuses them
into loops that read each row a few times while it is in cache, as XLA does.  This module
writes such a kernel from the function's statements (the same nodes the NumPy writer reads),
for ``--format numba``: for each row ``_i``, the reductions in as few loops over the row's
entries as their dependencies allow (``mu`` before ``sum((X - mu) .^ 2)``), each row's numbers
between them, then one loop writing the results' entries:

    for _i in range(_size_N):
        _a1 = 0.0
        for _j in range(_size_d):
            _a1 += X[_i, _j]
        mu = _a1 / float(_size_d)
        ...
        for _j in range(_size_d):
            _out1[_i, _j] = (G[_i, _j] - ...) * ...

A value is a row-local matrix (N x c: an entry per column), a row's number (N x 1), or a
value not depending on the rows (a number, a vector g of the columns, read as ``g[_j, 0]``).
Softmax, logsumexp, max and min along a row read the row's maximum and its sum of shifted
exponentials (two loops).  Only functions codegen/row_blocks.py proves row-local are written;
what this writer does not compute (a product with a matrix, which BLAS does far faster)
raises :class:`Unsupported`, and the module keeps the NumPy code for that function.
Arithmetic is in float64 (float32 results stay float32).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core import ir
from ..core.functions import FUNCTIONS
from ..core.ir import Node
from ..core.shapes import ONE, Dim, Kind
from ..core.stable_forms import body_behind, stable_form
from .names import dim_code, identifier, size_name
from .sizes import used_setup

ROW, ENTRY, GLOBAL = "row", "entry", "global"  # N x 1, N x c, not depending on the rows
_OPERATORS = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
# the operations along each row of a matrix, with the loops over the row their value needs
_ALONG_ROWS = {"softmax": 2, "log_softmax": 2, "logsumexp": 2, "axis_max": 1, "axis_min": 1,
               "axis_ismax": 1, "axis_ismin": 1}
# scalar code of the elementwise functions ({0}, {1}: the arguments, names where read twice)
SCALAR_CODE = {
    "exp": "_math.exp({0})", "log": "_math.log({0})", "sqrt": "_math.sqrt({0})",
    "sin": "_math.sin({0})", "cos": "_math.cos({0})", "tan": "_math.tan({0})",
    "tanh": "_math.tanh({0})", "abs": "abs({0})", "erf": "_math.erf({0})",
    "log1p": "_math.log1p({0})", "expm1": "_math.expm1({0})",
    "relu": "({0} if {0} > 0.0 else 0.0 * {0})", "step": "(1.0 if {0} > 0.0 else 0.0)",
    "sign": "(1.0 if {0} > 0.0 else (-1.0 if {0} < 0.0 else 0.0 * {0}))",
    # 1 / (1 + exp(-x)) for x >= 0, exp(x) / (1 + exp(x)) below: no overflow, no cancellation
    "sigmoid": "(1.0 / (1.0 + _math.exp(-{0})) if {0} >= 0.0 else "
               "_math.exp({0}) / (1.0 + _math.exp({0})))",
    "softplus": "(max({0}, 0.0) + _math.log1p(_math.exp(-abs({0}))))",
    # entry by entry, nan where either is nan (as np.maximum)
    "maximum": "({0} if {0} > {1} or {0} != {0} else {1})",
    "minimum": "({0} if {0} < {1} or {0} != {0} else {1})",
}
# codegen/stable.py's forms, entry by entry ({0}: their argument)
STABLE_CODE = {
    "sigmoid-of-negative": SCALAR_CODE["sigmoid"].replace("{0}", "(-{0})"),
    "sech-squared": "(4.0 * _math.exp(-2.0 * abs({0})) / "
                    "(1.0 + _math.exp(-2.0 * abs({0}))) ** 2)",
    "softplus": SCALAR_CODE["softplus"],
    "log-sigmoid": "(-" + SCALAR_CODE["softplus"].replace("{0}", "(-{0})") + ")",
    "complement-of-erf": "_math.erfc(-{0})",
    "log-softmax": None,  # log_softmax of the argument (along_rows)
    "twice-sigmoid-of-twice": "(2.0 * " + SCALAR_CODE["sigmoid"].replace("{0}", "(2.0 * {0})")
                              + ")",
}


class Unsupported(Exception):
    """An operation the kernel writer does not compute (the NumPy code is kept)."""


@dataclass
class Kernel:
    """A kernel's source, the names it takes (the function's arrays and numbers, sizes, then
    the results' arrays), and for each result its array's name and shape's code."""

    source: str
    parameters: list[str]
    outputs: list[tuple[str, str]]


@dataclass
class _Loop:
    """A loop over the entries of a row (``_j`` up to ``width``): its accumulators' first
    values and its lines; names holds the entries computed in it."""

    width: str
    stage: int
    starts: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    names: dict[Node, str] = field(default_factory=dict)


def fused_kernel(name: str, statements: list[tuple[str, Node]], results: list[Node],
                 variables: dict[str, Node]) -> Kernel:
    """The kernel ``name`` computing ``results`` (row-local in their rows) from the
    statements (the definitions they read); :class:`Unsupported` naming what it cannot
    compute."""
    bodies = dict(statements)
    try:
        return _KernelWriter(results[0].shape.rows, bodies.get, variables).kernel(name, results)
    except RecursionError:
        raise Unsupported("an expression too deep for a kernel") from None


class _KernelWriter:
    def __init__(self, rows: Dim, body_of: Callable[[str], Node | None], variables: dict):
        self.rows, self.body_of, self.variables = rows, body_of, variables
        self.stages: dict[Node, int] = {}
        self.uses: dict[Node, int] = {}
        self.loops: dict[tuple[int, str], _Loop] = {}
        self.row_lines: dict[int, list[str]] = {}
        self.row_names: dict[Node, str] = {}
        self.prologue: list[str] = []  # numbers not depending on the rows, computed once
        self.global_names: dict[Node, str] = {}
        self.statistics: dict[tuple[Node, str], str] = {}  # a row's maximum, sum of exponentials
        self.read: set[str] = set()  # the variables the kernel reads
        self.sizes: set[str] = set()
        self.counter = 0

    # ---- the kernel -------------------------------------------------------------------
    def kernel(self, name: str, results: list[Node]) -> Kernel:
        for result in results:
            self._count(result)
        outputs, last = [], max((self.stage(r) for r in results), default=0) + 1
        row_results: list[str] = []
        for index, result in enumerate(results, 1):
            role, out = self.role(result), f"_out{index}"
            if role is GLOBAL or result.shape.rows != self.rows:
                raise Unsupported("a result that is not row-local")
            outputs.append((out, f"({self.dim(self.rows)}, {self.dim(result.shape.cols)})"))
            if role is ENTRY:
                loop = self.loop(last, result.shape.cols)
                loop.lines.append(f"{out}[_i, _j] = {self.entry(result, loop)}")
            else:
                row_results.append(f"{out}[_i, 0] = {self.row(result)}")
        body: list[str] = []
        done: set[str] = set()  # the reductions computed so far
        for stage in range(last + 1):  # a stage's loops, then the row's numbers they give
            for (at, _), loop in self.loops.items():
                if at == stage:
                    body += loop.starts + [f"for _j in range({loop.width}):"]
                    body += [f"    {line}" for line in loop.lines]
                    done |= {line.partition(" = ")[0] for line in loop.starts}
            lines = self.row_lines.get(stage, [])
            if set(re.findall(r"\b_[ak]\d+\b", "\n".join(lines))) - done:
                raise Unsupported("a reduction read before its loop")  # (never: stages)
            body += lines
        body += row_results
        rows = [self.dim(self.rows)]
        parameters = [identifier(v) for v in self.variables if v in self.read]
        parameters += sorted(self.sizes) + [out for out, _ in outputs]
        source = (f"def {name}({', '.join(parameters)}):\n"
                  + "".join(f"    {line}\n" for line in self.prologue)
                  + f"    for _i in range({rows[0]}):\n"
                  + "".join(f"        {line}\n" for line in body))
        return Kernel(source, parameters, outputs)

    def _count(self, root: Node) -> None:
        """How many parents each node has (a node read twice is named where it is computed)."""
        stack = [root]
        while stack:
            node = self.resolved(stack.pop())
            self.uses[node] = self.uses.get(node, 0) + 1
            if self.uses[node] == 1:
                stack.extend(node.args)

    def resolved(self, node: Node) -> Node:
        return body_behind(node, self.body_of)

    def dim(self, d: Dim) -> str:
        self.sizes |= {size_name(symbol) for symbol in d.symbols}
        return dim_code(d)

    def role(self, node: Node) -> str:
        if node.is_scalar or self.rows != node.shape.rows:
            names = set(self.rows.symbols)
            if any(names & set(d.symbols) for d in node.shape.dims):
                raise Unsupported("a value across the rows")
            return GLOBAL
        if node.kind not in (Kind.MATRIX, Kind.VECTOR) or \
                set(self.rows.symbols) & set(node.shape.cols.symbols):
            raise Unsupported(f"a {node.kind.value} of {node.shape}")
        return ROW if node.shape.cols == ONE else ENTRY

    def loop(self, stage: int, width: Dim) -> _Loop:
        key = (stage, self.dim(width))
        if key not in self.loops:
            self.loops[key] = _Loop(key[1], stage)
        return self.loops[key]

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"_{prefix}{self.counter}"

    # ---- stages: a row's value is known after the loop of its stage ------------------
    def stage(self, node: Node) -> int:
        node = self.regrouped(self.resolved(node))
        if node not in self.stages:
            reduced = self.reduction(node)
            if reduced is not None:
                self.stages[node] = 1 + self.stage(reduced[0])
            elif node.op in _ALONG_ROWS and node.args[0].kind is Kind.MATRIX:
                # a row's maximum after one loop over the argument, its sum of exponentials
                # (shifted by the maximum) after the next
                self.stages[node] = _ALONG_ROWS[node.op] + self.stage(node.args[0])
            else:
                self.stages[node] = max((self.stage(a) for a in node.args), default=0)
        return self.stages[node]

    def regrouped(self, node: Node) -> Node:
        """``A @ (u @ v')`` (a row-local A, u and v not depending on the rows) as
        ``(A @ u) @ v'``: a row's dot product spread (a row's sum, for a matrix of ones)."""
        if node.op == "matmul" and node.args[0].shape.cols != ONE:
            outer = self.resolved(node.args[1])
            if outer.op == "matmul" and outer.args[0].shape.cols == ONE and \
                    self.role(node.args[1]) is GLOBAL:
                inner = ir.apply("matmul", node.args[0], outer.args[0])
                return ir.apply("matmul", inner, outer.args[1])
        return node

    def reduction(self, node: Node) -> tuple[Node, Node | None] | None:
        """(A, w) of a row's sum ``A @ 1`` (w None) or dot product ``A @ w`` (w a vector of
        the columns), A row-local N x c; None for another node."""
        if node.op != "matmul" or node.kind is not Kind.VECTOR:
            return None
        a, w = node.args
        if a.shape.rows != self.rows or a.shape.cols == ONE or w.kind is not Kind.VECTOR or \
                set(self.rows.symbols) & {s for d in w.shape.dims for s in d.symbols}:
            return None
        return a, None if self.resolved(w).op == "ones" else w

    # ---- code -------------------------------------------------------------------------
    def value(self, node: Node, loop: _Loop | None, r: str, c: str) -> str:
        """node's value at row r, column c (in a loop over a row's entries, or not)."""
        role = self.role(node)
        if role is GLOBAL:
            return self.global_value(node, loop, r, c)
        if r != "_i":
            raise Unsupported("a row-local value read at another row")
        if role is ROW:
            if loop is not None and self.stage(node) >= loop.stage:
                raise Unsupported("a row's number read in the loop computing it")  # (never)
            return self.row(node, held=loop is not None)
        if loop is None or c != "_j":
            raise Unsupported("a row's entries read outside a loop over them")
        return self.entry(node, loop)

    def row(self, node: Node, held: bool = False) -> str:
        """A row's number (N x 1), named when read twice, in a loop (``held``) or named by the
        problem."""
        named = node.name if node.op == "ref" else ""
        node = self.resolved(node)
        if node in self.row_names:
            return self.row_names[node]
        reduced = self.reduction(node)
        if reduced is not None:
            return self.accumulated(node, *reduced)
        text = self.computed(node, None, "0")
        if (self.uses.get(node, 0) > 1 or named or held) and not _simple(text):
            target = identifier(named) if named else self.fresh("r")
            self.row_lines.setdefault(self.stage(node), []).append(f"{target} = {text}")
            text = target
        self.row_names[node] = text
        return text

    def accumulated(self, node: Node, a: Node, w: Node | None) -> str:
        loop = self.loop(self.stage(node), a.shape.cols)
        total = self.fresh("a")
        term = self.entry(a, loop)
        if w is not None:
            term = f"{term} * {self.global_value(w, loop, '_j', '0')}"
        loop.starts.append(f"{total} = 0.0")
        loop.lines.append(f"{total} += {term}")
        self.row_names[node] = total
        return total

    def entry(self, node: Node, loop: _Loop) -> str:
        """A row-local matrix's entry ``_j`` in ``loop``, named when read twice."""
        named = node.name if node.op == "ref" else ""
        node = self.resolved(node)
        if node in loop.names:
            return loop.names[node]
        text = self.computed(node, loop, "_j")
        if (self.uses.get(node, 0) > 1 or named) and not _simple(text):
            target = identifier(named) if named else self.fresh("e")
            loop.lines.append(f"{target} = {text}")
            text = target
        loop.names[node] = text
        return text

    def global_value(self, node: Node, loop: _Loop | None, r: str, c: str) -> str:
        """A value not depending on the rows at (r, c); a number computed once."""
        node = self.resolved(node)
        if node.is_scalar and node in self.global_names:
            return self.global_names[node]
        text = self.computed(node, loop, c, r)
        if node.is_scalar and node.args and not _simple(text):
            self.global_names[node] = self.fresh("g")
            self.prologue.append(f"{self.global_names[node]} = {text}")
            return self.global_names[node]
        return text

    def computed(self, node: Node, loop: _Loop | None, c: str, r: str = "_i") -> str:
        """The code of node's own operation at (r, c), its operands' code first."""
        op, args = node.op, node.args
        form = stable_form(node, self.body_of)
        if form is not None:
            if form.kind == "log-softmax" and form.argument.kind is Kind.MATRIX:
                return self.along_rows(ir.apply("log_softmax", form.argument), loop)
            if STABLE_CODE.get(form.kind) is None:
                raise Unsupported(f"the stable form {form.kind}")
            return self.applied(STABLE_CODE[form.kind], (form.argument,), loop, r, c)
        if op == "var":
            return self.variable(node, r, c)
        if op in ("ones", "zeros"):
            return "1.0" if op == "ones" else "0.0"
        if op == "const":
            return _number(node.params[0])
        if op == "dimval":
            return f"float({self.dim(node.params[0])})"
        if op == "transpose" and self.role(node) is GLOBAL:
            return self.value(args[0], loop, c, r)
        if op in _OPERATORS:
            a, b = (self.value(arg, loop, r, c) for arg in args)
            return f"({a} {_OPERATORS[op]} {b})"
        if op == "neg":
            return f"(-{self.value(args[0], loop, r, c)})"
        if op == "pow" and args[1].is_scalar:
            exponent = self.value(args[1], loop, r, c)
            if args[1].op == "const" and float(args[1].params[0]).is_integer():
                exponent = str(int(args[1].params[0]))
            return f"({self.value(args[0], loop, r, c)} ** {exponent})"
        if op in SCALAR_CODE and len(args) == 1 + ("{1}" in SCALAR_CODE[op]):
            return self.applied(SCALAR_CODE[op], args, loop, r, c)
        if op == "where":
            test, a, b = (self.value(arg, loop, r, c) for arg in args)
            return f"({a} if {test} != 0 else {b})"
        if op == "matmul":
            return self.product(node, loop, r, c)
        if op in _ALONG_ROWS and args[0].kind is Kind.MATRIX and \
                node.params[:1] in ((), (1,), (-1,)):
            return self.along_rows(node, loop)
        raise Unsupported(f"the operation {op}" if op not in FUNCTIONS else f"the function {op}")

    def along_rows(self, node: Node, loop: _Loop | None) -> str:
        """softmax, log_softmax (an entry, in a loop), logsumexp, max and min (a row's number)
        along the rows of a matrix, from the row's maximum (minimum) and its sum of
        exponentials shifted by it, as NumPy's helpers compute them."""
        op, a = node.op, node.args[0]
        top, index = self.extreme(a, "min" if op in ("axis_min", "axis_ismin") else "max")
        if op in ("axis_max", "axis_min"):
            return top
        if op in ("axis_ismax", "axis_ismin") and loop is not None:
            return f"(1.0 if _j == {index} else 0.0)"
        if op not in ("softmax", "log_softmax", "logsumexp") or \
                op != "logsumexp" and loop is None:
            raise Unsupported(f"a row's {op} outside a loop over its entries")
        total = self.exponentials(a, top)  # softmax's maximum: nan and inf as in NumPy's
        if op == "logsumexp":
            return f"({top} + _math.log({total}))"
        shifted = f"({self.entry(a, loop)} - {top})"
        return f"(_math.exp{shifted} / {total})" if op == "softmax" else \
            f"({shifted} - _math.log({total}))"

    def extreme(self, a: Node, which: str) -> tuple[str, str]:
        """The accumulators of a row's maximum (minimum) of A and of its first index, as
        np.max and np.argmax give them: the first nan where there is one, -inf (inf) and 0
        for a row of -inf (inf)."""
        key = (self.resolved(a), which)
        if key not in self.statistics:
            loop = self.loop(1 + self.stage(a), a.shape.cols)
            top, index, entry = self.fresh("a"), self.fresh("k"), self.entry(a, loop)
            if not _simple(entry):
                loop.lines.append(f"{self.fresh('e')} = {entry}")
                entry = loop.lines[-1].partition(" = ")[0]
            loop.starts += [f"{top} = {'-' if which == 'max' else ''}_math.inf", f"{index} = 0"]
            loop.lines += [f"if {entry} {'>' if which == 'max' else '<'} {top} or "
                           f"{entry} != {entry} and {top} == {top}:",
                           f"    {top} = {entry}", f"    {index} = _j"]
            self.statistics[key] = top
            self.statistics[(key[0], which + " index")] = index
        return self.statistics[key], self.statistics[(key[0], which + " index")]

    def exponentials(self, a: Node, top: str) -> str:
        """The accumulator of a row's sum of exp(A - its maximum)."""
        key = (self.resolved(a), "exp")
        if key not in self.statistics:
            loop = self.loop(2 + self.stage(a), a.shape.cols)
            total = self.fresh("a")
            loop.starts.append(f"{total} = 0.0")
            loop.lines.append(f"{total} += _math.exp({self.entry(a, loop)} - {top})")
            self.statistics[key] = total
        return self.statistics[key]

    def variable(self, node: Node, r: str, c: str) -> str:
        self.read.add(node.name)
        if node.kind is Kind.SCALAR:
            return identifier(node.name)
        if node.kind not in (Kind.MATRIX, Kind.VECTOR):
            raise Unsupported(f"a {node.kind.value} variable")
        return f"{identifier(node.name)}[{r}, {c if node.kind is Kind.MATRIX else '0'}]"

    def product(self, node: Node, loop: _Loop | None, r: str, c: str) -> str:
        """A product whose factors meet in one index (an outer product: a spread), or with a
        diagonal matrix; a row's sum or dot product (reduction) is a row's number."""
        a, b = node.args
        if a.op == "Diag" and a.args[0].kind is Kind.VECTOR:
            return f"({self.value(a.args[0], loop, r, '0')} * {self.value(b, loop, r, c)})"
        if b.op == "Diag" and b.args[0].kind is Kind.VECTOR:
            return f"({self.value(a, loop, r, c)} * {self.value(b.args[0], loop, c, '0')})"
        regrouped = self.regrouped(node)
        if regrouped is not node:
            return self.value(regrouped, loop, r, c)
        if a.shape.cols != ONE:  # BLAS's blocked products beat a row's loops (tens of times
            raise Unsupported("a product with a matrix")  # at 256 x 1024 @ 1024 x 32)
        left, right = self.value(a, loop, r, "0"), self.value(b, loop, "0", c)
        return left if right == "1.0" else right if left == "1.0" else f"({left} * {right})"

    def applied(self, template: str, arguments: tuple[Node, ...], loop: _Loop | None, r: str,
                c: str) -> str:
        """A template applied to its arguments' code ({0}, {1}), each held in a name first
        where the template reads it twice."""
        texts = []
        for index, argument in enumerate(arguments):
            text = self.value(argument, loop, r, c)
            if template.count(f"{{{index}}}") > 1 and not _simple(text):
                target, role = self.fresh("t"), self.role(argument)
                if role is ENTRY or role is GLOBAL and not argument.is_scalar:
                    if loop is None:
                        raise Unsupported("a value of the columns outside a loop over them")
                    loop.lines.append(f"{target} = {text}")
                elif role is ROW:
                    self.row_lines.setdefault(self.stage(argument), []).append(
                        f"{target} = {text}")
                else:
                    self.prologue.append(f"{target} = {text}")
                text = target
            texts.append(text)
        return template.format(*texts)


def _simple(text: str) -> bool:
    """Whether code is a name, a number or one array entry (nothing to compute twice)."""
    return text.replace("_", "a").replace(".", "").replace("-", "").isalnum() or (
        text.endswith("]") and "(" not in text)


def _number(value: float) -> str:
    if math.isnan(value):
        return "_math.nan"
    if math.isinf(value):
        return "_math.inf" if value > 0 else "(-_math.inf)"
    return repr(float(value))


def fused_functions(name: str, signature: str, title: str, setup: list[str],
                    results: list[tuple[str, str]], code: tuple, blocked: str) -> str:
    """The source of ``name`` computed by a fused kernel (``_<name>_loops``, compiled as
    ``_<name>_kernel``), or by the NumPy code of ``blocked`` (the function over blocks of
    rows) where numba is not installed; ``blocked`` alone, with a comment saying why, where
    the kernel writer does not compute the function.  ``results``: each result's key and the
    template of its layout (``np.asarray({0})``); ``code``: (statements, result nodes,
    variables)."""
    statements, nodes, variables = code
    try:
        kernel = fused_kernel(f"_{name}_loops", statements, nodes, variables)
    except Unsupported as reason:
        return (f"# {name} is NumPy code over blocks of rows, not a fused kernel: the kernel "
                f"writer does not compute {reason}\n" + blocked)
    checks = [f"_shaped({identifier(v)}, {v!r}, ({', '.join(dim_code(d) for d in node.shape.dims)}"
              f"{',' * (len(node.shape.dims) == 1)}))" for v, node in variables.items()
              if identifier(v) in kernel.parameters and node.kind is not Kind.SCALAR]
    lines = checks + [f"{out} = _np.empty({shape}, dtype=_dtype)" for out, shape in kernel.outputs]
    lines.append(f"_{name}_kernel({', '.join(kernel.parameters)})")
    returned = "".join(f"    {key!r}: {layout.format(out)},\n"
                       for (key, layout), (out, _) in zip(results, kernel.outputs, strict=True))
    rest = "\n".join(lines) + returned
    body = used_setup(setup, rest) + lines
    call = blocked[blocked.index("    return _in_row_blocks("):].strip()
    return (f'def {name}{signature}:\n    """{title}.\n\n    Computed by a fused kernel compiled '
            f"by numba (_{name}_kernel); where numba is not\n    installed, by the NumPy code "
            f'over blocks of rows.\n    """\n    if _{name}_kernel is None:\n        {call}\n'
            + "".join(f"    {line}\n" for line in body) + f"    return {{\n{returned}    }}\n\n\n"
            + kernel.source + f"\n\n_{name}_kernel = _fused_kernel(_{name}_loops)\n\n\n")
