"""Generated NumPy code: a readable, importable module computing derived results.

The module computes the problem's definitions, the where-definitions (named deltas) and the
results once, sharing every subexpression used more than once.  It is structure-aware:

- ``Diag(v) @ A`` is ``v * A`` and ``A @ Diag(v)`` is ``A * v.T`` (no dense diagonal matrix);
- ``inv(A) @ B`` is ``np.linalg.solve(A, B)``;
- ``tr(A @ B)`` is ``np.sum(A * B.T)``; ``A : B`` is ``np.vdot(A, B)``;
- ``kron(A, B) @ v`` is ``vec(B @ unvec(v) @ A')`` (Magnus & Neudecker 2019, ch. 2), never the
  dense Kronecker product;
- a product of three or more matrices goes through ``np.linalg.multi_dot``, which orders it by
  cost for the sizes at hand;
- ``X' @ (w * X)`` with ``w >= 0`` provable (a Gram form, as in Hessians) is
  ``G.T @ G`` with ``G = sqrt(w) * X``, which NumPy computes with a symmetric rank-k update;
- subexpressions that do not depend on the variables differentiated (``B @ A`` when
  differentiating with respect to ``C``) are computed by ``prepare(...)``, whose result the
  gradient function takes as ``prepared=`` to skip them.

Inside, vectors are columns (n x 1), as in :mod:`matcalc.numeric`; arguments and results are in
the user's layout (vectors 1-D).  float32 inputs stay float32.
"""

from __future__ import annotations

import hashlib
import importlib.util
import keyword
import tempfile
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from .derive import Derivative
from .errors import UnsupportedError
from .facts import Facts
from .ir import LEAVES, Node, apply, const, walk
from .program import Program
from .shapes import Dim, Kind, describe

ZERO = const(0.0)
_RESERVED = frozenset({"np", "prepared", "sizes", "result", "dtype"}) | \
    frozenset(keyword.kwlist) | frozenset(dir(__builtins__))
# operations worth computing once in prepare() when their inputs stay fixed
_EXPENSIVE = frozenset({"matmul", "inv", "det", "logdet", "mpow", "Diag", "softmax",
                        "logsumexp", "exp", "log", "tanh", "sigmoid", "sin", "cos"})

HELPERS = '''
def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _softmax(x, axis):
    shifted = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


def _logsumexp(x, axis, keep):
    top = np.max(x, axis=axis, keepdims=True)
    value = top + np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True))
    return value if keep else value.reshape(())[()]


def _step(x):
    return np.greater(x, 0).astype(np.result_type(x, np.float32))


def _logdet(x):
    sign, value = np.linalg.slogdet(x)
    return value if sign > 0 else np.nan


def _vec(x):
    return x.reshape((-1, 1), order="F")


def _unvec(x, rows, cols):
    return x.reshape((rows, cols), order="F")


def _diagonal(x):
    return np.diag(x).reshape(-1, 1)


def _number(x):
    return x.reshape(())[()]


def _commutation(m, n, dtype):
    rows = np.arange(m * n)
    return (np.arange(m * n)[None, :] == ((rows % n) * m + rows // n)[:, None]).astype(dtype)


def _column(x, name):
    x = np.asarray(x)
    if x.ndim == 1:
        return x.reshape(-1, 1)
    if x.ndim == 2 and x.shape[1] == 1:
        return x
    raise ValueError(f"{name} must be a vector (a 1-D array), not an array of shape {x.shape}")


def _matrix(x, name):
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a matrix (a 2-D array), not an array of shape "
                         f"{x.shape}")
    return x


def _scalar(x, name):
    x = np.asarray(x)
    if x.size != 1:
        raise ValueError(f"{name} must be a number, not an array of shape {x.shape}")
    return x.reshape(())[()]
'''


def _identifier(name: str) -> str:
    return f"{name}_" if name in _RESERVED or name.startswith("_") else name


