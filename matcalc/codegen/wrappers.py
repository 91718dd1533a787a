"""Derived gradients as the backward passes of training code: a ``torch.autograd.Function``
with an ``nn.Module`` around it, and a ``jax.custom_vjp`` function.

Both take the problem's variables in declaration order and return the function's value. The
code of ``value_and_gradient`` (:func:`matcalc.codegen.module.written`) is cut in two by what
each line needs: the forward pass computes the lines the value needs and saves what the rest
reads; the backward pass computes the rest and scales the closed-form gradients by the incoming
cotangent.  Differentiating through a variable that was not differentiated raises an error in
the forward pass (PyTorch: ``ctx.needs_input_grad``; JAX: the perturbed primals of
``symbolic_zeros``) rather than return a wrong zero.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Sequence

from ..core.shapes import Kind
from ..engine.result import Result
from ..errors import UnsupportedError
from .backends import only_used_helpers
from .module import Written, written
from .names import identifier

# what is not an array: kept on the context (PyTorch) or closed over as Python values
_PLAIN = ("_size_", "_shape_", "_dtype", "_device")


def _assigned(line: str) -> tuple[set[str], set[str]]:
    """The names a line of generated code assigns and the names it reads."""
    tree = ast.parse(line)
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and
              isinstance(n.ctx, ast.Store)}
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and
              isinstance(n.ctx, ast.Load)}
    return stored, loaded


def _reads(text: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}


def _split(code: Written, also: set[str]) -> tuple[list[str], list[str], list[str]]:
    """(forward lines, backward lines, the names the backward pass reads from the forward's,
    which include ``also`` where the forward pass defines them)."""
    read = set(_reads(code.value)).union(*(_reads(line) for line in code.valued_lines),
                                         *(_reads(text) for text in code.valued_results))
    # a size nothing reads is not computed (each line is a cost on every call)
    setup = [line for line in code.setup
             if not line.startswith("_size_") or line.split(" = ")[0] in read]
    lines = setup + code.valued_lines
    assigned = [_assigned(line) for line in lines]
    wanted = _reads(code.value)
    forward = [False] * len(lines)
    for index in range(len(lines) - 1, -1, -1):
        stored, loaded = assigned[index]
        if stored & wanted or index < len(setup):
            forward[index] = True
            wanted |= loaded
    wanted = set(also).union(*(_reads(text) for text in code.valued_results))
    backward = [False] * len(lines)
    for index in range(len(lines) - 1, -1, -1):
        stored, loaded = assigned[index]
        if stored & wanted and not forward[index]:
            backward[index] = True
            wanted |= loaded
    defined_forward = set(code.parameters).union(
        *(assigned[i][0] for i in range(len(lines)) if forward[i]))
    saved = sorted(wanted & defined_forward)
    return ([line for line, f in zip(lines, forward, strict=True) if f],
            [line for line, b in zip(lines, backward, strict=True) if b], saved)


def _results_in_layout(code: Written) -> list[tuple[str, str | None, bool]]:
    """(variable, its gradient's code or None, whether that code is already times the
    incoming gradient) for each variable."""
    by_variable = {}
    seeded = code.seeded or (False,) * len(code.group)
    for derivative, text, scaled in zip(code.group, code.valued_results, seeded, strict=True):
        by_variable[derivative.names[0]] = text, scaled
    return [(variable, *by_variable.get(variable, (None, False)))
            for variable in code.program.variables]


def _seeded(text: str) -> str | None:
    """``text`` times the incoming gradient ``_grad`` with the product applied where it costs
    least, or None: ``A @ B`` (``(A @ B) / s``) as ``_seeded_product(_grad, A, B)``, which
    scales the smaller of A, B and A @ B (the gradient of a weight matrix is an outer product
    of two vectors: scaling a vector is far cheaper than another pass over the matrix)."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Div):
        inner = _seeded(ast.unparse(tree.left))
        return f"({inner} / {ast.unparse(tree.right)})" if inner else None
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.MatMult):
        return f"_seeded_product(_grad, {ast.unparse(tree.left)}, {ast.unparse(tree.right)})"
    return None


# operations whose code makes a new tensor (never a view of an input or of a held value)
_ALLOCATING = frozenset({"matmul", "add", "sub", "mul", "div", "neg"})


def _fresh_results(code: Written) -> set[str]:
    """The variables whose gradient's code computes a new tensor, which the backward pass may
    scale by the incoming gradient in place: a product's result scaled afresh is another pass
    over memory as large as the result (most of a small step's time for a weight matrix).  The
    code must be an operation itself: ``_t1.T`` (a kept forward product, transposed) is a view
    of a saved tensor, which scaling in place would spoil."""
    return {derivative.names[0] for derivative, text in zip(code.group, code.valued_results,
                                                           strict=True)
            if derivative.result.op in _ALLOCATING and _operation(text)}


