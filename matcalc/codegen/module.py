"""Generated NumPy code: a readable, importable module computing derived results.

The module computes the problem's definitions, the where-definitions (named deltas) and the
results once, sharing every subexpression used more than once.  It is structure-aware:

- ``Diag(v) @ A`` is ``v * A`` and ``A @ Diag(v)`` is ``A * v.T`` (no dense diagonal matrix);
- ``inv(A) @ B`` is ``np.linalg.solve(A, B)``;
- ``tr(A @ B)`` is ``np.sum(A * B.T)``; ``A : B`` is ``np.vdot(A, B)``;
- ``kron(A, B) @ v`` is ``vec(B @ unvec(v) @ A')`` (Magnus & Neudecker 2019, ch. 2), never the
  dense Kronecker product;
- a product of three or more matrices goes through ``np.linalg.multi_dot``, which orders it by
  cost for the sizes at hand (JAX code through ``_multi_dot``, the same order by ``@``);
- a product the chains of two results share is computed once, and a part of the value's chains
  that the gradients' chains hold is kept for them (:mod:`.shared_chains`);
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
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType

from ..core.ir import Node, const, ref
from ..core.labels import never_differentiated
from ..core.program import Program, dependencies
from ..core.shapes import Kind, describe
from ..engine.result import Result, result_keys
from ..errors import UnsupportedError
from ..rules.facts import Facts
from .backends import FUSED, Backend, backend_header, only_used_helpers, writing_backend
from .backends import backend as spelling_of
from .diagonals import with_diagonals
from .fused import fused_functions
from .names import identifier, size_name, sizes_keyword
from .plan import constant_nodes, hoisted, mover, regrouped
from .reuse import reuse_dead_arrays
from .row_blocks import in_blocks, row_blocked, written_into
from .seeded import GRAD, training_step
from .shared_chains import shared_chains
from .sizes import missing_sizes, sizes_shown, used_dims, used_setup
from .solves import solved_inverses
from .unscaled import unscaled_request
from .writer import Writer, count_uses

ZERO = const(0.0)


def generate(derivatives: Result | Sequence[Result], name: str = "gradient",
             hoist: bool = True, backend: str = "numpy", prepare_name: str = "prepare") -> str:
    """The source of a module with ``name(**arrays) -> results`` (and ``prepare_name``, the
    function computing what does not move, when there is any); ``backend`` "jax" or "torch"
    writes the same code over jax.numpy or PyTorch, "numba" NumPy code with fused kernels."""
    code = written(derivatives, hoist, writing_backend(backend))
    return only_used_helpers(_module(code, name, prepare_name, backend == FUSED),
                             backend_header(backend))


@dataclass
class Written:
    """The pieces of a generated function: its parameters, the lines turning arguments into
    arrays (``setup``), what ``prepare`` computes, and the lines of each variant of the body."""

    program: Program
    group: list[Result]
    spelling: Backend
    parameters: list[str]  # the variables' Python names, in declaration order
    setup: list[str]
    sizes_keyword: str  # "" when every size shows in an argument
    prepared_keyword: str  # "" when nothing is prepared
    prepare_lines: list[str]
    prepare_keys: list[str]
    lines: list[str]  # computing the results only
    results: list[str]
    valued_lines: list[str]  # computing the results and the function's value (gradients only)
    valued_results: list[str]
    value: str  # the function's value in valued_lines' terms ("" unless gradients)
    row_blocks: tuple[str, ...] = ()  # variables sliced into blocks of rows (row_blocks.py)
    seeded: tuple[bool, ...] = ()  # valued results times the incoming gradient (seeded.py)
    fused: tuple = ()  # a row-local function's (statements, results, variables) (fused.py)


def written(derivatives: Result | Sequence[Result], hoist: bool = True,
            backend_name: str = "numpy", seed: bool = False) -> Written:
    """The code of a function computing ``derivatives`` (and, for gradients, the function's
    value with them; ``seed``: times the incoming gradient ``_grad``), each computed once."""
    spelling = spelling_of(backend_name)
    group, program, where = _group_of(derivatives)

    def body_of(item: str) -> Node | None:
        if item in program.definitions:
            return program.definitions[item].body
        return where.get(item)

    wrt = {name for d in group for name in d.names}
    valued = all(d.kind == "grad" for d in group)
    value_node = group[0].of_node if valued else None
    needed, statements, result_nodes = _statements(group, program, where, body_of, value_node,
                                                   hoist)
    result_nodes = shared_chains(result_nodes, body_of)
    named = {program.definitions[n].ref: identifier(n) for n, _ in statements
             if n in program.definitions}
    named.update({ref(n, b): identifier(n) for n, b in where.items()} | {GRAD: "_grad"})
    bodies = [body for _, body in statements] + result_nodes
    facts = Facts(body_of)
    plain, plain_uses = (statements, result_nodes, value_node), count_uses(bodies + (
        [value_node] if value_node else []), set())
    solved = solved_inverses(bodies + ([value_node] if value_node else []))
    constant = constant_nodes(program, where, wrt, bodies) if hoist else set()
    chosen = hoisted(bodies, constant, solved)
    blocks = row_blocked(result_nodes, body_of, program.variables, spelling.name, chosen)
    chosen = [] if blocks else chosen  # a block computes all it needs
    variables = list(program.variables)
    taken = [identifier(v) for v in variables]
    sizes_key = sizes_keyword(taken) if missing_sizes(program, variables, bodies) else ""
    prepared_key = sizes_keyword(taken, "prepared") if chosen else ""

    symmetric = frozenset(node for node, d in zip(result_nodes, group, strict=True)  # Schwarz:
                          if d.kind == "hessian" and not d.across)  # code computes half of it
    step = training_step(statements, result_nodes, value_node, body_of, chosen, set(
        where) if seed else set()) if valued else None  # value_and_gradient's nodes

    def write(with_value: bool, counts: dict[Node, int], paired: frozenset = frozenset()
              ) -> tuple[Writer, list[str], list[str], str, list[str]]:
        statements, result_nodes, value_node = step[:3] if with_value else plain
        writer = Writer(program, facts, named, counts, spelling, paired, solved)
        writer.symmetric = symmetric
        preparer = Writer(program, facts, named, counts, spelling, solved=solved)
        prepare_lines = _prepare_lines(chosen, preparer, writer, prepared_key)
        wanted = set(needed) if with_value else _needed_by(result_nodes, where, body_of)
        kept, results_of, value_of = unscaled_request(
            program, where, statements, wanted, result_nodes, value_node if with_value else None)
        lines, results, value = _lines(writer, kept, results_of, value_of)
        return writer, lines, results, value, prepare_lines

    def counted(with_value: bool) -> tuple[dict[Node, int], frozenset]:
        # a first writing counts how often each node's code is written (a stable form reaches
        # past the node it replaces: log(softmax(t)) writes t, not softmax(t)); each node
        # written more than once is then held in a temporary, and softmax(t) written beside
        # log(softmax(t)) is computed from it
        uses = count_uses([b for _, b in step[0]] + step[1] + [step[2]], set()) \
            if with_value else plain_uses
        first = write(with_value, uses)[0]
        return {node: max(uses.get(node, 0), first.requests.get(node, 0))
                for node in set(uses) | set(first.requests)}, first.softmax_pairs()

    _, lines, results, _, prepare_lines = write(False, *counted(False))
    valued_lines, valued_results, value = [], [], ""
    if valued:
        _, valued_lines, valued_results, value, _ = write(True, *counted(True))
    setup = _setup(program, variables, bodies, spelling, sizes_key)
    fused = (*unscaled_request(program, where, statements, _needed_by(
        result_nodes, where, body_of), result_nodes, None)[:2], program.variables) if blocks else ()
    return Written(program, group, spelling, taken, setup, sizes_key, prepared_key,
                   prepare_lines, [f"_h{i}" for i in range(1, len(chosen) + 1)], lines,
                   results, valued_lines, valued_results, value, blocks, step[3] if step else (),
                   fused)


def _lines(writer: Writer, kept: list[tuple[str, Node]], results_of: list[Node],
           value_of: list[Node]) -> tuple[list[str], list[str], str]:
    """The lines computing the statements, then the code of the results and of the value."""
    lines: list[str] = []

    def code(node: Node) -> str:  # a node's code, the lines it needs added
        text = writer.value(node)
        lines.extend(writer.lines)
        writer.lines = []
        return text

    for name, body in kept:
        lines.append(f"{identifier(name)} = {code(body)}")
        writer.names.setdefault(body, identifier(name))  # met again: reused
    results, value = [code(r) for r in results_of], code(value_of[0]) if value_of else ""
    return reuse_dead_arrays(lines, [*results, value], writer.allocations), results, value


def _statements(group: list[Result], program: Program, where: dict[str, Node],
                body_of: Callable[[str], Node | None], value_node: Node | None, hoist: bool
                ) -> tuple[set[str], list[tuple[str, Node]], list[Node]]:
    """The names the results need, the definitions computed ((name, body), constant work
    moved where ``hoist``), and the results' nodes (moved the same way)."""
    result_nodes = [d.code_node for d in group]
    roots = result_nodes + list(where.values()) + ([value_node] if value_node else [])
    needed = _needed_by(roots, {}, body_of)
    statements = [(n, d.body) for n, d in program.definitions.items() if n in needed]
    statements += list(where.items())
    statements = [(n, with_diagonals(b)) for n, b in statements]
    result_nodes = [with_diagonals(r) for r in result_nodes]
    if hoist:
        moves = mover(program, where, {name for d in group for name in d.names})
        statements = [(n, regrouped(b, moves)) for n, b in statements]
        result_nodes = [regrouped(r, moves) for r in result_nodes]
    return needed, statements, result_nodes