class _Writer:
    """Turns nodes into NumPy expressions, naming shared subexpressions."""

    def __init__(self, program: Program, facts: Facts, names: dict[Node, str],
                 uses: dict[Node, int]):
        self.program = program
        self.facts = facts
        self.names = dict(names)  # node -> the variable holding its value
        self.uses = uses
        self.lines: list[str] = []
        self.counter = 0

    def value(self, node: Node) -> str:
        """An expression for node, assigning shared subexpressions to temporaries first."""
        if node in self.names:
            return self.names[node]
        text = self.expression(node)
        if self.uses.get(node, 0) > 1 and node.op not in LEAVES and node.op != "kron":
            self.counter += 1
            name = f"_t{self.counter}"
            self.lines.append(f"{name} = {text}")
            self.names[node] = name
            return name
        return text

    def dim(self, d: Dim) -> str:
        parts = [str(d.coefficient)] if d.coefficient != 1 or not d.symbols else []
        parts += [f"size_{_identifier(symbol)}" for symbol in d.symbols]
        return " * ".join(parts)

    def expression(self, node: Node) -> str:  # noqa: C901 - one case per operation
        op, args = node.op, node.args
        if op in ("var", "ref"):
            return _identifier(node.params[0])
        if op == "const":
            return repr(node.params[0])
        if op == "dimval":
            return f"float({self.dim(node.params[0])})"
        if op == "identity":
            return f"np.eye({self.dim(node.params[0])}, dtype=dtype)"
        if op in ("ones", "zeros"):
            rows = self.dim(node.shape.rows)
            cols = self.dim(node.shape.cols)
            return f"np.{op}(({rows}, {cols}), dtype=dtype)"
        if op == "commutation":
            m, n = node.params
            return f"_commutation({self.dim(m)}, {self.dim(n)}, dtype)"
        if op == "matmul":
            return self.product(node)
        if op == "tr" and args[0].op == "matmul" and not any(a.is_scalar for a in args[0].args) \
                and args[0] not in self.names and self.uses.get(args[0], 0) <= 1:
            a, b = args[0].args
            return f"np.sum({self.value(a)} * {self.value(b)}.T)"
        if op == "frob":
            return f"np.vdot({self.value(args[0])}, {self.value(args[1])})"
        unary = {
            "neg": "(-{0})", "exp": "np.exp({0})", "log": "np.log({0})",
            "sin": "np.sin({0})", "cos": "np.cos({0})", "tanh": "np.tanh({0})",
            "sigmoid": "_sigmoid({0})", "relu": "np.maximum({0}, 0)", "step": "_step({0})",
            "sign": "np.sign({0})", "sqrt": "np.sqrt({0})", "abs": "np.abs({0})",
            "sum": "np.sum({0})", "mean": "np.mean({0})", "det": "np.linalg.det({0})",
            "logdet": "_logdet({0})", "inv": "np.linalg.inv({0})",
            "norm2": "np.linalg.norm({0})", "norm": "np.linalg.norm({0})",
            "vec": "_vec({0})",
        }
        binary = {"add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})",
                  "div": "({0} / {1})", "kron": "np.kron({0}, {1})"}
        if op in binary:
            return binary[op].format(*(self.value(a) for a in args))
        if args and args[0].is_scalar and op in ("transpose", "tr", "det", "vec", "Diag",
                                                 "diag", "softmax", "logsumexp"):
            inner = self.value(args[0])
            return {"softmax": "1.0", "det": inner, "tr": inner}.get(op, inner)
        if op in unary:
            return unary[op].format(self.value(args[0]))
        if op == "transpose":
            return f"{self.value(args[0])}.T"
        if op == "pow":
            base, exponent = args
            if exponent.op == "const" and exponent.params[0] == 2.0:
                text = self.value(base)
                return f"({text} * {text})"
            return f"np.power({self.value(base)}, {self.value(exponent)})"
        if op == "mpow":
            return f"np.linalg.matrix_power({self.value(args[0])}, {node.params[0]})"
        if op == "tr":
            return f"np.trace({self.value(args[0])})"
        if op == "softmax":
            axis = 0 if node.kind is Kind.VECTOR else 1
            return f"_softmax({self.value(args[0])}, {axis})"
        if op == "logsumexp":
            axis = 0 if args[0].kind is Kind.VECTOR else 1
            return f"_logsumexp({self.value(args[0])}, {axis}, {args[0].kind is Kind.MATRIX})"
        if op == "Diag":
            return f"np.diagflat({self.value(args[0])})"
        if op == "diag":
            return f"_diagonal({self.value(args[0])})"
        if op == "unvec":
            rows, cols = node.params
            return f"_unvec({self.value(args[0])}, {self.dim(rows)}, {self.dim(cols)})"
        raise UnsupportedError(f"no NumPy code for {op}")  # pragma: no cover

    # products --------------------------------------------------------------------------------

    def product(self, node: Node) -> str:
        a, b = node.args
        if a.is_scalar or b.is_scalar:
            return f"({self.value(a)} * {self.value(b)})"
        if node.is_scalar:  # x' @ y: a 1 x 1 product is a number
            return f"_number({self.matrix_product(node)})"
        return self.matrix_product(node)

    def matrix_product(self, node: Node) -> str:
        a, b = node.args
        gram = self.gram(a, b)
        if gram:
            return gram
        if self.inline(a) and a.op == "Diag" and not a.args[0].is_scalar:
            return f"({self.value(a.args[0])} * {self.value(b)})"
        if self.inline(b) and b.op == "Diag" and not b.args[0].is_scalar:
            return f"({self.value(a)} * {self.value(b.args[0])}.T)"
        if self.inline(a) and a.op == "inv":
            return f"np.linalg.solve({self.value(a.args[0])}, {self.value(b)})"
        if self.inline(a) and a.op == "kron" and b.kind is Kind.VECTOR:
            first, second = a.args
            if not first.is_scalar and not second.is_scalar:
                return f"_kron_matvec({self.value(first)}, {self.value(second)}, " \
                       f"{self.value(b)})"
        if self.inline(a) and a.op == "transpose" and a.args[0].op == "kron" and \
                self.inline(a.args[0]) and b.kind is Kind.VECTOR:
            first, second = a.args[0].args  # kron(F, S)' = kron(F', S')
            if not first.is_scalar and not second.is_scalar:
                return f"_kron_matvec({self.value(first)}.T, {self.value(second)}.T, " \
                       f"{self.value(b)})"
        factors = self.chain(node)
        if len(factors) >= 3:
            return f"np.linalg.multi_dot([{', '.join(self.value(f) for f in factors)}])"
        return f"({self.value(a)} @ {self.value(b)})"

    def inline(self, node: Node) -> bool:
        """Whether node is computed here only (so its structure may be used, not its value)."""
        return node not in self.names and (self.uses.get(node, 0) <= 1 or node.op == "kron")

    def chain(self, node: Node) -> list[Node]:
        """The factors of a product of matrices, nested products flattened (A @ (B @ C))."""
        factors, pending = [], [node]
        while pending:
            item = pending.pop()
            if item.op == "matmul" and self.inline(item) or item is node:
                a, b = item.args
                if a.is_scalar or b.is_scalar or a.op in ("Diag", "inv", "kron") or \
                        b.op == "Diag":
                    factors.append(item)
                    continue
                pending.extend([b, a])
            else:
                factors.append(item)
        return factors if len(factors) >= 3 else [node]

    def gram(self, a: Node, b: Node) -> str:
        """X' @ Diag(w) @ X with w >= 0, either way associated: G' @ G for G = sqrt(w) * X
        (a syrk in BLAS)."""
        if a.op == "transpose" and b.op == "matmul" and self.inline(b):
            x, (weights, right) = a.args[0], b.args  # X' @ (Diag(w) @ X)
        elif a.op == "matmul" and self.inline(a) and a.args[0].op == "transpose":
            x, weights, right = a.args[0].args[0], a.args[1], b  # (X' @ Diag(w)) @ X
        else:
            return ""
        if right is not x or weights.op != "Diag" or not self.inline(weights):
            return ""
        w = weights.args[0]
        if not self.nonnegative(w):
            return ""
        self.counter += 1
        name = f"_t{self.counter}"
        self.lines.append(f"{name} = np.sqrt({self.value(w)}) * {self.value(x)}")
        return f"({name}.T @ {name})"

    def nonnegative(self, node: Node) -> bool:
        if self.facts.positive(node):
            return True
        if node.op == "mul":  # s * (1 - s) with s a sigmoid: both factors positive
            a, b = node.args
            return all(self.nonnegative(arg) for arg in (a, b))
        if node.op == "sub" and node.args[0].op == "const" and node.args[0].params[0] >= 1.0:
            return self._sigmoid_valued(node.args[1])
        return False

    def _sigmoid_valued(self, node: Node) -> bool:
        while node.op == "ref" and node.name in self.program.definitions:
            node = self.program.definitions[node.name].body
        return node.op in ("sigmoid", "softmax")