def _operation(text: str) -> bool:
    """Whether code computes a new array: arithmetic, or a chain's multi_dot."""
    tree = ast.parse(text, mode="eval").body
    return isinstance(tree, (ast.BinOp, ast.UnaryOp)) or isinstance(tree, ast.Call) and \
        ast.unparse(tree.func).endswith("multi_dot")


def _groups(groups: Sequence[Sequence[Result]]) -> list[list[Result]]:
    gradients = [list(g) for g in groups if all(d.kind == "grad" for d in g)]
    if not gradients:
        raise UnsupportedError("a training-code format needs the gradient of a scalar function "
                               "(derive with --kind grad)")
    return gradients


def _class_name(of: str, suffix: str, taken: set[str]) -> str:
    name = f"{of[:1].upper()}{of[1:]}{suffix}"
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def torch_function(groups: Sequence[Sequence[Result]]) -> str:
    """A module with, for each gradient request, a ``torch.autograd.Function`` subclass whose
    backward is the derived gradient and an ``nn.Module`` whose parameters are the variables
    differentiated."""
    parts, taken = [], set()
    header = ""
    for group in _groups(groups):
        code = written(group, hoist=False, backend_name="torch", seed=True)
        header = code.spelling.header
        parts.append(_torch_classes(code, taken))
    return only_used_helpers(_docstring(groups, "PyTorch") + header + "\n\n" +
                             "\n\n".join(parts), header)


def _docstring(groups: Sequence[Sequence[Result]], library: str) -> str:
    first = list(groups[0])[0]
    return (f'"""{library} training code generated by matcalc for {first.of}: the forward pass '
            "computes the\nvalue, the backward pass the derived closed-form gradient.\n"
            '"""\n\n')


def _torch_classes(code: Written, taken: set[str]) -> str:
    of = code.group[0].of
    function_name = _class_name(of, "Function", taken)
    module_name = _class_name(of, "Module", taken)
    forward, backward, saved = _split(code, {"_dtype", "_device"})
    parameters = code.parameters
    variables = list(code.program.variables)
    differentiated = [v for v in variables if any(v in d.names for d in code.group)]
    fixed = [(i, v) for i, v in enumerate(variables) if v not in differentiated]
    tensors = [n for n in saved if not n.startswith(_PLAIN)]
    plain = [n for n in saved if n.startswith(_PLAIN)]
    shapes = [f"_shape_{identifier(v)} = {identifier(v)}.shape" for v in differentiated
              if code.program.variables[v].kind is not Kind.SCALAR]
    plain += [line.split(" = ")[0] for line in shapes]
    check = ""
    if fixed:
        check = ("_refuse_differentiating(ctx.needs_input_grad, "
                 f"{tuple(i for i, _ in fixed)!r}, {tuple(v for _, v in fixed)!r}, "
                 f"{tuple(differentiated)!r})\n")
    forward_body = (check + "\n".join(shapes + forward)
                    + f"\nctx.save_for_backward({_tuple(tensors)})"
                    + "".join(f"\nctx.{name} = {name}" for name in plain)
                    + f"\nreturn {code.spelling('scalar result', code.value)}")
    restored = f"{_tuple(tensors)} = ctx.saved_tensors\n" if tensors else ""
    restored += "".join(f"{name} = ctx.{name}\n" for name in plain)
    returned = []
    fresh = _fresh_results(code)
    for variable, text, scaled in _results_in_layout(code):
        if text is None:
            returned.append("None")
            continue
        python_name = identifier(variable)
        kind = code.program.variables[variable].kind
        shape = "()" if kind is Kind.SCALAR else f"_shape_{python_name}"
        seeded = None if scaled else _seeded(text)
        result = f"_result({seeded or text}, _dtype, _device, {shape})"
        if not seeded and not scaled:
            result = f"{result}.mul_(_grad)" if variable in fresh else f"_grad * {result}"
        returned.append(result)
    backward_body = restored + "\n".join(backward) + "\nreturn " + _returned(returned)
    arguments = ", ".join(parameters)
    module_parameters = [identifier(v) for v in differentiated]
    inputs = [identifier(v) for v in variables if v not in differentiated]
    passed = ", ".join(f"self.{p}" if v in differentiated else p
                       for v, p in zip(variables, parameters, strict=True))
    init_body = "super().__init__()\n" + "".join(
        f"self.{p} = _torch.nn.Parameter(_torch.as_tensor({p}))\n" for p in module_parameters)
    return (
        f"class {function_name}(_torch.autograd.Function):\n"
        f'    """{of}({arguments}) with the closed-form gradient with respect to '
        f'{", ".join(differentiated)} as its backward pass."""\n\n'
        "    @staticmethod\n"
        f"    def forward(ctx, {arguments}):\n"
        + textwrap.indent(forward_body, " " * 8) + "\n\n"
        "    @staticmethod\n"
        "    @_once_differentiable\n"
        "    def backward(ctx, _grad):\n"
        + textwrap.indent(backward_body, " " * 8) + "\n\n\n"
        f"_{function_name} = {function_name}\n\n\n"
        f"class {module_name}(_torch.nn.Module):\n"
        f'    """{of} as a module: the parameters {", ".join(module_parameters)} (their initial '
        f'values given),\n    the other variables ({", ".join(inputs) or "none"}) passed to '
        'forward."""\n\n'
        f"    def __init__(self, {', '.join(module_parameters)}):\n"
        + textwrap.indent(init_body, " " * 8) + "\n"
        f"    def forward(self{''.join(', ' + i for i in inputs)}):\n"
        f"        return _{function_name}.apply({passed})\n")