def _prepare_lines(chosen: list[Node], prepare_writer: Writer, writer: Writer,
                   prepared_key: str) -> list[str]:
    """The lines of ``prepare``, computing the chosen nodes; ``writer`` reads them from the
    prepared dict from then on."""
    lines: list[str] = []
    for index, node in enumerate(chosen, 1):
        key = f"_h{index}"
        text = prepare_writer.names.get(node) or prepare_writer.expression(node)
        lines += prepare_writer.lines
        prepare_writer.lines = []
        lines.append(f"{key} = {text}")
        prepare_writer.names[node] = key
        writer.names[node] = f"{prepared_key}[{key!r}]"
    return lines


def _group_of(derivatives: Result | Sequence[Result]) -> tuple[list[Result], Program,
                                                              dict[str, Node]]:
    """The results as a list, their problem and their where-definitions."""
    group = [derivatives] if isinstance(derivatives, Result) else list(derivatives)
    if not group:
        raise UnsupportedError("nothing to generate code for")
    program = group[0].program
    where: dict[str, Node] = {}
    for derivative in group:
        if derivative.program is not program:
            raise UnsupportedError("the results must come from one problem")
        where.update(derivative.where)
    return group, program, where


def _needed_by(roots: list[Node], where: dict[str, Node],
               body_of: Callable[[str], Node | None]) -> set[str]:
    needed: set[str] = set()
    for root in roots:
        needed |= dependencies(root, lambda item: body_of(item) or ZERO)
    for name, body in where.items():  # a delta is needed when a needed statement names it
        if name in needed:
            needed |= dependencies(body, lambda item: body_of(item) or ZERO)
    return needed