def _count_uses(roots: Sequence[Node], stop: set[Node]) -> dict[Node, int]:
    """How many parents each node has in the DAG under roots (not looking inside ``stop``)."""
    uses: dict[Node, int] = {}
    seen: set[Node] = set()
    pending = list(roots)
    while pending:
        node = pending.pop()
        if node in seen:
            continue
        seen.add(node)
        for arg in node.args:
            uses[arg] = uses.get(arg, 0) + 1
            if arg not in stop:
                pending.append(arg)
    return uses


TORCH_HELPERS = '''
import torch


def _lift(function):
    def lifted(*args, **keywords):
        # a Python number becomes a float64 0-d tensor, which does not widen float32 arrays
        return function(*(torch.as_tensor(a, dtype=torch.float64)
                          if isinstance(a, (int, float)) else a for a in args), **keywords)
    return lifted


class _Linalg:
    det = staticmethod(torch.linalg.det)
    inv = staticmethod(torch.linalg.inv)
    solve = staticmethod(torch.linalg.solve)
    slogdet = staticmethod(torch.linalg.slogdet)
    matrix_power = staticmethod(torch.linalg.matrix_power)
    multi_dot = staticmethod(torch.linalg.multi_dot)
    norm = staticmethod(torch.linalg.norm)


class np:  # noqa: N801 - the NumPy calls of the generated code, over torch
    float32 = torch.float32
    nan = float("nan")
    linalg = _Linalg
    exp, log, sin, cos = (_lift(f) for f in (torch.exp, torch.log, torch.sin, torch.cos))
    tanh, sign, sqrt, abs = (_lift(f) for f in (torch.tanh, torch.sign, torch.sqrt, torch.abs))
    sum, mean, trace, kron = (_lift(f) for f in (torch.sum, torch.mean, torch.trace, torch.kron))
    asarray = staticmethod(torch.as_tensor)

    @staticmethod
    def maximum(x, floor):
        return torch.clamp(torch.as_tensor(x), min=floor)

    @staticmethod
    def vdot(a, b):
        return torch.sum(a * b)

    @staticmethod
    def power(a, b):
        return torch.pow(torch.as_tensor(a, dtype=torch.float64)
                         if isinstance(a, (int, float)) else a, b)

    @staticmethod
    def diagflat(v):
        return torch.diag(v.reshape(-1))

    @staticmethod
    def eye(n, dtype=None):
        return torch.eye(n, dtype=dtype)

    @staticmethod
    def ones(shape, dtype=None):
        return torch.ones(shape, dtype=dtype)

    @staticmethod
    def zeros(shape, dtype=None):
        return torch.zeros(shape, dtype=dtype)

    @staticmethod
    def reshape(x, shape):
        return torch.reshape(x, (shape,) if isinstance(shape, int) else shape)

    @staticmethod
    def result_type(*values):
        dtype = torch.float32
        for value in values:
            dtype = torch.promote_types(dtype, value if isinstance(value, torch.dtype)
                                        else value.dtype)
        return dtype


def _sigmoid(x):
    return torch.sigmoid(x)


def _softmax(x, axis):
    return torch.softmax(x, dim=axis)


def _logsumexp(x, axis, keep):
    value = torch.logsumexp(x, dim=axis, keepdim=True)
    return value if keep else value.reshape(())


def _step(x):
    return torch.gt(x, 0).to(x.dtype if x.is_floating_point() else torch.float32)


def _logdet(x):
    sign, value = torch.linalg.slogdet(x)
    return torch.where(sign > 0, value, torch.full_like(value, float("nan")))


def _vec(x):
    return x.T.reshape(-1, 1)


def _unvec(x, rows, cols):
    return x.reshape(cols, rows).T


def _diagonal(x):
    return torch.diagonal(x).reshape(-1, 1)


def _number(x):
    return x.reshape(())


def _commutation(m, n, dtype):
    rows = torch.arange(m * n)
    return (torch.arange(m * n)[None, :] == ((rows % n) * m + rows // n)[:, None]).to(dtype)


def _column(x, name):
    x = torch.as_tensor(x)
    if x.ndim == 1:
        return x.reshape(-1, 1)
    if x.ndim == 2 and x.shape[1] == 1:
        return x
    raise ValueError(f"{name} must be a vector (a 1-D tensor), not of shape {tuple(x.shape)}")


def _matrix(x, name):
    x = torch.as_tensor(x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a matrix (a 2-D tensor), not of shape "
                         f"{tuple(x.shape)}")
    return x


def _scalar(x, name):
    x = torch.as_tensor(x)
    if x.numel() != 1:
        raise ValueError(f"{name} must be a number, not of shape {tuple(x.shape)}")
    return x.reshape(())
'''

