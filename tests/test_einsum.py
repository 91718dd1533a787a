"""einsum("ij,jk->ik", A, B): NumPy's einsum with an explicit output (ops/einsum.py).

Every derivative is compared with central finite differences of ``np.einsum`` itself (not of
matcalc's interpreter), at random points; the matrix forms are the textbook identities
(``ij,jk->ik`` = A B, ``ii->`` = tr A, ``ij,ij->`` = sum(A * B), ``ij->ji`` = A').
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

import matcalc
from matcalc.errors import ParseError, ShapeError, UnsupportedError
from matcalc.numeric.evaluate import evaluate
from tests.helpers import assert_generated_code_matches

DECLARE = ("A, B, C, D, E, F : matrix(n, n)\nX, Y : matrix(b, n)\nx, y, z : vector(n)\n"
           "u : vector(b)\nW : matrix(n, m)\n")
SIZES = {"n": 3, "m": 4, "b": 5}
SHAPES = {**{name: ("n", "n") for name in "ABCDEF"}, "X": ("b", "n"), "Y": ("b", "n"),
          "x": ("n",), "y": ("n",), "z": ("n",), "u": ("b",), "W": ("n", "m")}


def _point(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.normal(size=tuple(SIZES[d] for d in dims)) for name, dims in SHAPES.items()}


def _einsum_value(spec: str, names: str, arrays: dict) -> np.ndarray:
    return np.einsum(spec, *(arrays[name] for name in names.split(", ")))


# (spec, operands, the matrix form it prints as; "" where it has none and stays an einsum)
FORMS = [
    ("ij,jk->ik", "A, B", "A @ B"),  # matrix product
    ("ii->", "A", "tr(A)"),  # trace
    ("ij,ij->", "A, B", "sum(A * B)"),  # Hadamard and sum
    ("i,j->ij", "x, y", "x @ y'"),  # outer product
    ("ij->ji", "A", "A'"),  # transpose
    ("ij,jk,kl->il", "A, B, C", "A @ B @ C"),  # three operands
    ("i,ij,j->", "x, A, y", "x' @ A @ y"),  # bilinear form
    ("i,i,i->", "x, y, z", "sum(x * y * z)"),  # trilinear (diagonal) form
    ("ij,ij,ij->", "A, B, C", "sum(A * B * C)"),
    ("bi,bj->ij", "X, Y", "X' @ Y"),  # a batch summed over: b indexes the samples
    ("bi,bi->b", "X, Y", "(X * Y) @ ones(n)"),  # per-sample inner products
    ("ii->i", "A", "diag(A)"),
    ("ij,j->i", "A, x", "A @ x"),
    ("ij,ji->", "A, B", "tr(A @ B)"),
    ("ij,jk,ki->", "A, B, C", "tr(A @ B @ C)"),
    ("ij,j,jk->ik", "A, x, B", "A @ Diag(x) @ B"),
    ("ij,ik,il,jk,jl,kl->", "A, B, C, D, E, F", ""),  # four letters pairwise: no matrix form
]


def _body(spec: str, names: str) -> str:
    return f'einsum("{spec}", {names})'


@pytest.mark.parametrize(("spec", "names", "form"), FORMS)
def test_an_einsum_is_built_in_matrix_form_where_one_exists(spec, names, form):
    program = matcalc.parse(DECLARE + f"f = {_body(spec, names)}")
    node = program.definitions["f"].body
    assert str(node) == (form or _body(spec, names))
    arrays = _point(1)
    value = evaluate(program, "f", arrays)
    expected = _einsum_value(spec, names, arrays)
    np.testing.assert_allclose(np.reshape(value, np.shape(expected)), expected, rtol=1e-12)


def _central_difference(scalar, arrays: dict, name: str, h: float = 1e-6) -> np.ndarray:
    gradient = np.zeros_like(arrays[name])
    for index in np.ndindex(arrays[name].shape):
        moved = {key: value.copy() for key, value in arrays.items()}
        moved[name][index] += h
        up = scalar(moved)
        moved[name][index] -= 2 * h
        gradient[index] = (up - scalar(moved)) / (2 * h)
    return gradient


def _objective(spec: str, names: str) -> tuple[str, object]:
    """A scalar function of the einsum (nonlinear when it is an array), as matcalc's text and
    as NumPy: sum(sin(.)) of an array, the einsum itself when it is a number."""
    output = spec.split("->")[1]
    body = _body(spec, names)
    if not output:
        return body, lambda arrays: _einsum_value(spec, names, arrays)
    return f"sum(sin({body}))", lambda arrays: np.sum(np.sin(_einsum_value(spec, names, arrays)))


@pytest.mark.parametrize(("spec", "names", "form"), FORMS)
def test_every_gradient_matches_finite_differences_of_numpy_einsum(spec, names, form):
    text, scalar = _objective(spec, names)
    variables = list(dict.fromkeys(names.split(", ")))
    results = matcalc.derive(DECLARE + f"f = {text}", wrt=variables, check=False)
    arrays = _point(2)
    gradients = results.numpy()(**arrays)
    for name in variables:
        expected = _central_difference(scalar, arrays, name)
        got = np.reshape(gradients[name], expected.shape)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


def test_a_gradient_without_a_matrix_form_is_an_einsum_that_reads_back():
    # d/dA sum_{ijkl} A_ij B_ik C_il D_jk E_jl F_kl = sum_{kl} B_ik C_il D_jk E_jl F_kl
    result = matcalc.derive(DECLARE + f"f = {_body(*FORMS[-1][:2])}", wrt="A")
    assert result.text.endswith('einsum("ik,il,jk,jl,kl->ij", B, C, D, E, F)')
    again = matcalc.parse(DECLARE + f"g = {str(result.result).split(' = ')[-1]}")
    arrays = _point(3)
    np.testing.assert_allclose(evaluate(again, "g", arrays),
                               np.einsum("ik,il,jk,jl,kl->ij", *(arrays[k] for k in "BCDEF")))


def test_a_letter_only_one_operand_holds_broadcasts_its_cotangent():
    # f = sum_{ijk..} with j only in A: d f / d A_ij does not depend on j (a ones operand)
    spec, names = "ij,ik,il,kl,km,lm->", "A, B, C, D, E, F"
    text, scalar = _objective(spec, names)
    results = matcalc.derive(DECLARE + f"f = {text}", wrt=["A", "D"], check=False)
    arrays = _point(4)
    gradients = results.numpy()(**arrays)
    for name in ("A", "D"):
        np.testing.assert_allclose(gradients[name],
                                   _central_difference(scalar, arrays, name), rtol=1e-6,
                                   atol=1e-7)


def test_hessians_and_jacobians_match_finite_differences_or_are_refused():
    # the Hessian of x' A y-like forms goes through the matrix form; K4's through the einsum
    hessian = matcalc.derive(DECLARE + 'f = einsum("i,ij,j->", x, A, x)', of="f", wrt="x",
                             kind="hessian", check=False)
    arrays = _point(5)
    np.testing.assert_allclose(hessian.numpy()(**arrays), arrays["A"] + arrays["A"].T,
                               rtol=1e-12)
    jacobian = matcalc.derive(DECLARE + 'f = einsum("ij,ik,jk,j->i", A, B, C, x)', of="f",
                              wrt="x", kind="jacobian", check=False)
    expected = np.einsum("ij,ik,jk->ij", arrays["A"], arrays["B"], arrays["C"])
    np.testing.assert_allclose(jacobian.numpy()(**arrays), expected, rtol=1e-12)
    # through einsum nodes (no matrix form): the local Jacobian is a matrix, or Diag of a vector
    k4 = "ij,ik,il,jk,jl,kl"
    six = [arrays[name] for name in "ABCDEF"]
    jacobian = matcalc.derive(DECLARE + f'f = einsum("{k4},j->i", A, B, C, D, E, F, x)',
                              of="f", wrt="x", kind="jacobian", check=False)
    assert "einsum" in jacobian.text
    np.testing.assert_allclose(jacobian.numpy()(**arrays), np.einsum(f"{k4}->ij", *six),
                               rtol=1e-12)
    hessian = matcalc.derive(DECLARE + f'f = einsum("{k4},i,i->", A, B, C, D, E, F, x, x)',
                             of="f", wrt="x", kind="hessian", check=False)
    assert "einsum" in hessian.text
    np.testing.assert_allclose(hessian.numpy()(**arrays),
                               2 * np.diag(np.einsum(f"{k4}->i", *six)), rtol=1e-12)
    with pytest.raises(UnsupportedError, match="Jacobian"):
        matcalc.derive(DECLARE + f"f = {_body(FORMS[-1][0], 'A, A, C, D, E, F')}", wrt="A",
                       kind="hessian")


def test_code_for_numpy_jax_and_torch_matches_the_interpreter():
    for backend in ("numpy", "jax", "torch"):
        results = matcalc.derive(DECLARE + f"f = sum(sin({_body(*FORMS[-1][:2])}))",
                                 wrt=["A", "B"], check=False)
        assert_generated_code_matches(results, backend)
    code = results.code()
    assert "_einsum('ik,il,jk,jl,kl->ij', B, C, D, E, F)" in code


@pytest.mark.parametrize(("text", "error", "message", "column"), [
    ('einsum("ij,jk", A, B)', ParseError, 'needs an explicit "->"', 18),
    ('einsum("iJ,jk->ik", A, B)', ParseError, "write j, not J", 14),
    ('einsum("ij,jk->ik", A)', ShapeError, "2 terms but 1 operand", 13),
    ('einsum("ijk,jk->ik", A, B)', ShapeError, "has 3 letters", 13),
    ('einsum("ij,jk->ik", A, W)', ParseError, "", 0),  # placeholder replaced below
    ('einsum("ij,jk->ii", A, B)', ParseError, "repeated in einsum's output", 21),
    ('einsum("ij,jk->iz", A, B)', ParseError, "in no operand's term", 21),
    ('einsum("...j,jk->k", A, B)', UnsupportedError, "'...'", 13),
    ('einsum(A, B)', ParseError, "spec in quotes first", 12),
    ('sum("ij")', ParseError, "only einsum's spec", 9),
])
def test_a_malformed_spec_is_an_error_at_its_place(text, error, message, column):
    if "A, W" in text:  # a letter pairing axes of different sizes: k is m in W, n in B
        text, error, message, column = ('einsum("ij,jk,ik->ik", A, W, B)', ShapeError,
                                        "different sizes", 20)
    with pytest.raises(error) as raised:
        matcalc.parse(DECLARE + f"f = {text}")
    assert message in str(raised.value)
    assert raised.value.line == 6 and raised.value.column == column, str(raised.value)


def test_sympy_has_the_matrix_forms_and_refuses_an_einsum_without_one():
    program = matcalc.parse(DECLARE + 'f = einsum("ij,jk->ik", A, B)')
    assert str(program.to_sympy()["f"]) == "A*B"
    with pytest.raises(UnsupportedError, match="einsum"):
        matcalc.parse(DECLARE + f"f = {_body(*FORMS[-1][:2])}").to_sympy()


def test_latex_sets_an_einsum_as_a_sum_over_its_indices():
    result = matcalc.derive(DECLARE + f"f = {_body(*FORMS[-1][:2])}", wrt="A")
    assert r"\left[\sum_{kl} B_{ik} C_{il} D_{jk} E_{jl} F_{kl}\right]_{ij}" in result.latex


def _random_spec(rng: np.random.Generator, rank: int = 2
                 ) -> tuple[str, list[tuple[int, ...]]]:
    """A spec over up to four letters with 1-6 operands of rank 1 to ``rank`` (and an output
    of as many letters at most), and the operands' shapes."""
    letters = "ijkl"[:rng.integers(2, 5)]
    sizes = dict(zip(letters, (int(s) for s in rng.permutation([2, 3, 4, 5])), strict=False))
    terms = ["".join(rng.choice(list(letters), size=min(rng.integers(1, rank + 1), len(letters)),
                                replace=False))
             for _ in range(rng.integers(1, 7 if rank == 2 else 4))]
    used = sorted(set("".join(terms)))
    output = "".join(rng.permutation(used)[:rng.integers(0, rank + 1)])
    shapes = [tuple(sizes[letter] for letter in term) for term in terms]
    return f"{','.join(terms)}->{output}", shapes


