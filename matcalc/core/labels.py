"""Variables that are data: masks (``mask``: entries 0 and 1), class labels ``y : labels(N,
k)`` (an integer vector of N labels in 0..k-1) and integers (``k : integer``, a matrix power's
exponent).

A labels variable is a vector variable carrying the attribute ``labels`` and the number of
classes as the attribute ``classes:k`` (a dimension name or a positive integer).  It is never
differentiated; ``onehot(y)`` and ``pick(P, y)`` (``matcalc/ops/labels.py``) take it.
"""

from __future__ import annotations

from ..errors import UnsupportedError
from .constants import is_whole
from .ir import Node
from .shapes import Dim, Kind, dim

LABELS = "labels"
MASK = "mask"  # entries 0 and 1: the first argument of where(C, A, B)
_CLASSES = "classes:"


def labels_attributes(classes: Dim) -> frozenset[str]:
    """The attributes of a variable declared ``labels(N, classes)``; the number of classes is
    a dimension name or a positive integer."""
    if not (classes.is_symbol or classes.is_number):
        raise UnsupportedError(f"the number of classes of labels is a name or a number, "
                               f"not {classes}")
    return frozenset({LABELS, f"{_CLASSES}{classes}"})


def is_labels(node: Node) -> bool:
    """Whether ``node`` is a variable declared as class labels."""
    return node.op == "var" and LABELS in node.params[1]


def never_differentiated(attributes: frozenset[str]) -> bool:
    """Whether a variable with these attributes is data only (an integer exponent, labels, a
    mask)."""
    return bool({"integer", LABELS, MASK} & attributes)


def data_only(node: Node) -> str:
    """What makes a variable data that is never differentiated ('' when it is not)."""
    if is_labels(node):
        return "labels (integers); labels are data"
    if node.op == "var" and MASK in node.params[1]:
        return "a mask (entries 0 and 1); a mask is data"
    return ""


def integer_valued(node: Node) -> bool:
    """An expression of integer variables and whole numbers with + - * (``k``, ``k - 1``)."""
    if node.op == "var":
        return "integer" in node.params[1]
    if node.op == "const":
        return is_whole(node.params[0])
    if node.op == "dimval":
        return True
    return node.op in ("add", "sub", "mul", "neg") and all(integer_valued(arg)
                                                          for arg in node.args)


def classes(node: Node) -> Dim:
    """The number of classes of a labels variable."""
    for attribute in node.params[1]:
        if attribute.startswith(_CLASSES):
            text = attribute[len(_CLASSES):]
            return dim(int(text)) if text.isdigit() else dim(text)
    raise ValueError(f"{node} is not declared as labels")


def shown_attributes(attributes: frozenset[str]) -> list[str]:
    """The attributes a declaration shows after its type (the classes are in the type)."""
    return sorted(a for a in attributes if a != LABELS and not a.startswith(_CLASSES))


def describe_labels(node: Node) -> str:
    """The type as declared: ``labels(N, k)``, ``labels(B, T, k)`` (a grid of labels)."""
    grid = f", {node.shape.cols}" if node.kind is Kind.MATRIX else ""
    return f"labels({node.shape.rows}{grid}, {classes(node)})"