COMMON_HELPERS = '''

def _kron_matvec(a, b, v):
    """kron(a, b) @ v without the Kronecker product: vec(b @ V @ a.T), V = unvec(v)."""
    return _vec(b @ _unvec(v, b.shape[1], a.shape[1]) @ a.T)
'''

# each backend's imports and helpers: the generated code calls np.* and these helpers only
BACKENDS = {
    "numpy": "import numpy as np\n" + HELPERS + COMMON_HELPERS,
    # jax.numpy follows NumPy's API for every call the generated code makes
    "jax": "import jax.numpy as np  # enable float64 with jax.config.update('jax_enable_x64', "
           "True)\n" + HELPERS + COMMON_HELPERS,
    "torch": TORCH_HELPERS.lstrip("\n") + COMMON_HELPERS,
}


def generate(derivatives: Derivative | Sequence[Derivative], name: str = "gradient",
             hoist: bool = True, backend: str = "numpy") -> str:
    """The source of a module with ``name(**arrays) -> results`` (and ``prepare``);
    ``backend`` "jax" or "torch" writes the same code over jax.numpy or PyTorch."""
    if backend not in BACKENDS:
        raise UnsupportedError(f"unknown backend {backend!r}; backends are "
                               f"{', '.join(BACKENDS)}")
    return _generate(derivatives, name, hoist, BACKENDS[backend])