def _setup(program: Program, variables: list[str], bodies: list[Node], spelling: Backend,
           sizes_key: str) -> list[str]:
    """Arguments to arrays of the internal layout (vectors as columns), the sizes, the dtype."""
    arrays, scalars = [], []
    for variable in variables:
        kind = program.variables[variable].kind
        python_name = identifier(variable)
        axes = (str(len(program.variables[variable].shape.dims)),) * (kind is Kind.TENSOR)
        line = f"{python_name} = " + spelling(f"{kind.name.lower()} argument", python_name,
                                              repr(variable), *axes)
        (scalars if kind is Kind.SCALAR else arrays).append(line)
    sizes = sizes_shown(program, variables)
    used = used_dims(bodies)
    size_lines = [f"{size_name(s)} = {sizes[s]}" for s in sorted(sizes)]
    size_lines += [f"{size_name(s)} = _given_size({sizes_key}, {s!r})"
                   for s in sorted(used - set(sizes))]
    names = [identifier(v) for v in variables if program.variables[v].kind is not Kind.SCALAR]
    # labels (integers) and masks are data: they take no part in the floating dtype
    floating = [identifier(v) for v in variables if program.variables[v].kind is not Kind.SCALAR
                and not never_differentiated(program.attributes(v))] or names
    dtype = spelling("dtype", ", ".join(floating), names[0]) if names else spelling("no arrays")
    return arrays + size_lines + dtype.splitlines() + scalars