def test_random_specs_evaluate_and_differentiate_as_numpy_einsum():
    # MATCALC_EINSUM_CASES=500 for a larger campaign; 20 by default (a second)
    rng = np.random.default_rng(30)
    for _ in range(int(os.environ.get("MATCALC_EINSUM_CASES", "20"))):
        spec, shapes = _random_spec(rng)
        names = [f"T{index}" for index in range(len(shapes))]
        declarations = "".join(
            f"{name} : {'vector' if len(shape) == 1 else 'matrix'}"
            f"({', '.join(str(s) for s in shape)})\n"
            for name, shape in zip(names, shapes, strict=True))
        arrays = {name: rng.normal(size=shape) for name, shape in zip(names, shapes, strict=True)}
        joined = ", ".join(names)
        text, scalar = _objective(spec, joined)
        program = matcalc.parse(declarations + f"f = {text}")
        printed = matcalc.parse(declarations + f"f = {program.definitions['f'].body}")
        assert np.isclose(evaluate(printed, "f", arrays), scalar(arrays)), spec  # reads back
        results = matcalc.derive(program, wrt=names[0], check=False)
        got = np.reshape(results.numpy()(**arrays), shapes[0])
        expected = _central_difference(scalar, arrays, names[0])
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7, err_msg=spec)