def _generate(derivatives: Derivative | Sequence[Derivative], name: str,
              hoist: bool, header: str) -> str:
    group = [derivatives] if isinstance(derivatives, Derivative) else list(derivatives)
    if not group:
        raise UnsupportedError("nothing to generate code for")
    program = group[0].program
    where: dict[str, Node] = {}
    for derivative in group:
        if derivative.program is not program:
            raise UnsupportedError("the results must come from one problem")
        where.update(derivative.where)

    def body_of(item: str) -> Node | None:
        if item in program.definitions:
            return program.definitions[item].body
        return where.get(item)

    statements: list[tuple[str, Node]] = []
    from .program import dependencies

    roots = [d.result for d in group] + list(where.values())
    needed: set[str] = set()
    for root in roots:
        needed |= dependencies(root, lambda item: body_of(item) or ZERO)
    statements += [(n, d.body) for n, d in program.definitions.items() if n in needed]
    statements += list(where.items())
    wrt = {d.wrt for d in group}
    result_nodes = [d.result for d in group]
    if hoist:
        moves = _mover(program, where, wrt)
        statements = [(n, regrouped(b, moves)) for n, b in statements]
        result_nodes = [regrouped(r, moves) for r in result_nodes]
    named = {program.definitions[n].ref: _identifier(n) for n, _ in statements
             if n in program.definitions}
    named.update({_ref_of(n, b): _identifier(n) for n, b in where.items()})
    bodies = [body for _, body in statements] + result_nodes
    uses = _count_uses(bodies, set())
    variables = list(program.variables)
    constant = _constant_nodes(program, where, wrt, bodies) if hoist else set()
    writer = _Writer(program, Facts(body_of), named, uses)

    hoisted = _hoisted(bodies, constant)
    prepare_lines, prepare_keys = [], []
    if hoisted:
        prepare_writer = _Writer(program, Facts(body_of), named, uses)
        for index, node in enumerate(hoisted, 1):
            key = f"_h{index}"
            text = prepare_writer.names.get(node) or prepare_writer.expression(node)
            prepare_lines += prepare_writer.lines
            prepare_writer.lines = []
            prepare_lines.append(f"{key} = {text}")
            prepare_writer.names[node] = key
            prepare_keys.append(key)
            writer.names[node] = f"prepared[{key!r}]"

    body_lines = []
    for statement_name, body in statements:
        text = writer.value(body)
        body_lines += writer.lines
        writer.lines = []
        body_lines.append(f"{_identifier(statement_name)} = {text}")
    results = []
    for derivative, result in zip(group, result_nodes, strict=True):
        text = writer.value(result)
        body_lines += writer.lines
        writer.lines = []
        results.append((derivative, text))
    return _module(program, group, name, variables, body_lines, results, prepare_lines,
                   prepare_keys, bodies, header)