def _returned(items: list[str]) -> str:
    """A tuple of cotangents, one a line when they do not fit on one."""
    text = _tuple(items)
    if len(text) < 70:
        return text
    return "(\n" + "".join(f"    {item},\n" for item in items) + ")"


def _tuple(items: list[str]) -> str:
    return ", ".join(items) + ("," if len(items) == 1 else "")


def jax_vjp(groups: Sequence[Sequence[Result]]) -> str:
    """A module with, for each gradient request, a ``jax.custom_vjp`` function of the problem's
    variables whose backward pass is the derived gradient."""
    parts, taken = [], set()
    header = ""
    for group in _groups(groups):
        code = written(group, hoist=False, backend_name="jax")
        header = code.spelling.header
        parts.append(_jax_function(code, taken))
    return only_used_helpers(_docstring(groups, "JAX") + header + "\n\n" + "\n\n".join(parts),
                             header)


def _jax_function(code: Written, taken: set[str]) -> str:
    of = code.group[0].of
    name = of if of not in taken and identifier(of) == of else _class_name(of, "_vjp", taken)
    taken.add(name)
    forward, backward, saved = _split(code, {"_dtype"})
    parameters = code.parameters
    variables = list(code.program.variables)
    differentiated = [v for v in variables if any(v in d.names for d in code.group)]
    fixed = [(i, v) for i, v in enumerate(variables) if v not in differentiated]
    shapes = [f"_shape_{identifier(v)} = _np.shape({identifier(v)})" for v in differentiated]
    # residuals are arrays: the sizes, shapes and dtype are read again off the primals
    arrays = [n for n in saved if not n.startswith(_PLAIN)]
    arguments = ", ".join(parameters)
    unwrap = f"{_tuple(parameters)} = _primal_values({arguments})\n"
    check = ""
    if fixed:
        check = (f"_refuse_differentiating(({arguments},), {tuple(i for i, _ in fixed)!r}, "
                 f"{tuple(v for _, v in fixed)!r}, {tuple(differentiated)!r})\n")
    forward_body = (check + unwrap + f"_primals = ({_tuple(parameters)})\n"
                    + "\n".join(forward)
                    + f"\nreturn {code.spelling('scalar result', code.value)}, "
                    f"(({_tuple(arrays)}), _primals)")
    restored = (f"_arrays, _primals = _saved\n{_tuple(parameters)} = _primals\n"
                + "\n".join(shapes + code.setup) + "\n"
                + (f"{_tuple(arrays)} = _arrays\n" if arrays else ""))
    returned = []
    for variable, text, _ in _results_in_layout(code):
        if text is None:
            returned.append("None")
            continue
        seeded = _seeded(text)
        returned.append(f"{'' if seeded else '_grad * '}_np.reshape(_np.asarray("
                        f"{seeded or text}, dtype=_dtype), _shape_{identifier(variable)})")
    backward_body = restored + "\n".join(backward) + "\nreturn " + _returned(returned)
    value_body = "\n".join(forward) + \
        f"\nreturn {code.spelling('scalar result', code.value)}"
    return (
        "@_jax.custom_vjp\n"
        f"def {name}({arguments}):\n"
        f'    """{of}({arguments}); its gradient with respect to {", ".join(differentiated)} '
        'is the derived closed form."""\n'
        + textwrap.indent(value_body, "    ") + "\n\n\n"
        f"def _{name}_forward({arguments}):\n"
        + textwrap.indent(forward_body, "    ") + "\n\n\n"
        f"def _{name}_backward(_saved, _grad):\n"
        + textwrap.indent(backward_body, "    ") + "\n\n\n"
        f"{name}.defvjp(_{name}_forward, _{name}_backward, symbolic_zeros=True)\n")


FORMATS = ("numpy", "jax", "torch", "numba", "torch-function", "jax-vjp")


def formatted(group: Sequence[Result], code_format: str = "numpy", name: str = "gradient",
              hoist: bool = True) -> str:
    """The source of ``group``'s results in a code format: a module of functions over NumPy,
    JAX or PyTorch, or NumPy with fused kernels (``numba``;
    :func:`matcalc.codegen.module.generate`), or training code (``torch-function``,
    ``jax-vjp``)."""
    from .module import generate

    if code_format == "torch-function":
        return torch_function([group])
    if code_format == "jax-vjp":
        return jax_vjp([group])
    if code_format not in FORMATS:
        raise UnsupportedError(f"unknown code format {code_format!r}; formats are "
                               f"{', '.join(FORMATS)}")
    return generate(list(group), name, hoist, backend=code_format)
