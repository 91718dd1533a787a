"""The operation registry: every operation is defined once, in matcalc/ops/, with every facet.

Each facet is the one thing every stage reads (core/registry.py): a missing one would show
only when some stage met the operation at run time, so this test fails first.
"""

from __future__ import annotations

import pytest

from matcalc.core import registry
from matcalc.core.registry import FACETS, Code, Latex, Syntax, operations


def _missing(name: str) -> list[str]:
    op = operations()[name]
    return [facet for facet in FACETS if getattr(op, facet) is None]


@pytest.mark.parametrize("name", sorted(operations()))
def test_every_operation_has_every_facet(name):
    assert _missing(name) == [], f"{name} lacks {', '.join(_missing(name))}"


@pytest.mark.parametrize("name", sorted(operations()))
def test_every_facet_has_the_right_form(name):
    op = operations()[name]
    assert isinstance(op.syntax, Syntax) and op.syntax.name
    assert isinstance(op.latex, Latex)
    forms = [op.latex.command, op.latex.infix, op.latex.template, op.latex.power,
             op.latex.special]
    assert sum(bool(form) for form in forms) == 1, f"{name}: one LaTeX form, not {forms}"
    assert isinstance(op.code, Code) and op.code.numpy and op.code.torch
    fields = {"axis": 0, "keep": True, "cols": 1, "operands": "a0, a1",
              **{param: 1 for param in op.code.params}}
    for backend in ("numpy", "jax", "torch"):
        template = op.code.template(backend)
        assert template.format(*(f"a{i}" for i in range(op.arity)), **fields), (name, backend)
    assert len(op.adjoints) == op.arity
    assert op.cost in registry.COSTS
    assert op.scalar, "say what the operation is on a number"
    if op.latex.special:  # set by a method of its own
        from matcalc.present.latex import _Printer

        assert hasattr(_Printer, f"_{name}"), name
    assert callable(op.sympy) and callable(op.shape) and callable(op.differential)


def test_an_operation_is_defined_once():
    first = next(iter(operations().values()))
    with pytest.raises(ValueError, match="defined twice"):
        registry.register(first)


def test_views_hold_one_facet_of_every_operation_that_has_it():
    shapes = registry.view("shape")
    assert set(shapes) == set(operations())
    assert registry.view("code")["det"].numpy == "np.linalg.det({0})"
    with pytest.raises(ValueError, match="no facet"):
        registry.view("colour")


def test_the_helpers_a_template_names_are_runtime_helpers():
    from matcalc.codegen.backends import helper_source

    sources = {backend: helper_source(f"{backend}_helpers") + helper_source("common_helpers")
               for backend in ("numpy", "torch")}
    for name, code in registry.view("code").items():
        for helper in code.helpers:
            for backend, source in sources.items():
                assert f"def {helper}(" in source, (name, helper, backend)


def test_generated_code_inverts_a_number():
    # inv(a) of a scalar is 1 / a in generated code too (np.linalg.inv takes no 0-d array)
    import matcalc

    derivative = matcalc.derive("a : scalar positive; b : scalar\nF = b * inv(a)", wrt="b")
    assert derivative.numpy()(a=2.0, b=1.0) == 0.5
