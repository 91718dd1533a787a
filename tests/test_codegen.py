"""Generated NumPy code: the same values as the interpreter on every gallery result and on random
expressions, float32 kept, and the structure promised (no dense Diag, Gram forms, hoisting)."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from helpers import assert_generated_code_matches, program
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import expressions

import matcalc
from matcalc.cli.main import main
from matcalc.codegen.module import compiled, generate, load
from matcalc.core import ir
from matcalc.derive import derive_by_request
from matcalc.engine.pipeline import variables_of
from matcalc.errors import DomainError
from matcalc.numeric.sampling import random_instance

GALLERY = sorted(pathlib.Path("derivations").glob("*.mc"))


def close(got, want) -> bool:
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    scale = max(float(np.max(np.abs(want), initial=0.0)), 1.0)
    return got.shape == want.shape and np.allclose(got, want, rtol=1e-9, atol=1e-12 * scale)


@pytest.mark.parametrize("path", GALLERY, ids=[p.stem for p in GALLERY])
def test_gallery_code_agrees_with_the_interpreter(path):
    parsed = matcalc.parse(path.read_text())
    for group in derive_by_request(parsed):
        instance = random_instance(parsed, seed=5)
        want = group.numpy(compiled=False)(sizes=instance.sizes, **instance.arrays)
        got = group.numpy()(sizes=instance.sizes, **instance.arrays)
        assert all(close(got[k], want[k]) for k in want), group.code()


BASE = program("base = a")


@given(expressions(BASE.variables, max_depth=3), st.sampled_from(["grad", "jacobian"]))
def test_random_expressions_agree_with_the_interpreter(node, kind):
    extended = BASE.extended({"e": node})
    of = "e"
    if kind == "grad":
        from matcalc.core import ir

        scalar = node if node.is_scalar else ir.apply("sum", ir.apply("sin", node))
        extended = extended.extended({"F": ir.apply("sin", scalar)})
        of = "F"
    names = variables_of(extended, extended.definitions[of].ref)
    assume(names)
    results = matcalc.derive(extended, wrt=names[:2], of=of, kind=kind)
    try:
        instance = random_instance(extended, seed=2)
        want = results.numpy(compiled=False)(sizes=instance.sizes, **instance.arrays)
    except DomainError:
        assume(False)
    got = results.numpy()(sizes=instance.sizes, **instance.arrays)
    assert all(close(got[k], want[k]) for k in want), results.code()


def test_float32_stays_float32():
    derivative = matcalc.derive(pathlib.Path("derivations/logistic_regression.mc").read_text(),
                                wrt="w", of="J")
    rng = np.random.default_rng(0)
    arrays = {"X": rng.normal(size=(6, 3)).astype(np.float32),
              "w": rng.normal(size=3).astype(np.float32),
              "y": rng.uniform(0.1, 0.9, size=6).astype(np.float32)}
    function = compiled(derivative)
    result = function(**arrays)["w"]
    assert result.dtype == np.float32
    want = derivative.numpy(compiled=False)(**{k: v.astype(float) for k, v in arrays.items()})
    assert np.allclose(result, want, rtol=1e-4)


def test_structure_of_the_generated_code():
    logistic = matcalc.parse(pathlib.Path("derivations/logistic_regression.mc").read_text())
    hessian = derive_by_request(logistic)[1].code()
    body = hessian.split("def gradient(")[1]
    assert "np.diagflat" not in body and ".T @ _t" in body  # a Gram form: G' @ G
    batch = matcalc.parse(pathlib.Path("derivations/mathse_batch_softmax.mc").read_text())
    code = derive_by_request(batch)[0].code()
    assert "def prepare(" in code and "(B @ A)" in code and "prepared['_h1'].T" in code
    cs224n = matcalc.derive(pathlib.Path("derivations/cs224n_one_layer.mc").read_text())
    body = cs224n.code().split("def gradient(")[1]
    assert "np.diag" not in body and "np.kron" not in body
    trace = matcalc.derive("X, A : matrix(n, n)\nf = tr(A @ X) + tr(X @ A @ X)", wrt="X")
    source = matcalc.derive("A, B : matrix(n, n)\nf = tr(A @ B)", wrt="A").code()
    assert "np.sum(" in source and "np.trace" not in source
    assert close(trace.numpy()(X=np.eye(3), A=np.ones((3, 3))),
                 trace.numpy(compiled=False)(X=np.eye(3), A=np.ones((3, 3))))


def test_kron_times_a_vector_is_never_formed():
    source = "A : matrix(p, m); B : matrix(n, q); V : matrix(m, n)\n" \
        "f = sum(sin(kron(B', A) @ vec(V)))"
    derivative = matcalc.derive(source, wrt="V")
    assert "_kron_matvec(" in derivative.code() and "np.kron(" not in derivative.code()
    instance = random_instance(derivative.program, seed=1)
    assert close(derivative.numpy()(sizes=instance.sizes, **instance.arrays),
                 derivative.numpy(compiled=False)(sizes=instance.sizes, **instance.arrays))


def test_prepared_values_are_reused():
    batch = matcalc.parse(pathlib.Path("derivations/mathse_batch_softmax.mc").read_text()
                          .replace("1568", "7").replace("1024", "5").replace("10)", "4)"))
    group = derive_by_request(batch)[0]
    module = load(group.code())
    instance = random_instance(batch, seed=0)
    prepared = module.prepare(**instance.arrays)
    once = module.gradient(**instance.arrays, prepared=prepared)["C"]
    again = module.gradient(**instance.arrays)["C"]
    assert np.allclose(once, again)


def test_names_that_python_reserves_are_renamed():
    # only Python's keywords and names at the edges of _ are renamed: np, torch, T are the
    # user's (the generated code's own names all start with _)
    derivative = matcalc.derive("np, lambda_ : vector(n)\nf = sum(np * lambda_)", wrt="np")
    code = derivative.code()
    assert "def gradient(np, lambda__" in code
    assert close(derivative.numpy()(np=np.ones(3), lambda_=np.arange(3.0)), np.arange(3.0))
    for names in ("torch, E", "T, prepare", "sizes, prepared"):
        first, second = names.split(", ")
        problem = f"{names} : matrix(n, n); A : matrix(n, n) spd\n" \
                  f"f = tr({first} @ A @ {second}) + sum(exp({first}))"
        derivative = matcalc.derive(problem, wrt=first)
        assert f"def gradient({first}, {second}, A" in derivative.code()
        point = random_instance(derivative.program, seed=1)
        assert close(derivative.numpy()(**point.arrays),
                     derivative.numpy(compiled=False)(**point.arrays))
    # X^T stays the transpose beside a matrix T; beside a scalar T it is refused, not guessed
    assert matcalc.derive("T, Z : matrix(n, n)\nL = tr(Z^T @ T)", wrt="Z").text.endswith("= T")
    with pytest.raises(matcalc.MatcalcError, match="T is a scalar here"):
        matcalc.derive("T : scalar; Z : matrix(n, n)\nL = sum(Z^T)", wrt="Z")


def test_bad_arrays_get_clear_messages():
    function = compiled(matcalc.derive("x : vector(n); A : matrix(n, n)\nf = x' @ A @ x",
                                       wrt="x"))
    with pytest.raises(ValueError, match="x must be a vector"):
        function(x=np.ones((2, 2)), A=np.eye(2))


def test_numpy_format_on_the_command_line(capsys, tmp_path):
    assert main(["derive", "derivations/cs224n_one_layer.mc", "--format", "numpy"]) == 0
    source = capsys.readouterr().out
    path = tmp_path / "cs224n_grad.py"
    path.write_text(source)
    module = load(source)
    parsed = matcalc.parse(pathlib.Path("derivations/cs224n_one_layer.mc").read_text())
    instance = random_instance(parsed, seed=0)
    got = module.gradient(**instance.arrays)
    want = matcalc.derive(parsed).numpy(compiled=False)(sizes=instance.sizes,
                                                        **instance.arrays)
    assert all(close(got[k], want[k]) for k in want)
    assert main(["derive", "derivations/logistic_regression.mc", "--format", "numpy"]) == 0
    both = capsys.readouterr().out
    assert "def gradient(" in both and "def hessian(" in both


def test_the_jax_backend_agrees_with_numpy():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    for path in GALLERY[:8] + [pathlib.Path("derivations/cs224n_one_layer.mc")]:
        parsed = matcalc.parse(path.read_text())
        for group in derive_by_request(parsed):
            source = generate(list(group), backend="jax")
            assert "import jax.numpy as _np" in source
            module = load(source)
            instance = random_instance(parsed, seed=4)
            kwargs = {"sizes": instance.sizes} if "sizes=None" in group.code() else {}
            got = module.gradient(**instance.arrays, **kwargs)
            want = group.numpy()(sizes=instance.sizes, **instance.arrays)
            assert all(close(np.asarray(got[k]), want[k]) for k in want), path


def test_the_jax_backend_computes_erf_and_gelu_also_compiled():
    # the defect: the NumPy helpers' erf (math.erf entry by entry) cannot run on JAX arrays
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    result = matcalc.derive("x : vector(n)\nf = sum(gelu(x) + erf(x) + gelu_tanh(x))", wrt="x",
                            check=False)
    from matcalc.numeric.evaluate import evaluate

    module = load(generate([result], backend="jax"))
    x = np.linspace(-8.0, 3.0, 12)
    # and under jax.jit, where float() of the traced loss failed
    for function in (module.value_and_gradient, jax.jit(module.value_and_gradient)):
        value, gradient = function(x=x)
        assert close(np.asarray(gradient["x"]), result.numpy()(x=x))
        assert np.isclose(value, evaluate(result.program, "f", x=x), rtol=1e-12)


def test_the_torch_backend_agrees_with_numpy():
    torch = pytest.importorskip("torch")
    for path in GALLERY:
        parsed = matcalc.parse(path.read_text())
        for group in derive_by_request(parsed):
            source = generate(list(group), backend="torch")
            assert "import torch as _torch" in source
            assert "numpy" not in source and "_np." not in source
            module = load(source)
            instance = random_instance(parsed, seed=4)
            kwargs = {"sizes": instance.sizes} if "sizes=None" in source else {}
            tensors = {k: torch.as_tensor(np.asarray(v, dtype=float))
                       for k, v in instance.arrays.items()}
            got = module.gradient(**tensors, **kwargs)
            want = group.numpy()(sizes=instance.sizes, **instance.arrays)
            assert all(close(np.asarray(got[k]), want[k]) for k in want), path


# PyTorch's functions take tensors, never Python numbers: torch.sqrt(2.0) and
# torch.maximum(t, 0.0) raise TypeError, so a function of constants and an extremum with a
# number must not reach them as numbers (probit's sqrt(2), the squared hinge's maximum(t, 0))
NUMBERS_INSIDE_FUNCTIONS = [
    "X : matrix(N, d); w : vector(d)\nf = sum(erf(X @ w / sqrt(2)) * exp(-1) / log(2 * pi))",
    "x : vector(n)\nf = sum(maximum(1 - x, 0) .^ 2 + minimum(x, 0.5) * tanh(0.5))",
    "x : vector(n)\nf = sum(maximum(0, x) * minimum(-1, x) + sigmoid(sqrt(sqrt(3))) * x)",
    "x : vector(n)\nf = sum(maximum(x, x .^ 2) * abs(-2))",
]


@pytest.mark.parametrize("source", NUMBERS_INSIDE_FUNCTIONS)
@pytest.mark.parametrize("backend", ["torch", "jax", "numpy"])
def test_functions_of_numbers_run_in_every_backend(source, backend):
    results = matcalc.derive(matcalc.parse(source), check=False)
    assert_generated_code_matches(results, backend)


def test_unknown_backend():
    derivative = matcalc.derive("x : vector(n)\nf = sum(x)", wrt="x")
    with pytest.raises(matcalc.MatcalcError, match="unknown backend"):
        generate([derivative], backend="fortran")


def test_torch_keeps_float32():
    torch = pytest.importorskip("torch")
    derivative = matcalc.derive(pathlib.Path("derivations/attention.mc").read_text())
    module = load(generate([derivative], backend="torch"))
    rng = np.random.default_rng(0)
    shapes = {"Q": (3, 4), "K": (5, 4), "V": (5, 2), "G": (3, 2)}
    tensors = {k: torch.tensor(rng.normal(size=s), dtype=torch.float32)
               for k, s in shapes.items()}
    assert module.gradient(**tensors)["Q"].dtype == torch.float32


# -- no dense structure of an intermediate: Diag, kron and commutation matrices are formed only
# where the result itself is that matrix (a Jacobian written as one) -----------------------------

import re as _re  # noqa: E402

from hypothesis import given as _given  # noqa: E402
from hypothesis import settings as _settings  # noqa: E402

DENSE = _re.compile(r"_np\.diagflat\(|_np\.kron\(|_commutation\(|_np\.eye\(")


def _dense_intermediates(source: str) -> list[str]:
    """Lines of a generated function that form a dense structured matrix, outside its result."""
    import re

    body = source[re.search(r"^def [A-Za-z]", source, re.M).start():]  # after the helpers
    found, in_result = [], False
    for line in body.splitlines():
        if line.strip().startswith("return ") and line.strip().endswith("{"):
            in_result = True
        elif line.strip() == "}":
            in_result = False
        elif DENSE.search(line) and not in_result and not line.lstrip().startswith("_h"):
            found.append(line.strip())
    return found


def test_gallery_code_forms_no_dense_intermediate():
    from matcalc.codegen.module import generate_many

    for path in sorted(pathlib.Path("derivations").rglob("*.mc")):
        groups = derive_by_request(matcalc.parse(path.read_text()))
        if not groups:
            continue
        assert not _dense_intermediates(generate_many(groups)), path.name


@pytest.mark.parametrize("path", GALLERY, ids=lambda p: p.stem)
def test_gallery_code_computes_the_function_value_as_the_interpreter(path):
    # value_and_gradient's forward pass has its own code (tr(kron(A, X)) as tr(A) tr(X))
    from matcalc.codegen.module import generate
    from matcalc.numeric.evaluate import evaluate

    parsed = matcalc.parse(path.read_text())
    for group in derive_by_request(parsed):
        group = list(group)
        if group[0].kind != "grad":
            continue
        module = load(generate(group))
        instance = random_instance(parsed, seed=4)
        kwargs = {"sizes": instance.sizes} if "sizes=None" in group[0].code() else {}
        value, _ = module.value_and_gradient(**instance.arrays, **kwargs)
        assert np.isclose(value, evaluate(parsed, group[0].of, instance.arrays), rtol=1e-10)


def test_the_scan_sees_a_dense_intermediate():
    # a test of the test: a shared Diag formed as np.diagflat is found
    source = "def _kron_matvec(a):\n    pass\n\ndef gradient(x):\n    _t1 = _np.diagflat(x)\n" \
             "    return {\n    'x': _t1 @ _t1,\n    }\n"
    assert _dense_intermediates(source) == ["_t1 = _np.diagflat(x)"]


@_settings(max_examples=40, deadline=None)
@_given(expressions(BASE.variables, max_depth=3))
def test_random_code_forms_no_dense_intermediate(node):
    from matcalc.codegen.module import generate

    # structure the function itself computes is the user's; what the derivative adds is ours
    assume(not any(n.op in ("kron", "Diag", "commutation") for n in ir.walk(node)))
    target = BASE.extended({"F": ir.apply("sum", ir.apply("sin", node)) if not node.is_scalar
                            else ir.apply("sin", node)})
    names = variables_of(target, target.definitions["F"].ref)
    if not names:
        return
    gradients = matcalc.derive(target, wrt=names, of="F", check=False)
    assert not _dense_intermediates(generate(list(gradients))), gradients.text


def test_value_and_gradient_share_the_forward_pass():
    # the loss with its gradients, as a training loop wants them: the same gradients, and the
    # loss as the interpreter computes it
    from matcalc.codegen.module import generate
    from matcalc.numeric.evaluate import evaluate

    source = pathlib.Path("derivations/cs224n_one_layer.mc").read_text()
    results = matcalc.derive(source)
    module = load(generate(list(results)))
    point = random_instance(results[0].program, seed=3)
    value, gradients = module.value_and_gradient(**point.arrays)
    assert np.isclose(value, evaluate(results[0].program, "J", point.arrays))
    direct = module.gradient(**point.arrays)
    assert all(np.allclose(gradients[key], direct[key]) for key in direct)
    assert all(np.allclose(gradients[key], results[key].numpy(compiled=False)(**point.arrays))
               for key in direct)
    # a large logit saturates the softmax: the loss stays finite (log softmax via logsumexp)
    extreme = dict(point.arrays, b2=point.arrays["b2"] * 0 + np.arange(len(point.arrays["b2"]))
                   * 400.0)
    assert np.isfinite(module.value_and_gradient(**extreme)[0])


@pytest.mark.parametrize("path", ["cs224n_one_layer.mc", "softmax_regression_batch.mc",
                                  "mlp_two_layer.mc"])
def test_a_softmax_beside_its_log_is_the_exp_of_the_log(path):
    # the cross-entropy reads log(softmax(t)), its gradient softmax(t): value_and_gradient makes
    # one pass over t (softmax(t) = exp(log_softmax(t))); gradient alone computes the softmax
    from matcalc.codegen.module import generate

    source = pathlib.Path("derivations", path).read_text()
    results = [r for group in derive_by_request(matcalc.parse(source)) for r in group
               if r.kind == "grad"]
    code = generate(results)
    both = code[code.index("def value_and_gradient"):code.index("def gradient")]
    assert both.count("_logsumexp(") == 1 and "_softmax(" not in both, both
    module = load(code)
    point = random_instance(results[0].program, seed=3)
    _, gradients = module.value_and_gradient(**point.arrays)
    direct = module.gradient(**point.arrays)
    assert all(close(gradients[key], direct[key]) for key in direct)


def test_a_function_reads_only_the_sizes_and_dtype_it_uses():
    # every setup line is a cost on every call: X @ w needs neither a size nor the dtype, an
    # identity needs both; arguments are checked either way
    from matcalc.codegen.module import generate

    plain = generate(matcalc.derive("X : matrix(n, m); w : vector(m)\nf = sum(X @ w)", wrt="w",
                                    check=False))
    body = plain[plain.index("def gradient"):]
    assert "_dtype" not in body and "_size_" not in body and "_matrix(X, 'X')" in body
    eye = generate(matcalc.derive("X : matrix(n, n)\nf = sum(sin(X + I(n)))", wrt="X",
                                  check=False))
    body = eye[eye.index("def gradient"):]
    assert "_dtype = " in body and "_size_n = " in body


def test_a_generated_module_holds_only_the_helpers_it_calls():
    # x' A x calls no GELU, convolution or Kronecker helper: none is copied in, and the
    # module still runs; a softmax problem carries _softmax (and what it calls) and runs too
    import re

    from matcalc.codegen.module import generate, load

    quadratic = matcalc.derive("x' @ A @ x", wrt="x", check=False)
    for backend in ("numpy", "jax", "torch"):
        source = generate(quadratic, backend=backend)
        assert not re.search(r"^def _(gelu|conv1d|kron_matvec|softmax|erf)\b", source, re.M), \
            backend
    function = load(generate(quadratic)).gradient
    np.testing.assert_allclose(function(x=np.ones(2), A=np.eye(2))["x"], [2.0, 2.0])
    softmax = matcalc.derive("x : vector(n); y : vector(n)\nf = -sum(y * log(softmax(x)))",
                             wrt="x", check=False)
    source = generate(softmax)
    assert "def _logsumexp(" in source and "def _gelu(" not in source
    x, y = np.array([0.5, -1.0, 2.0]), np.array([0.2, 0.3, 0.5])
    got = load(source).gradient(x=x, y=y)["x"]
    softmax_x = np.exp(x) / np.exp(x).sum()
    np.testing.assert_allclose(got, softmax_x * y.sum() - y, rtol=1e-12)  # d/dx of cross-entropy


@pytest.mark.parametrize("product", ["X @ Diag(b')", "Diag(c') @ X", "X @ Diag(b)",
                                     "Diag(c) @ X"])
def test_a_diag_of_a_row_vector_scales_the_right_axis(product):
    # A @ Diag(r) = A * r and Diag(r) @ A = r' * A for a row r (a column v: A * v', v * A)
    problem = f"X : matrix(m, n); b : vector(n); c : vector(m); Y : matrix(m, n)\n" \
              f"F = {product}\nf = sum(Y * F)"
    results = matcalc.derive(problem, of="f", check=False)
    rng = np.random.default_rng(3)
    arrays = {"X": rng.normal(size=(3, 4)), "b": rng.normal(size=4), "c": rng.normal(size=3),
              "Y": rng.normal(size=(3, 4))}
    for result in results:
        np.testing.assert_allclose(result.numpy()(**arrays),
                                   result.numpy(compiled=False)(**arrays), rtol=1e-12)
