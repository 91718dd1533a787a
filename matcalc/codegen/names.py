"""Names in generated code, chosen so that a user's name can never meet one of ours.

A user's name is kept as it is unless it is reserved (a Python keyword or builtin, a name the
generated module itself uses, or one starting with ``prepare``, the prefix of its ``prepare``
functions), starts with ``_`` or ends with ``_``: those get one more ``_`` at the end.  The
mapping is one to one (a name that ends with ``_`` always gets one more), and the module's own
names (``_t1``, ``_size_n``, ``_dtype``, ``_sigmoid``, ``prepare_hessian``) are reserved or start
with ``_`` without ending with ``_``, which no mapped user name does.
"""

from __future__ import annotations

import builtins
import keyword
from collections.abc import Iterable

# names the generated module's callers or its own code use as they are
MODULE_NAMES = frozenset({"np", "torch", "jax", "prepare", "prepared", "sizes"})
RESERVED = MODULE_NAMES | frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | \
    frozenset(dir(builtins))


def identifier(name: str) -> str:
    """The Python name of the user's ``name`` in generated code."""
    if name in RESERVED or name.startswith(("_", "prepare")) or name.endswith("_"):
        return f"{name}_"
    return name


def sizes_keyword(variables: Iterable[str]) -> str:
    """The keyword that passes dimension sizes to a generated function's caller: ``sizes``,
    unless the problem has a variable of that name (then ``sizes_``, ``sizes__``, ...)."""
    taken = set(variables)
    keyword = "sizes"
    while keyword in taken:
        keyword += "_"
    return keyword


def internal(name: str) -> str:
    """A name of the generated code's own (``_size_n``), unable to meet a user's name."""
    return f"_{name}" + ("0" if name.endswith("_") else "")


def size_name(dimension: str) -> str:
    """The local variable holding the size of a dimension."""
    return internal(f"size_{dimension}")
