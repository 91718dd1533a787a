"""The LaTeX answer reader: matrix meaning kept (W^T x is W' @ x, never W*x), names resolved
against the problem, precedence as papers mean it, and clear errors."""

from __future__ import annotations

import re

import pytest

from matcalc.errors import LimitError, ParseError, ShapeError, UnknownNameError, UnsupportedError
from matcalc.grading.answers import answer_node
from matcalc.lang.latex_tokens import looks_like_latex, tokens
from matcalc.lang.parse import parse

PROBLEM = parse("""
x, y, a, b, v : vector(n)
A, B, X : matrix(n, n)
W1 : matrix(n, n)
c : scalar
z = A @ x
yhat = softmax(z)
theta = W1 @ x
""")


def read_latex(text: str):
    return answer_node(PROBLEM, text, True)[1]


def read_text(text: str):
    return answer_node(PROBLEM, text, False)[1]


SAME = [
    (r"\frac12 x", "(1 / 2) * x"),  # TeX reads one character as an argument
    (r"\frac1{2} x", "(1 / 2) * x"),
    (r"A^T x", "A' @ x"),
    (r"A^\top x", "A' @ x"),
    (r"A^{\top} x", "A' @ x"),
    (r"A^\intercal x", "A' @ x"),
    (r"A' x", "A' @ x"),
    (r"A^{-1}", "inv(A)"),
    (r"A^{-T} x", "inv(A)' @ x"),
    (r"A^2", "A ^ 2"),
    (r"X^{\circ 2}", "X .^ 2"),
    (r"a \odot b", "a * b"),
    (r"a \circ b", "a * b"),
    (r"A \otimes B", "kron(A, B)"),
    (r"\frac{a}{b}", "a / b"),
    (r"\frac{1}{2} x", "(1 / 2) * x"),
    (r"\operatorname{tr}(A^T B)", "tr(A' @ B)"),
    (r"\mathrm{tr}(A)", "tr(A)"),
    (r"\operatorname{Tr} A", "tr(A)"),
    (r"\det(X)", "det(X)"),
    (r"\log\det X", "logdet(X)"),
    (r"\log \det (X)", "logdet(X)"),
    (r"\operatorname{Diag}(v)", "Diag(v)"),
    (r"\mathrm{diag}(v)", "Diag(v)"),
    (r"\operatorname{diag}(X)", "diag(X)"),
    (r"\|X\|_F", "norm(X)"),
    (r"\|x\|_2", "norm2(x)"),
    (r"\lVert x \rVert^2", "norm2(x) ^ 2"),
    (r"\|\|X\|_F x\|_2", "norm2(norm(X) * x)"),
    (r"\sigma(z)", "sigmoid(z)"),
    (r"\sigma'(z)", "sigmoid(z) * (1 - sigmoid(z))"),
    (r"\tanh'(z)", "1 - tanh(z) * tanh(z)"),
    (r"\operatorname{ReLU}'(z)", "step(z)"),
    (r"\mathbf{A} \boldsymbol{x}", "A @ x"),
    (r"\hat{y} - y", "yhat - y"),
    (r"\hat y", "yhat"),
    (r"\theta", "theta"),
    (r"W_{1} x + W_1 x", "W1 @ x + W1 @ x"),
    (r"\mathbf{1}_n", "ones(n)"),
    (r"\mathbb{1}[z > 0]", "step(z)"),
    (r"\mathbf{1}\{z > 0\}", "step(z)"),
    (r"\mathbb{1}_{z > 0}", "step(z)"),
    (r"I_n - A", "I(n) - A"),
    (r"(I - A) x", "(I - A) @ x"),
    (r"2 A", "2 * A"),
    (r"c A x", "(c * A) @ x"),
    (r"x^T y", "x' @ y"),
    (r"x \cdot y", "x' @ y"),
    (r"c \cdot A", "c * A"),
    (r"Ax", "A @ x"),
    (r"e^{x}", "exp(x)"),
    (r"\exp(x) \odot \log x", "exp(x) * log(x)"),
    (r"\sqrt{x}", "sqrt(x)"),
    (r"\mathrm{softmax}(z) - y", "softmax(z) - y"),
    (r"A^T a \odot b", "(A' @ a) * b"),
    (r"a \odot A b", "a * (A @ b)"),
    (r"-A B", "-(A @ B)"),
    (r"a - -b", "a - -b"),
    (r"\left( A + B \right) x", "(A + B) @ x"),
    (r"\bigl[A + B\bigr] x", "(A + B) @ x"),
    (r"$A x$", "A @ x"),
    (r"A : B", "A : B"),
    (r"\frac{\partial f}{\partial x} = A^T x.", "A' @ x"),
    (r"\nabla_x f = (A + A^T) x", "(A + A') @ x"),
    # a prime as TeX sets X' (X^{\prime}) is X', a transpose, or a function's derivative
    (r"A^{\prime} x", "A' @ x"),
    (r"A^\prime x + x^{\prime} A", "A' @ x + x' @ A"),
    (r"(A x)^{\prime} B", "(A @ x)' @ B"),
    (r"\sigma^{\prime}(x) \odot a", "sigmoid(x) * (1 - sigmoid(x)) * a"),
    (r"\tanh^\prime(x)", "1 - tanh(x) * tanh(x)"),
    # \( \) and \[ \] delimit math, as $ and $$ do
    (r"\(A x\)", "A @ x"),
    (r"\[ \frac{\partial f}{\partial x} = A^T x \]", "A' @ x"),
    # LaTeX has no .^: a power of a vector or a non-square matrix has one reading, entrywise;
    # a square matrix's is the matrix power
    (r"x^2 + a", "x .^ 2 + a"),
    (r"(x - a)^{2} \odot b", "(x - a) .^ 2 * b"),
    (r"\hat{y}^{1/2} + x^{-1}", "yhat .^ (1 / 2) + x .^ -1"),
    (r"(A x)^{c}", "(A @ x) .^ c"),
    (r"(x^\top)^{3} a", "(x' .^ 3) @ a"),
    (r"(x a^T)^{2}", "(x @ a') ^ 2"),
    (r"A^2 x", "A ^ 2 @ x"),
    # \mathbf{1} without its size takes it from what it meets, as a bare I does
    (r"\mathbf{1} - x", "ones(n) - x"),
    (r"x \odot (\mathbf{1} - x)", "x * (ones(n) - x)"),
    (r"\mathbf{1}^\top x + c", "ones(n)' @ x + c"),
    (r"A \mathbf{1}", "A @ ones(n)"),
    (r"c \mathbf{1} - x", "c * ones(n) - x"),
    (r"(\mathbf{1} - x)^\top A", "(ones(n) - x)' @ A"),
    # \oslash is the Hadamard quotient, set at the level of \odot
    (r"a \oslash b", "a / b"),
    (r"a \oslash b \odot c", "a / b * c"),
    (r"a \oslash A x", "a / (A @ x)"),
]