def _ref_of(name: str, body: Node) -> Node:
    from .ir import ref

    return ref(name, body)


def _mover(program: Program, where: dict[str, Node], wrt: set[str]) -> Callable[[Node], bool]:
    """Whether a node's value depends on the variables differentiated."""
    moving = set(where) | set(wrt)
    for name, definition in program.definitions.items():
        if any(n.op in ("var", "ref") and n.name in moving for n in walk(definition.body)):
            moving.add(name)
    memo: dict[Node, bool] = {}

    def moves(node: Node) -> bool:
        if node not in memo:
            memo[node] = any(n.op in ("var", "ref") and n.name in moving for n in walk(node))
        return memo[node]

    return moves


def _constant_nodes(program: Program, where: dict[str, Node], wrt: set[str],
                    bodies: Sequence[Node]) -> set[Node]:
    """Nodes whose value does not depend on the variables differentiated."""
    moving_definitions: set[str] = set()
    for name, definition in program.definitions.items():
        if any((n.op == "var" and n.name in wrt) or (n.op == "ref" and n.name in
               moving_definitions) for n in walk(definition.body)):
            moving_definitions.add(name)
    for name in where:
        moving_definitions.add(name)  # where-definitions are computed in the function
    constant = set()
    for body in bodies:
        for node in walk(body):
            if node.op == "var" and node.name in wrt or node.op == "ref":
                continue
            if all(arg in constant or (arg.op in LEAVES and not (
                    arg.op == "var" and arg.name in wrt) and arg.op != "ref")
                   for arg in node.args):
                constant.add(node)
    return constant


def _factors(node: Node) -> list[Node]:
    """The factors of a product of matrices (no scalar factors), left to right."""
    if node.op == "matmul" and not any(arg.is_scalar for arg in node.args):
        return _factors(node.args[0]) + _factors(node.args[1])
    return [node]


def regrouped(root: Node, moving: Callable[[Node], bool]) -> Node:
    """Products of three or more matrices with the factors that do not move grouped:
    C @ B @ A -> C @ (B @ A) when only C moves, so B @ A can be computed once."""
    done: dict[Node, Node] = {}
    for node in walk(root):
        if node.op == "matmul" and not any(arg.is_scalar for arg in node.args):
            factors = [done[f] for f in _factors(node)]
            if len(factors) >= 3 and _has_constant_run(factors, moving):
                done[node] = _grouped(factors, moving)
                continue
        if not node.args:
            done[node] = node
            continue
        args = tuple(done[arg] for arg in node.args)
        done[node] = node if all(a is b for a, b in zip(args, node.args, strict=True)) else \
            apply(node.op, *args, params=node.params)
    return done[root]


def _has_constant_run(factors: list[Node], moving: Callable[[Node], bool]) -> bool:
    """Whether two neighbouring factors both stay fixed (and not all of them do)."""
    fixed = [not moving(f) and f.op != "Diag" for f in factors]
    return not all(fixed) and any(a and b for a, b in zip(fixed, fixed[1:], strict=False))


def _grouped(factors: list[Node], moving: Callable[[Node], bool]) -> Node:
    groups: list[list[Node]] = []
    for factor in factors:
        if groups and not moving(factor) and not moving(groups[-1][-1]) and \
                factor.op != "Diag" and groups[-1][-1].op != "Diag":
            groups[-1].append(factor)
        else:
            groups.append([factor])
    products = []
    for group in groups:
        if len(group) > 1 and all(f.op == "transpose" for f in group):
            # A' @ B' = (B @ A)': one product to share with B @ A elsewhere
            inner = [f.args[0] for f in reversed(group)]
            product = inner[0]
            for factor in inner[1:]:
                product = apply("matmul", product, factor)
            products.append(apply("transpose", product))
            continue
        product = group[0]
        for factor in group[1:]:
            product = apply("matmul", product, factor)
        products.append(product)
    result = products[0]
    for product in products[1:]:
        result = apply("matmul", result, product)
    return result


