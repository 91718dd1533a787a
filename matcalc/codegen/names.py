"""Names in generated code, chosen so that a user's name can never meet one of ours.

Every name the generated code itself uses inside a function starts with ``_``: the libraries
(``_np``, ``_torch``, ``_math``), the helpers (``_sigmoid``), temporaries (``_t1``), sizes
(``_size_n``), the dtype, and aliases of the module's own functions (``_prepare``).  So a user's
name is kept as it is (``T``, ``E``, ``np``, ``torch``, ``prepare``) unless it is a Python
keyword or builtin, starts with ``_`` or ends with ``_``: those get one more ``_`` at the end.  The
mapping is one to one (a name that ends with ``_`` always gets one more), and no mapped user
name starts with ``_`` without ending with one, as every name of ours does.  The keyword
parameters ``sizes=`` and ``prepared=`` take one more ``_`` while a variable has their name.
"""

from __future__ import annotations

import builtins
import keyword
from collections.abc import Iterable

from ..core.shapes import Dim

# Python's keywords, and its builtins, which code and templates call (float, int, round)
RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))


def identifier(name: str) -> str:
    """The Python name of the user's ``name`` in generated code."""
    if name in RESERVED or name.startswith("_") or name.endswith("_"):
        return f"{name}_"
    return name


def sizes_keyword(variables: Iterable[str], base: str = "sizes") -> str:
    """The keyword that passes dimension sizes (or, with ``base``, another keyword argument)
    to a generated function: ``sizes``, unless the problem has a variable of that name (then
    ``sizes_``, ``sizes__``, ...)."""
    taken = set(variables)
    name = base
    while name in taken:
        name += "_"
    return name


def internal(name: str) -> str:
    """A name of the generated code's own (``_size_n``), unable to meet a user's name."""
    return f"_{name}" + ("0" if name.endswith("_") else "")


def size_name(dimension: str) -> str:
    """The local variable holding the size of a dimension."""
    return internal(f"size_{dimension}")


def dim_code(d: Dim) -> str:
    """A dimension as Python arithmetic on the sizes: ``(_size_n - _size_k + 1)``."""
    terms = []
    for symbols, coefficient in d.terms:
        parts = [str(abs(coefficient))] if abs(coefficient) != 1 or not symbols else []
        parts += [size_name(symbol) for symbol in symbols]
        terms.append((" * ".join(parts), coefficient < 0))
    if not terms:
        return "0"
    text = ("-" if terms[0][1] else "") + terms[0][0]
    for term, negative in terms[1:]:
        text += f" {'-' if negative else '+'} {term}"
    return f"({text})" if len(terms) > 1 else text