@pytest.mark.parametrize("latex, text", SAME, ids=[s[0] for s in SAME])
def test_latex_reads_as_the_language(latex, text):
    assert read_latex(latex) is read_text(text)


def test_local_definitions_in_latex():
    node = read_latex(r"\delta_1 = \hat{y} - y \\ \delta_2 = A^T \delta_1; \delta_2 x^T")
    program, _ = answer_node(PROBLEM, r"\delta_1 = \hat{y} - y; \delta_1", True)
    assert "delta1" in program.definitions
    assert str(node) == "delta2 @ x'"


def test_aligned_environment():
    node = read_latex(r"\begin{align*} d &= \hat{y} - y \\ g &= A^T d \end{align*}")
    assert str(node) == "A' @ d"


@pytest.mark.parametrize("latex, error, message", [
    (r"A * x", ParseError, "ambiguous"),
    (r"|X|", UnsupportedError, "ambiguous"),
    (r"\foo x", ParseError, "unknown LaTeX command"),
    (r"\sigmaa(z)", ParseError, "did you mean 'sigma'"),
    (r"\partial x", UnsupportedError, "derivative notation"),
    (r"q + x", UnknownNameError, "unknown name 'q'"),
    (r"x_i", UnknownNameError, "entries of arrays"),
    (r"\|X\|", UnsupportedError, "say which norm"),  # \|X\|_2 is the spectral norm
    (r"\|x\|_1", UnsupportedError, "not supported"),
    (r"\mathbf{1} x^T", ShapeError, "write \\mathbf{1}_n"),  # ones(m) x': nothing tells m
    (r"\mathbf{1}", ShapeError, "write \\mathbf{1}_n"),
    (r"\mathbf{1} \mathbf{1}^\top", ShapeError, "write \\mathbf{1}_n"),
    (r"\mathbb{1}[z < 0]", ParseError, "indicator"),
    (r"(A + B", ParseError, "closing"),
    (r"A +", ParseError, "ends too early"),
    (r"x^23", ParseError, "^{23}"),
    (r"A^T x #", ParseError, "unexpected character"),
    (r"a = ; b", ParseError, "nothing after"),
    (r"\ = \hat y - y; y", ParseError, "nothing before '='"),
    (r"\cos'(x)", UnsupportedError, "derivative cos'"),
    ("", ParseError, "empty"),
    (r"\sum_i x_i^2", UnsupportedError, "matrix form"),  # \sum_i x_i y_i reads (einsum)
    # the defect: x - mu was silently taken as the answer, the definition after it dropped
    (r"x - \mu, \quad d = x", ParseError, "definition after the answer"),
])
def test_latex_errors(latex, error, message):
    with pytest.raises(error, match=re.escape(message)):
        read_latex(latex)