def _hoisted(bodies: Sequence[Node], constant: set[Node]) -> list[Node]:
    """The largest constant subexpressions worth computing once (products, inverses, ...)."""
    chosen: list[Node] = []
    seen: set[Node] = set()
    pending = list(bodies)
    while pending:
        node = pending.pop()
        if node in seen:
            continue
        seen.add(node)
        if node in constant and node.op in _EXPENSIVE:
            chosen.append(node)
            continue
        pending.extend(node.args)
    order = {node: index for index, node in enumerate(_topological(bodies))}
    return sorted(set(chosen), key=lambda n: order.get(n, 0))


def _topological(bodies: Sequence[Node]) -> list[Node]:
    ordered, seen = [], set()
    for body in bodies:
        for node in walk(body):
            if node not in seen:
                seen.add(node)
                ordered.append(node)
    return ordered


def _module(program: Program, group: list[Derivative], name: str, variables: list[str],
            body_lines: list[str], results: list[tuple[Derivative, str]],
            prepare_lines: list[str], prepare_keys: list[str], bodies: list[Node],
            header: str) -> str:
    parameters = ", ".join(_identifier(v) for v in variables)
    conversions, sizes = [], {}
    for variable in variables:
        node = program.variables[variable]
        identifier = _identifier(variable)
        kind = {"scalar": "_scalar", "vector": "_column"}.get(node.kind.name.lower(), "_matrix")
        conversions.append(f"{identifier} = {kind}({identifier}, {variable!r})")
        if node.kind is not Kind.SCALAR:
            for axis, d in enumerate((node.shape.rows, node.shape.cols)):
                if d.is_symbol and d.symbols[0] not in sizes:
                    sizes[d.symbols[0]] = f"{identifier}.shape[{axis}]"
    used_dims = {s for body in bodies for n in walk(body) for s in _dims_of(n)}
    missing = sorted(used_dims - set(sizes))
    size_lines = [f"size_{_identifier(s)} = {sizes[s]}" for s in sorted(sizes)]
    size_lines += [f"size_{_identifier(s)} = int(sizes[{s!r}])" for s in missing]
    arrays = [_identifier(v) for v in variables if program.variables[v].kind is not Kind.SCALAR]
    dtype_line = f"dtype = np.result_type({', '.join(arrays)}, np.float32)" if arrays else \
        "dtype = np.float64"
    outputs = []
    for derivative, text in results:
        layout = {Kind.SCALAR: "float({0})", Kind.VECTOR: "np.reshape({0}, -1)"}.get(
            derivative.result.kind, "np.asarray({0})")
        outputs.append(f"    {derivative.wrt!r}: {layout.format(text)},")
    kinds = sorted({d.kind for d in group})
    title = f"{'/'.join(kinds)} of {group[0].of} with respect to " \
            f"{', '.join(d.wrt for d in group)}"
    shapes = "\n".join(f"    {d.wrt}: {d.type}" for d in group)
    declarations = "\n".join(
        f"    {v} : {describe(program.variables[v].kind, program.variables[v].shape)}"
        for v in variables)
    extra = ", sizes=None" if missing else ""
    prepare_text = ""
    prepared_parameter = ""
    if prepare_lines:
        prepare_body = "\n".join(conversions + size_lines + [dtype_line] + prepare_lines)
        prepare_text = (f"def prepare({parameters}{extra}):\n"
                        f'    """What {name} needs that does not depend on '
                        f"{', '.join(sorted({d.wrt for d in group}))}: compute it once, pass "
                        f'it as prepared=."""\n'
                        + textwrap.indent(prepare_body, "    ")
                        + "\n    return {" + ", ".join(f"{k!r}: {k}" for k in prepare_keys)
                        + "}\n\n\n")
        prepared_parameter = ", prepared=None"
    call_prepare = ""
    if prepare_lines:
        call_prepare = (f"if prepared is None:\n    prepared = prepare({parameters}"
                        f"{', sizes=sizes' if missing else ''})\n")
    body = "\n".join(conversions + size_lines + [dtype_line]) + "\n" + call_prepare + \
        "\n".join(body_lines)
    return (f'"""{title}: code generated by matcalc.\n\nProblem:\n{declarations}\n\n'
            f'Results ({name} returns a dict by variable):\n{shapes}\n\n'
            'Vectors are 1-D arrays, matrices 2-D, scalars numbers; float32 stays float32.\n'
            '"""\n\n' + header + "\n\n" + prepare_text
            + f"def {name}({parameters}{extra}{prepared_parameter}):\n"
            f'    """{title}."""\n'
            + textwrap.indent(body, "    ") + "\n    return {\n"
            + "\n".join(outputs) + "\n    }\n")


