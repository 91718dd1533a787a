"""Print IR nodes in the input language, with the fewest parentheses that parse back the same."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from . import registry
from .broadcast import axis_mean, down_columns, shown_operands, summed_rows
from .constants import ATOM, PRODUCT, exact, is_whole
from .registry import ATOM as _ATOM
from .registry import FROB as _FROB
from .registry import POSTFIX as _POSTFIX
from .registry import POWER as _POWER
from .registry import PRODUCT as _PRODUCT
from .registry import SUM as _SUM
from .registry import UNARY as _UNARY
from .shapes import Dim, Kind

if TYPE_CHECKING:
    from .expression import Expression as Node  # what it reads of core/ir.py's Node

# the infix operators of sums and products, (symbol, binding strength) by operation: the
# registry's syntax view (binding strengths mirror grammar.lark)
_BINARY = {name: (syntax.symbol, syntax.level) for name, syntax in registry.view("syntax").items()
           if syntax.symbol and syntax.level in (_SUM, _FROB, _PRODUCT)}


# operations whose parameters (an axis, a length) are written after their operands
_AXIS_PARAMETERS = frozenset({"axis_sum", "expand"})


def format_number(value: float) -> str:
    """A number as the language writes it: ``2``, ``0.5``, ``1e-12``."""
    if math.isinf(value):  # only a branch of where(C, A, -inf)
        return "-inf" if value < 0 else "inf"
    if is_whole(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def format_dim(d: Dim) -> str:
    """A dimension as a function argument: ``n``, ``3``, ``m*n``."""
    return str(d)


def to_text(node: Node) -> str:
    """The node in the input language."""
    return _print(node)[0]


def _wrap(printed: tuple[str, int], minimum: int) -> str:
    text, level = printed
    return text if level >= minimum else f"({text})"


def operation_text(op: str, left_node: Node, right_node: Node) -> str:
    """``left op right`` for a binary operation, with the brackets it needs to parse back as
    that operation (also for messages about one whose shapes do not fit)."""
    symbol, level = _BINARY[op]
    left_node, right_node = shown_operands(op, left_node, right_node)  # X - mu', broadcast
    if level == _PRODUCT and left_node.op in _BINARY and left_node.op != op and \
            _BINARY[left_node.op][1] == _PRODUCT and not _scaled_factor(op, left_node) and \
            not _associates(op, left_node, right_node) and axis_mean(left_node) is None:
        # (U' @ d) * step(z): brackets where @, * and / meet, though precedence allows none
        left = f"({_print(left_node)[0]})"
    else:
        left = _wrap(_sized(left_node, right_node, op), level)
    right = _wrap(_sized(right_node, left_node, op), level + 1)
    return f"{left} {symbol} {right}"


def _sized(node: Node, other: Node, op: str) -> tuple[str, int]:
    """An identity added to (or subtracted from) a matrix, scaled or divided by a scalar or not,
    written bare (``lam * I + H``, ``I - x @ x' / f``): the reader sizes a bare I by the other
    operand, so it reads back as the same identity."""
    if op not in ("add", "sub") or other.is_scalar or other.kind is not Kind.MATRIX:
        return _print(node)
    if node.op == "identity":
        return "I", _ATOM
    if node.op in ("mul", "div") and node.args[0].op == "identity" and node.args[1].is_scalar:
        return f"I {_BINARY[node.op][0]} {_wrap(_print(node.args[1]), _PRODUCT + 1)}", _PRODUCT
    if node.op == "mul" and node.args[1].op == "identity" and node.args[0].is_scalar:
        return f"{_wrap(_print(node.args[0]), _PRODUCT)} * I", _PRODUCT
    return _print(node)


def _associates(op: str, left_node: Node, right_node: Node) -> bool:
    """Whether ``(a op1 b) op c`` has the value of ``a op1 (b op c)``, so that a reader needs
    no brackets: a product divided (a * b / c), or a matrix product scaled or divided by a
    scalar (A @ x / q)."""
    if op != "div" and not (op == "mul" and right_node.is_scalar):
        return False
    return left_node.op == "mul" or (left_node.op == "matmul" and right_node.is_scalar)


def _scaled_factor(op: str, left_node: Node) -> bool:
    """c * A as the first factor of a product, written 2 * A @ X as papers do."""
    return op == "matmul" and left_node.op == "mul" and left_node.args[0].is_scalar and \
        not left_node.args[1].is_scalar and left_node.args[0].op in ("const", "var", "ref",
                                                                     "dimval")


def _print(node: Node) -> tuple[str, int]:
    op = node.op
    if op in ("var", "ref"):
        return node.params[0], _ATOM
    if op == "const":
        value = node.params[0]
        written = exact(value)  # 1/2, 1 / sqrt(2 * pi)
        if written is not None:
            level = {PRODUCT: _PRODUCT, ATOM: _ATOM}.get(written.binds, _UNARY)
            return written.text, level
        return (format_number(value), _UNARY if value < 0 else _ATOM)
    if op == "dimval":
        d = node.params[0]
        level = _ATOM if d.is_number or d.is_symbol else _PRODUCT if d.is_monomial else _SUM
        return format_dim(d), level
    if op == "identity":
        return f"I({format_dim(node.params[0])})", _ATOM
    if op in ("ones", "zeros"):
        rows, cols = node.params[:2]
        if node.kind is Kind.TENSOR:
            return f"{op}({', '.join(format_dim(d) for d in node.shape.dims)})", _ATOM
        if node.kind is Kind.VECTOR:
            return f"{op}({format_dim(rows)})", _ATOM
        return f"{op}({format_dim(rows)}, {format_dim(cols)})", _ATOM
    if op == "unvec":
        rows, cols = node.params
        return f"unvec({_print(node.args[0])[0]}, {format_dim(rows)}, {format_dim(cols)})", _ATOM
    if op == "commutation":
        m, n = node.params
        return f"commutation({format_dim(m)}, {format_dim(n)})", _ATOM
    mean = axis_mean(node)
    if mean is not None:  # (X @ ones(m)) / m
        return f"mean({_print(mean[0])[0]}, {mean[1]})", _ATOM
    summed = summed_rows(node)
    if summed is not None:  # sum(Y, 0)' @ ones(T): the rows of every batch entry summed
        return f"sum({_print(summed)[0]}, 0)'", _POSTFIX
    if op in _BINARY:
        return operation_text(op, *node.args), _BINARY[op][1]
    if op == "neg":
        return "-" + _wrap(_print(node.args[0]), _UNARY), _UNARY
    columns = down_columns(node)
    if columns is not None:  # softmax(X')'
        return f"{columns[0]}({_print(columns[1])[0]}, 0)", _ATOM
    if op == "transpose":
        return _wrap(_print(node.args[0]), _POSTFIX) + "'", _POSTFIX
    if op == "trpowk":  # tr(X ^ k), read back as this one operation
        base = _wrap(_print(node.args[0]), _POWER)
        exponent_text, level = _print(node.args[1])
        if node.args[1].op == "const":
            exponent_text = format_number(node.args[1].params[0])
        exponent = exponent_text if level >= _POSTFIX or node.args[1].op == "const" else \
            f"({exponent_text})"
        return f"tr({base} ^ {exponent})", _ATOM
    if op in ("pow", "mpow", "mpowk"):
        base = _wrap(_print(node.args[0]), _POWER)
        if op == "mpow":
            exponent = str(node.params[0])
        else:
            exponent_text, level = _print(node.args[1])
            if node.args[1].op == "const":  # x .^ -1.5, as books write an exponent
                exponent_text, level = format_number(node.args[1].params[0]), _ATOM
            exponent = exponent_text if level >= _POSTFIX or (
                node.args[1].op == "const") else f"({exponent_text})"
        symbol = "^" if node.args[0].is_scalar or op in ("mpow", "mpowk") else ".^"
        return f"{base} {symbol} {exponent}", _POWER
    if op == "einsum":  # its spec first, in quotes
        arguments = ", ".join(_print(arg)[0] for arg in node.args)
        return f'einsum("{node.params[0]}", {arguments})', _ATOM
    syntax = registry.operation(op).syntax
    written = [_print(arg)[0] for arg in node.args] + written_params(node, syntax) + \
        [str(p) for p in node.params if op in _AXIS_PARAMETERS]
    return f"{syntax.name if syntax else op}({', '.join(written)})", _ATOM


def written_params(node: Node, syntax: registry.Syntax | None) -> list[str]:
    """The whole-number parameters written after the operands: ``tril(X, -1)``, ``max(X, 1)``
    (one equal to its default left out, with those after it)."""
    if syntax is None or not syntax.params:
        return []
    written = [str(value) for value, default in zip(node.params, syntax.params, strict=True)]
    while written and syntax.params[len(written) - 1] is not None and \
            node.params[len(written) - 1] == syntax.params[len(written) - 1]:
        written.pop()
    return written