def test_error_points_at_the_place():
    with pytest.raises(UnknownNameError) as caught:
        read_latex(r"A^T x + \hat{q}")
    assert caught.value.column == 9 and "^" in str(caught.value)


def test_deep_nesting_is_a_limit_not_a_crash():
    with pytest.raises(LimitError):
        read_latex("(" * 10_000 + "x" + ")" * 10_000)
    with pytest.raises(LimitError):
        read_latex(r"\{" * 10_000)
    with pytest.raises(LimitError):
        read_latex("x" + "'" * 10_000)


def test_long_sums_are_read_without_recursion():
    node = read_latex(" + ".join(["x"] * 200))
    assert node.shape == read_text("x").shape


@pytest.mark.parametrize("text, is_latex", [
    (r"W^T x", True), (r"\hat{y} - y", True), (r"W_{1} x", True), (r"$x$", True),
    (r"W' @ x", False), (r"W^T @ x", False), ("yhat - y", False), ("A^-1 @ b", False),
])
def test_latex_is_detected(text, is_latex):
    assert looks_like_latex(text) is is_latex


def test_tokens_skip_spacing():
    kinds = [t.kind for t in tokens(r"\, A \quad \left( x \right) \;")]
    assert kinds == ["word", "sym", "word", "sym", "end"]


SHORT_NAMES = parse("x : vector(n)\nlam, eps, gam, sig, la, lamb : scalar\nf = lam * x' @ x\n")


@pytest.mark.parametrize("latex, text", [
    (r"\epsilon x", "eps * x"),        # a Greek letter the problem names by its first letters
    (r"\varepsilon x", "eps * x"),
    (r"\gamma x + x", "gam * x + x"),
    (r"\sigma(x)", "sigmoid(x)"),      # sigma stays the sigmoid beside a name sig
])
def test_a_greek_letter_is_the_problem_s_short_name(latex, text):
    assert answer_node(SHORT_NAMES, latex, True)[1] is answer_node(SHORT_NAMES, text, False)[1]


def test_a_greek_letter_with_two_short_names_or_its_own_name_is_not_shortened():
    with pytest.raises(UnknownNameError, match="lambda"):  # la, lam and lamb: which?
        answer_node(SHORT_NAMES, r"\lambda x", True)
    own = parse("x : vector(n)\nlam, lambda : scalar\nf = lam * x' @ x\n")
    assert str(answer_node(own, r"\lambda x", True)[1]) == "lambda * x"
    one = parse("x : vector(n)\nlam : scalar\nf = lam * x' @ x\n")
    assert str(answer_node(one, r"2 \lambda x", True)[1]) == "2 * lam * x"