def _dims_of(node: Node) -> set[str]:
    dims: list[Dim] = []
    if node.op in ("dimval", "identity"):
        dims.append(node.params[0])
    elif node.op in ("ones", "zeros", "unvec"):
        dims += [node.shape.rows, node.shape.cols]
    elif node.op == "commutation":
        dims += list(node.params)
    return {symbol for d in dims for symbol in d.symbols}


def generate_many(groups: Sequence[Sequence[Derivative]], backend: str = "numpy") -> str:
    """One module for several requests: a function each, named by its kind (gradient,
    jacobian, hessian; numbered when a kind repeats), sharing the helpers."""
    names: dict[str, int] = {}
    parts = []
    for index, group in enumerate(groups):
        kind = {"grad": "gradient"}.get(group[0].kind, group[0].kind)
        names[kind] = names.get(kind, 0) + 1
        name = kind if names[kind] == 1 else f"{kind}{names[kind]}"
        source = generate(list(group), name, hoist=False, backend=backend)
        if index:
            source = source[source.index(f"def {name}("):]
        parts.append(source.rstrip() + "\n")
    return "\n\n".join(parts)


_CACHE = Path(tempfile.gettempdir()) / "matcalc-generated"


_MODULES: dict[str, ModuleType] = {}


def load(source: str, module_name: str = "matcalc_generated") -> ModuleType:
    """Import generated source as a module (written to a cache folder, never evaluated from
    user text: the source is built from matcalc's own expression trees)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    if digest in _MODULES:
        return _MODULES[digest]
    _CACHE.mkdir(exist_ok=True)
    path = _CACHE / f"{module_name}_{digest}.py"
    if not path.exists():
        path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"{module_name}_{digest}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if len(_MODULES) > 512:
        _MODULES.clear()
    _MODULES[digest] = module
    return module


_COMPILED: dict[tuple[int, ...], tuple[list, Callable]] = {}


def compiled(derivatives: Derivative | Sequence[Derivative], hoist: bool = True):
    """The generated function itself: ``f(**arrays) -> {wrt: result}`` (``sizes=`` is
    accepted, and passed on when the code needs sizes no array shows).  Remembered for the
    derivatives it was made for."""
    group = [derivatives] if isinstance(derivatives, Derivative) else list(derivatives)
    key = (*(id(d) for d in group), int(hoist))
    known = _COMPILED.get(key)
    if known is not None and all(a is b for a, b in zip(known[0], group, strict=True)):
        return known[1]
    call = _compile(group, hoist)
    if len(_COMPILED) > 512:
        _COMPILED.clear()
    _COMPILED[key] = (group, call)
    return call


def _compile(group: list[Derivative], hoist: bool) -> Callable:
    source = generate(group, "gradient", hoist)
    function = load(source).gradient
    takes_sizes = "sizes=None" in source.split("def gradient(", 1)[1].split(")", 1)[0]

    renamed = {name: _identifier(name) for name in group[0].program.variables}

    def call(sizes=None, **arrays):
        arrays = {renamed.get(name, name): value for name, value in arrays.items()}
        if takes_sizes:
            return function(sizes=sizes or {}, **arrays)
        return function(**arrays)

    call.source = source  # type: ignore[attr-defined]
    return call


__all__ = ["compiled", "generate", "generate_many", "load"]