@pytest.mark.parametrize("rank", [2, 3])
def test_the_adjoints_of_a_raw_einsum_node_match_finite_differences(rank):
    # G : d einsum(s, ..., dT_i, ...) = adjoint_i : dT_i, for nodes kept as einsum whether or
    # not they have a matrix form (the rule must not rely on the lowering); rank 3: tensors
    from matcalc.core import ir
    from matcalc.ops.einsum import pull_einsum

    rng = np.random.default_rng(31 + rank)
    for _ in range(int(os.environ.get("MATCALC_EINSUM_CASES", "20")) // (rank - 1)):
        spec, shapes = _random_spec(rng, rank)
        output = spec.split("->")[1]
        sizes = dict(zip("".join(spec.split("->")[0].split(",")),
                         (s for shape in shapes for s in shape), strict=True))
        out_shape = tuple(sizes[letter] for letter in output)
        names = [f"T{index}" for index in range(len(shapes))]
        kinds = {0: "scalar", 1: "vector", 2: "matrix", 3: "tensor"}
        declarations = "".join(
            f"{name} : {kinds[len(shape)]}({', '.join(str(s) for s in shape)})\n"
            for name, shape in zip([*names, "G"], [*shapes, out_shape], strict=True))
        declarations = declarations.replace("scalar()", "scalar")
        program = matcalc.parse(declarations)
        node = ir.apply("einsum", *(program.variables[name] for name in names), params=(spec,))
        arrays = {name: rng.normal(size=shape)
                  for name, shape in zip([*names, "G"], [*shapes, out_shape], strict=True)}

        def pairing(values, spec=spec, names=names):
            return float(np.sum(values["G"] * np.einsum(spec, *(values[n] for n in names))))

        for index, name in enumerate(names):
            adjoint = pull_einsum(index)(node, node, program.variables["G"])
            got = np.reshape(evaluate(program, adjoint, arrays), shapes[index])
            np.testing.assert_allclose(got, _central_difference(pairing, arrays, name),
                                       rtol=1e-6, atol=1e-7, err_msg=f"{spec} {name}")


def _latex_value(program, latex: str, arrays: dict):
    from matcalc.lang.answers import read_answer

    extended, node = read_answer(program, latex, is_latex=True)
    return evaluate(extended, node, arrays)


def test_the_latex_of_an_einsum_reads_back_as_an_index_sum():
    # every operand form: a one-letter name, a name with a subscript (W_{1}), a Greek name, a
    # bracketed expression; the scalar form without a bracket
    from matcalc.core import ir
    from matcalc.present.latex import to_latex

    declarations = ("A, B, C, D, E, W1 : matrix(n, n)\ndelta2 : matrix(n, n)\n"
                    "x : vector(n)\n")
    program = matcalc.parse(declarations)
    v = program.variables
    rng = np.random.default_rng(7)
    arrays = {name: rng.normal(size=(3, 3)) for name in ("A", "B", "C", "D", "E", "W1",
                                                        "delta2")}
    arrays["x"] = rng.normal(size=3)
    nodes = [
        ir.apply("einsum", v["A"], v["W1"], v["delta2"], ir.apply("add", v["D"], v["E"]),
                 v["x"], params=("ij,ik,jk,jl,l->il",)),
        ir.apply("einsum", v["A"], v["B"], v["C"], v["D"], v["E"], v["W1"],
                 params=("ij,ik,il,jk,jl,kl->",)),
        ir.apply("einsum", v["A"], v["B"], params=("ij,kl->il",)),
    ]
    for node in nodes:
        latex = to_latex(node)
        np.testing.assert_allclose(_latex_value(program, latex, arrays),
                                   evaluate(program, node, arrays), err_msg=latex)


@pytest.mark.parametrize(("latex", "text"), [
    (r"\sum_{i} x_{i} y_{i}", "x' @ y"),
    (r"\sum_{ij} A_{ij} B_{ij}", "sum(A * B)"),
    (r"\left[\sum_{k} A_{ik} B_{kj}\right]_{ij}", "A @ B"),
    (r"\left[\sum_{j} A_{ij} x_{j}\right]_{i}", "A @ x"),
    (r"\left[x_{i} y_{j}\right]_{ij}", "x @ y'"),
    (r"2 \sum_{i} x_i y_i + 1", "2 * x' @ y + 1"),
    (r"\left[A_{ji}\right]_{ij} + B", "A' + B"),
    # the indices with commas, bounds from 1 to their size; Greek and subscripted names
    (r"\sum_{i,j} A_{ij} B_{ij}", "sum(A * B)"),
    (r"\sum_{i=1}^{n} x_i y_i", "x' @ y"),
    (r"\sum_{i=1}^n x_{i} \left(A x\right)_{i}", "x' @ A @ x"),
    (r"\sum_{i,j=1}^{n} A_{ij} B_{ji}", "tr(A @ B)"),
    (r"\sum_{i} x_i y_i z_i", "sum(x * y * z)"),
])
def test_an_index_sum_in_a_latex_answer_is_an_einsum(latex, text):
    program = matcalc.parse(DECLARE)
    arrays = _point(8)
    expected = evaluate(matcalc.parse(DECLARE + f"g = {text}"), "g", arrays)
    np.testing.assert_allclose(_latex_value(program, latex, arrays), expected)


@pytest.mark.parametrize(("latex", "message"), [
    (r"\sum_{k} A_{ik} B_{kj}", "leaves i, j free"),
    (r"\sum_{i}^{n} x_i", "runs from 1 to a size"),
    (r"\sum_{i=0}^{n} x_i", "runs from 1 to a size"),
    (r"\sum_{i=1}^{m} x_i", "the index i runs to m, and the axis it indexes has n entries"),
    (r"\sum_{ij} x_i", "the index j is summed, and nothing after the sum carries it"),
    (r"\left[\sum_{k=1}^{n} A_{ik} B_{kj}\right]_{ij}", "names its indices only"),
    (r"\sum_{i} x_i^2", "matrix form"),
    (r"\left[\sum_{k} A_{ik} B_{kj}\right]_{ijk}", "both summed and on the bracket"),
    (r"\left[\sum_{k} A_{ik} B_{kj}\right]_{i}", "neither summed nor on the bracket"),
    (r"\left[\sum_{k} A_{ik} B_{kj}\right]", "leaves i, j free: put it in brackets with the "
     "result's indices"),
    (r"\sum x_i", "names its indices"),
])
def test_a_malformed_index_sum_is_refused_with_what_to_write(latex, message):
    with pytest.raises(matcalc.MatcalcError, match=re.escape(message)):
        _latex_value(matcalc.parse(DECLARE), latex, _point(8))


TENSORS = ("Q, K : tensor(B, T, d)\nP : tensor(B, T, T)\nW : matrix(d, e)\n"
           "Z : tensor(B, H, T, d)\nU : matrix(d, d)\n")
TENSOR_SIZES = {"B": 2, "T": 3, "d": 4, "e": 5, "H": 2}
TENSOR_SHAPES = {"Q": "BTd", "K": "BTd", "P": "BTT", "W": "de", "Z": "BHTd", "U": "dd"}
# batched attention's contractions (Vaswani et al. 2017, eq. 1) are batched products
TENSOR_FORMS = [
    ("btk,bsk->bts", "Q, K", "Q @ K'"),
    ("bts,bsk->btk", "P, Q", "P @ Q"),
    ("bts,btk->bsk", "P, Q", "P' @ Q"),
    ("btk,kj->btj", "Q, W", "Q @ W"),
    ("btk->bkt", "Q", "Q'"),
    ("bhtk,bhsk->bhst", "Z, Z", "Z @ Z'"),
    ("btk,btj->kj", "Q, K", "sum(Q' @ K, 0)"),  # a weight's gradient: a batch sum
    ("bts,bsk->tk", "P, Q", "sum(P @ Q, 0)"),
    ("btk,kj,bsj->bts", "Q, U, K", "Q @ U @ K'"),  # chains of three
    ("bts,bsk,kj->btj", "P, Q, W", "P @ Q @ W"),
    ("btk,kj,btl->jl", "Q, U, K", "sum(U' @ Q' @ K, 0)"),
    ("btk,btk->bt", "Q, K", ""),  # no batched product: an einsum
    ("btk,bsk,kj->btsj", "Q, K, W", ""),
]


@pytest.mark.parametrize(("spec", "names", "form"), TENSOR_FORMS)
def test_tensor_einsums_are_batched_products_and_their_gradients_match_finite_differences(
        spec, names, form):
    rng = np.random.default_rng(9)
    arrays = {name: rng.normal(size=tuple(TENSOR_SIZES[d] for d in dims))
              for name, dims in TENSOR_SHAPES.items()}
    program = matcalc.parse(TENSORS + f"f = {_body(spec, names)}")
    assert str(program.definitions["f"].body) == (form or _body(spec, names))
    text, scalar = _objective(spec, names)
    variables = list(dict.fromkeys(names.split(", ")))
    results = matcalc.derive(TENSORS + f"f = {text}", wrt=variables, check=False)
    gradients = results.numpy()(**arrays)
    for name in variables:
        np.testing.assert_allclose(gradients[name], _central_difference(scalar, arrays, name),
                                   rtol=1e-6, atol=1e-7)


def test_a_tensor_einsum_reads_back_from_text_and_latex_and_runs_in_every_backend():
    results = matcalc.derive(TENSORS + 'f = sum(sin(einsum("btk,btk->bt", Q, K)))',
                             wrt=["Q", "K"], check=False)
    for backend in ("numpy", "jax", "torch"):
        assert_generated_code_matches(results, backend)
    program = matcalc.parse(TENSORS)
    arrays = {name: np.random.default_rng(1).normal(size=tuple(TENSOR_SIZES[d] for d in dims))
              for name, dims in TENSOR_SHAPES.items()}
    node = matcalc.parse(TENSORS + 'f = einsum("btk,bsk,kj->btsj", Q, K, W)').definitions["f"]
    from matcalc.present.latex import to_latex

    expected = np.einsum("btk,bsk,kj->btsj", arrays["Q"], arrays["K"], arrays["W"])
    again = matcalc.parse(TENSORS + f"g = {node.body}")
    np.testing.assert_allclose(evaluate(again, "g", arrays), expected)
    np.testing.assert_allclose(_latex_value(program, to_latex(node.body), arrays), expected)


def test_an_answer_may_be_written_as_an_einsum_in_either_notation():
    problem = DECLARE + "f = x' @ A @ y"
    assert matcalc.verify(problem, "A", 'einsum("i,j->ij", x, y)').ok
    assert not matcalc.verify(problem, "A", 'einsum("i,j->ji", x, y)').ok
    assert matcalc.verify(problem, "A", r"\left[x_{i} y_{j}\right]_{ij}", latex=True).ok
    assert matcalc.verify(problem, "x", r"\left[\sum_{j} A_{ij} y_{j}\right]_{i}",
                          latex=True).ok