def _module(code: Written, name: str, prepare_name: str = "prepare", fused: bool = False) -> str:
    program, group, spelling = code.program, code.group, code.spelling
    parameters = ", ".join(code.parameters)
    keys = result_keys(group)
    kinds = sorted({d.kind for d in group})
    title = f"{'/'.join(kinds)} of {group[0].of} with respect to " \
            f"{', '.join(dict.fromkeys(name for d in group for name in d.names))}"
    shapes = "\n".join(f"    {key!r}: {d.type}" for key, d in zip(keys, group, strict=True))
    declarations = "\n".join(
        f"    {v} : {describe(program.variables[v].kind, program.variables[v].shape)}"
        for v in program.variables)
    extra = f", {code.sizes_keyword}=None" if code.sizes_keyword else ""
    passed_sizes = f", {code.sizes_keyword}={code.sizes_keyword}" if code.sizes_keyword else ""
    prepare_text = ""
    if code.prepare_lines:
        prepare_body = "\n".join(code.setup + code.prepare_lines)
        prepare_text = (f"def {prepare_name}({parameters}{extra}):\n"
                        f'    """What {name} needs that does not depend on '
                        f"{', '.join(sorted({n for d in group for n in d.names}))}: "
                        f"compute it once, pass it as {code.prepared_keyword}=.\"\"\"\n"
                        + textwrap.indent(prepare_body, "    ")
                        + "\n    return {" + ", ".join(f"{k!r}: {k}" for k in code.prepare_keys)
                        + "}\n\n\n")
    call_prepare = ""
    if code.prepare_lines:
        call_prepare = (f"if {code.prepared_keyword} is None:\n    {code.prepared_keyword} = "
                        f"_{prepare_name}({parameters}{passed_sizes})\n")
        prepare_text += f"_{prepare_name} = {prepare_name}\n\n\n"
    prepared = f", {code.prepared_keyword}=None" if code.prepare_lines else ""
    signature = f"({parameters}{extra}{prepared})"

    def function(function_name: str, doc: str, lines: list[str], results: list[str],
                 value: str = "", arguments: str = signature) -> str:
        outputs = []
        for key, derivative, text in zip(keys, group, results, strict=True):
            outputs.append(f"    {key!r}: {spelling(_layout(derivative.result.kind), text)},")
        returned = "{\n" + "\n".join(outputs) + "\n    }"
        if value:
            returned = f"{spelling('scalar result', value)}, {returned}"
        rest = call_prepare + "\n".join(lines)
        body = "\n".join(used_setup(code.setup, rest + returned)) + "\n" + rest
        return (f"def {function_name}{arguments}:\n    \"\"\"{doc}\"\"\"\n"
                + textwrap.indent(body, "    ") + "\n    return " + returned + "\n")

    functions = function(name, f"{title}.", code.lines, code.results)
    if code.row_blocks and not code.sizes_keyword:  # the same code over blocks of rows
        rows = function(f"_{name}_rows", f"{title}, for a block of rows (into _into's "
                        "arrays where given).", written_into(code.lines, keys, code.results,
                                                             group), code.results,
                        arguments=f"({parameters}, _into)")
        functions = in_blocks(name, signature, f"{title}.", code.parameters,
                              [identifier(v) for v in code.row_blocks])
        if fused:  # a fused kernel, the NumPy code where numba is not installed
            functions = fused_functions(name, signature, title, code.setup, [
                (key, spelling(_layout(d.result.kind), "{0}")) for key, d in zip(
                    keys, group, strict=True)], code.fused, functions)
        functions += rows
    if code.value:
        # the loss with its gradients, sharing the forward pass (what a training loop needs)
        functions = function(f"value_and_{name}", f"{group[0].of} and its {title}, computed "
                             "together.", code.valued_lines, code.valued_results, code.value) \
            + "\n\n" + functions
    return (f'"""{title}: code generated by matcalc.\n\nProblem:\n{declarations}\n\n'
            f'Results ({name} returns a dict by key'
            + (f"; value_and_{name}, the function's value and that dict" if code.value else "")
            + f'):\n{shapes}\n\n'
            'Vectors are 1-D arrays, matrices 2-D, scalars numbers; float32 stays float32.\n'
            '"""\n\n' + backend_header(FUSED if fused else spelling.name) + "\n\n" + prepare_text
            + functions)


def _layout(kind: Kind) -> str:
    """The backend's operation returning a result of this kind in the user's layout."""
    return {Kind.SCALAR: "scalar result", Kind.VECTOR: "vector result"}.get(kind, "matrix result")




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
        source = _module(written(list(group), True, writing_backend(backend)), name,
                         prepare_name, backend == FUSED)
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
    # registered as imported: tools that look a function's module up by name (torch.compile's
    # tracer) find it
    sys.modules[name] = module
    exec(code, module.__dict__)  # our own generated code, see the docstring
    if len(_MODULES) > 512:
        for known in _MODULES.values():
            sys.modules.pop(known.__name__, None)
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
    code = written(group, hoist)
    source = _module(code, "gradient")
    function = load(source).gradient
    passed_sizes = code.sizes_keyword

    variables = group[0].program.variables
    renamed = {name: identifier(name) for name in variables}
    sizes_key = sizes_keyword(variables)

    def call(**keywords):
        sizes = keywords.pop(sizes_key, None)
        arrays = {renamed.get(name, name): value for name, value in keywords.items()}
        if passed_sizes:
            return function(**{passed_sizes: sizes or {}}, **arrays)
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

