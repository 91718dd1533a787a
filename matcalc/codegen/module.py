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
import linecache
import textwrap
from collections.abc import Callable, Sequence
from types import ModuleType

from ..core.ir import Node, const, ref, walk
from ..core.program import Program, dependencies
from ..core.shapes import Dim, Kind, describe
from ..engine.result import Result, result_keys
from ..errors import UnsupportedError
from ..rules.facts import Facts
from .backends import BACKENDS, backend_header, only_used_helpers
from .names import identifier, internal, size_name, sizes_keyword
from .plan import constant_nodes, hoisted, mover, regrouped
from .writer import Writer, count_uses

ZERO = const(0.0)


def generate(derivatives: Result | Sequence[Result], name: str = "gradient",
             hoist: bool = True, backend: str = "numpy", prepare_name: str = "prepare") -> str:
    """The source of a module with ``name(**arrays) -> results`` (and ``prepare_name``, the
    function computing what does not move, when there is any); ``backend`` "jax" or "torch"
    writes the same code over jax.numpy or PyTorch."""
    return only_used_helpers(_whole_source(derivatives, name, hoist, backend, prepare_name),
                             backend_header(backend))


def _whole_source(derivatives: Result | Sequence[Result], name: str, hoist: bool,
                  backend: str, prepare_name: str) -> str:
    """The module with every runtime helper of its backend."""
    if backend not in BACKENDS:
        raise UnsupportedError(f"unknown backend {backend!r}; backends are "
                               f"{', '.join(BACKENDS)}")
    return _generate(derivatives, name, hoist, backend_header(backend), prepare_name)


def _generate(derivatives: Result | Sequence[Result], name: str,
              hoist: bool, header: str, prepare_name: str = "prepare") -> str:
    group = [derivatives] if isinstance(derivatives, Result) else list(derivatives)
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

    # a gradient's function is also computed: value_and_<name> returns it with the results
    valued = all(d.kind == "grad" for d in group)
    roots = [d.result for d in group] + list(where.values()) + \
        ([group[0].of_node] if valued else [])
    needed: set[str] = set()
    for root in roots:
        needed |= dependencies(root, lambda item: body_of(item) or ZERO)
    statements += [(n, d.body) for n, d in program.definitions.items() if n in needed]
    statements += list(where.items())
    wrt = {name for d in group for name in d.names}
    result_nodes = [d.result for d in group]
    if hoist:
        moves = mover(program, where, wrt)
        statements = [(n, regrouped(b, moves)) for n, b in statements]
        result_nodes = [regrouped(r, moves) for r in result_nodes]
    named = {program.definitions[n].ref: identifier(n) for n, _ in statements
             if n in program.definitions}
    named.update({_ref_of(n, b): identifier(n) for n, b in where.items()})
    bodies = [body for _, body in statements] + result_nodes
    uses = count_uses(bodies, set())
    variables = list(program.variables)
    constant = constant_nodes(program, where, wrt, bodies) if hoist else set()
    writer = Writer(program, Facts(body_of), named, uses)

    chosen = hoisted(bodies, constant)
    prepare_lines, prepare_keys = [], []
    if chosen:
        prepare_writer = Writer(program, Facts(body_of), named, uses)
        for index, node in enumerate(chosen, 1):
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
        body_lines.append(f"{identifier(statement_name)} = {text}")
    results = []
    for derivative, result in zip(group, result_nodes, strict=True):
        text = writer.value(result)
        body_lines += writer.lines
        writer.lines = []
        results.append((derivative, text))
    value = ""
    if valued:
        value = writer.value(group[0].of_node)
        body_lines += writer.lines
    return _module(program, group, name, variables, body_lines, results, prepare_lines,
                   prepare_keys, bodies, header, prepare_name, value)


def _ref_of(name: str, body: Node) -> Node:
    return ref(name, body)


def _module(program: Program, group: list[Result], name: str, variables: list[str],
            body_lines: list[str], results: list[tuple[Result, str]],
            prepare_lines: list[str], prepare_keys: list[str], bodies: list[Node],
            header: str, prepare_name: str = "prepare", value: str = "") -> str:
    parameters = ", ".join(identifier(v) for v in variables)
    conversions, sizes = _arguments(program, variables)
    used_dims = {s for body in bodies for n in walk(body) for s in _dims_of(n)}
    missing = sorted(used_dims - set(sizes))
    size_lines = [f"{size_name(s)} = {sizes[s]}" for s in sorted(sizes)]
    size_lines += [f"{size_name(s)} = int(sizes[{s!r}])" for s in missing]
    arrays = [identifier(v) for v in variables if program.variables[v].kind is not Kind.SCALAR]
    dtype = internal("dtype")
    dtype_line = f"{dtype} = np.result_type({', '.join(arrays)}, np.float32)" if arrays else \
        f"{dtype} = np.float64"
    keys = result_keys(group)
    outputs = []
    for key, (derivative, text) in zip(keys, results, strict=True):
        layout = {Kind.SCALAR: "_returned_number({0})", Kind.VECTOR: "np.reshape({0}, -1)"}.get(
            derivative.result.kind, "np.asarray({0})")
        outputs.append(f"    {key!r}: {layout.format(text)},")
    kinds = sorted({d.kind for d in group})
    title = f"{'/'.join(kinds)} of {group[0].of} with respect to " \
            f"{', '.join(dict.fromkeys(name for d in group for name in d.names))}"
    shapes = "\n".join(f"    {key!r}: {d.type}" for key, d in zip(keys, group, strict=True))
    declarations = "\n".join(
        f"    {v} : {describe(program.variables[v].kind, program.variables[v].shape)}"
        for v in variables)
    extra = ", sizes=None" if missing else ""
    prepare_text = ""
    prepared_parameter = ""
    if prepare_lines:
        prepare_body = "\n".join(conversions + size_lines + [dtype_line] + prepare_lines)
        prepare_text = (f"def {prepare_name}({parameters}{extra}):\n"
                        f'    """What {name} needs that does not depend on '
                        f"{', '.join(sorted({n for d in group for n in d.names}))}: "
                        "compute it once, pass "
                        f'it as prepared=."""\n'
                        + textwrap.indent(prepare_body, "    ")
                        + "\n    return {" + ", ".join(f"{k!r}: {k}" for k in prepare_keys)
                        + "}\n\n\n")
        prepared_parameter = ", prepared=None"
    call_prepare = ""
    if prepare_lines:
        call_prepare = (f"if prepared is None:\n    prepared = {prepare_name}({parameters}"
                        f"{', sizes=sizes' if missing else ''})\n")
    body = "\n".join(conversions + size_lines + [dtype_line]) + "\n" + call_prepare + \
        "\n".join(body_lines)
    returned = "{\n" + "\n".join(outputs) + "\n    }"
    signature = f"({parameters}{extra}{prepared_parameter})"
    if value:
        # the loss with its gradients, sharing the forward pass (what a training loop needs)
        forwarded = ", ".join([identifier(v) for v in variables] +
                              (["sizes=sizes"] if missing else []) +
                              (["prepared=prepared"] if prepare_lines else []))
        functions = (f"def value_and_{name}{signature}:\n"
                     f'    """{group[0].of} and its {title}, computed together."""\n'
                     + textwrap.indent(body, "    ") + f"\n    return _returned_number({value}), "
                     + returned + "\n\n\n"
                     + f"def {name}{signature}:\n    \"\"\"{title}.\"\"\"\n"
                     f"    return value_and_{name}({forwarded})[1]\n")
    else:
        functions = (f"def {name}{signature}:\n    \"\"\"{title}.\"\"\"\n"
                     + textwrap.indent(body, "    ") + "\n    return " + returned + "\n")
    return (f'"""{title}: code generated by matcalc.\n\nProblem:\n{declarations}\n\n'
            f'Results ({name} returns a dict by key'
            + (f"; value_and_{name}, the function's value and that dict" if value else "")
            + f'):\n{shapes}\n\n'
            'Vectors are 1-D arrays, matrices 2-D, scalars numbers; float32 stays float32.\n'
            '"""\n\n' + header + "\n\n" + prepare_text + functions)


def _arguments(program: Program, variables: list[str]) -> tuple[list[str], dict[str, str]]:
    """The lines taking each argument into the internal layout, and each dimension's size as
    read off the arguments' shapes (``2*dh``, ``k + 1``: a symbol solved for, when alone)."""
    conversions, sizes = [], {}
    for variable in variables:
        node = program.variables[variable]
        python_name = identifier(variable)
        kind = {"scalar": "_scalar", "vector": "_column"}.get(node.kind.name.lower(), "_matrix")
        conversions.append(f"{python_name} = {kind}({python_name}, {variable!r})")
        if node.kind is not Kind.SCALAR:
            for axis, d in enumerate((node.shape.rows, node.shape.cols)):
                if d.is_symbol and d.symbols[0] not in sizes:
                    sizes[d.symbols[0]] = f"{python_name}.shape[{axis}]"
    for variable in variables:
        node = program.variables[variable]
        for axis, d in enumerate((node.shape.rows, node.shape.cols)):
            solved = _solved_size(d, f"{identifier(variable)}.shape[{axis}]")
            if node.kind is not Kind.SCALAR and solved and solved[0] not in sizes:
                sizes[solved[0]] = solved[1]
    return conversions, sizes


def _dims_of(node: Node) -> set[str]:
    dims: list[Dim] = []
    if node.op in ("dimval", "identity"):
        dims.append(node.params[0])
    elif node.op in ("ones", "zeros", "unvec"):
        dims += [node.shape.rows, node.shape.cols]
    elif node.op == "commutation":
        dims += list(node.params)
    return {symbol for d in dims for symbol in d.symbols}


def generate_many(groups: Sequence[Sequence[Result]], backend: str = "numpy") -> str:
    """One module for several requests: a function each, named by its kind (gradient,
    jacobian, hessian; numbered when a kind repeats), sharing the helpers.  What a function
    needs that does not move is computed by ``prepare`` (one request) or ``prepare_<function>``
    (several), whose result the function takes as ``prepared=``."""
    names: dict[str, int] = {}
    parts = []
    for index, group in enumerate(groups):
        kind = {"grad": "gradient"}.get(group[0].kind, group[0].kind)
        names[kind] = names.get(kind, 0) + 1
        name = kind if names[kind] == 1 else f"{kind}{names[kind]}"
        prepare_name = "prepare" if len(groups) == 1 else f"prepare_{name}"
        source = _whole_source(list(group), name, True, backend, prepare_name)
        if index:
            starts = [source.find(f"def {prepare_name}("), source.find(f"def value_and_{name}("),
                      source.index(f"def {name}(")]
            source = source[min(start for start in starts if start >= 0):]
        parts.append(source.rstrip() + "\n")
    return only_used_helpers("\n\n".join(parts), backend_header(backend))


_MODULES: dict[str, ModuleType] = {}


def load(source: str, module_name: str = "matcalc_generated") -> ModuleType:
    """A fresh module running generated source, compiled in memory: nothing is written to or
    read from disk, so no other user of the machine can plant or spoil what runs.  The source
    is built from matcalc's own expression trees (user names pass through
    :func:`~matcalc.codegen.names.identifier`), never from user text.  Tracebacks show its lines:
    the source is registered with :mod:`linecache` under the module's file name."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    if digest in _MODULES:
        return _MODULES[digest]
    name = f"{module_name}_{digest}"
    filename = f"<matcalc generated {name}>"
    code = compile(source, filename, "exec")
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = ModuleType(name)
    module.__file__ = filename
    exec(code, module.__dict__)  # our own generated code, see the docstring
    if len(_MODULES) > 512:
        _MODULES.clear()
    _MODULES[digest] = module
    return module


_COMPILED: dict[tuple[int, ...], tuple[list, Callable]] = {}


def compiled(derivatives: Result | Sequence[Result], hoist: bool = True):
    """The generated function itself: ``f(**arrays) -> {key: result}`` (keys as
    :func:`~matcalc.engine.result.result_keys`; ``sizes=`` is accepted, and passed on when the
    code needs sizes no array shows; ``sizes_=`` when the problem has a variable ``sizes``).
    Remembered for the derivatives it was made for."""
    group = [derivatives] if isinstance(derivatives, Result) else list(derivatives)
    key = (*(id(d) for d in group), int(hoist))
    known = _COMPILED.get(key)
    if known is not None and all(a is b for a, b in zip(known[0], group, strict=True)):
        return known[1]
    call = _compile(group, hoist)
    if len(_COMPILED) > 512:
        _COMPILED.clear()
    _COMPILED[key] = (group, call)
    return call


def _compile(group: list[Result], hoist: bool) -> Callable:
    source = generate(group, "gradient", hoist)
    function = load(source).gradient
    takes_sizes = "sizes=None" in source.split("def gradient(", 1)[1].split(")", 1)[0]

    variables = group[0].program.variables
    renamed = {name: identifier(name) for name in variables}
    sizes_key = sizes_keyword(variables)

    def call(**keywords):
        sizes = keywords.pop(sizes_key, None)
        arrays = {renamed.get(name, name): value for name, value in keywords.items()}
        if takes_sizes:
            return function(sizes=sizes or {}, **arrays)
        return function(**arrays)

    call.source = source  # type: ignore[attr-defined]
    call.keys = result_keys(group)  # type: ignore[attr-defined]
    return call


def function_of(result: Result) -> Callable[..., object]:
    """The generated function of one result, for matcalc's own callers:
    ``f(arrays, sizes=None)`` -> its value (arrays by variable name, whatever the names)."""
    function = compiled([result])
    (key,) = function.keys
    sizes_key = sizes_keyword(result.program.variables)
    return lambda arrays, sizes=None: function(**arrays, **{sizes_key: sizes})[key]


__all__ = ["compiled", "function_of", "generate", "generate_many", "load"]


def _solved_size(d: Dim, size: str) -> tuple[str, str] | None:
    """(symbol, Python expression) when ``d`` is c * s + r for one symbol s and a number r:
    s = (size - r) // c."""
    if d.is_symbol or len(d.symbols) != 1:
        return None
    (symbol,) = d.symbols
    isolated = d.isolated(symbol)
    if isolated is None or not isolated[1].is_number:
        return None
    coefficient, rest = isolated
    shifted = f"({size} - {rest.value({})})" if rest.terms else size
    return symbol, f"{shifted} // {coefficient}" if coefficient != 1 else shifted
