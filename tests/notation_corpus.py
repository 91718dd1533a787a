# ruff: noqa: E501  (derivations keep their lines as written)
r"""A corpus of hand derivations in the notations people write: lecture notes (align blocks with
their markup), textbooks (\frac{\partial f}{\partial w}, \nabla_w f(w), \operatorname{tr},
\langle A, B \rangle) and math.SE answers ($$ ... $$, f(w) = \|Xw - y\|^2, \implies, "hence",
"where" lines), each correct or with one planted slip on a known line of its text.

Each entry: (problem, derivation, the line of the planted slip or None).  The identities are the
textbook ones: the ridge gradient 2 X^T (X w - y) + 2 lambda w (Hastie, Tibshirani & Friedman,
The Elements of Statistical Learning, eq. 3.44), d x^T A x = x^T (A + A^T) dx and
d tr(A X) = tr(A dX) (Petersen & Pedersen, The Matrix Cookbook, eqs. 81 and 100), d log det X =
tr(X^{-1} dX) (Cookbook eq. 57), the logistic gradient X^T (sigma(Xw) - y) (Bishop, Pattern
Recognition and Machine Learning, eq. 4.91), softmax cross-entropy W^T (softmax(Wx) - y)
(CS224n notes), d (U V^T) = dU V^T + U dV^T.
"""

RIDGE = ("X : matrix(N, d); y : vector(N); w : vector(d); lambda : scalar positive\n"
         "f = norm2(X @ w - y) ^ 2 + lambda * norm2(w) ^ 2")
LSQ = "A : matrix(m, n); x : vector(n); b : vector(m)\nr = A @ x - b\nf = r' @ r"
QUADRATIC = "x, b : vector(n); A : matrix(n, n)\nf = x' @ A @ x + b' @ x"
TRACE = "X, A : matrix(n, n)\nf = tr(A @ X) + tr(X' @ X)"
LOGDET = "X : matrix(n, n) invertible; S : matrix(n, n)\nf = logdet(X) - tr(S @ X)"
LOGISTIC = ("X : matrix(N, d); w : vector(d); y : vector(N)\n"
            "J = -sum(y * log(sigmoid(X @ w)) + (1 - y) * log(1 - sigmoid(X @ w)))")
SOFTMAX = ("W : matrix(k, n); x : vector(n); y : vector(k) simplex\n"
           "J = -sum(y * log(softmax(W @ x)))")
LAYER = "W : matrix(m, n); x : vector(n)\nz = W @ x\nf = sum(z * z)"
FACTOR = ("M : matrix(m, n); U : matrix(m, k); V : matrix(n, k)\n"
          "E = M - U @ V'\nf = norm(E) ^ 2")
HADAMARD = "x, a : vector(n)\nf = sum(a * x * x) + x' @ x"

LECTURE_NOTES = {
    "ridge, align with labels": (RIDGE, r"""\begin{align*}
f(w) &= \|Xw - y\|_2^2 + \lambda \|w\|_2^2 \label{eq:ridge} \\
\mathrm{d}f &= 2 (Xw - y)^\top X \, \mathrm{d}w + 2 \lambda w^\top \mathrm{d}w \nonumber \\
\nabla_w f &= 2 X^\top (Xw - y) + 2 \lambda w \notag
\end{align*}""", None),
    "ridge, align, factor 2 dropped": (RIDGE, r"""\begin{align}
\mathrm{d}f &= 2 (Xw - y)^\top X \, \mathrm{d}w + 2 \lambda w^\top \mathrm{d}w \nonumber \\
\nabla_w f &= 2 X^\top (Xw - y) + \lambda w \label{eq:grad}
\end{align}""", 3),
    "ridge, intertext": (RIDGE, r"""\begin{align*}
\mathrm{d}f &= 2 (Xw - y)^\top X \, \mathrm{d}w + 2 \lambda w^\top \mathrm{d}w
\intertext{hence}
\nabla_w f &= 2 X^\top (Xw - y) + 2 \lambda w
\end{align*}""", None),
    "ridge, intertext, sign slip": (RIDGE, r"""\begin{align*}
\mathrm{d}f &= 2 (Xw - y)^\top X \, \mathrm{d}w + 2 \lambda w^\top \mathrm{d}w
\intertext{hence}
\nabla_w f &= 2 X^\top (Xw - y) - 2 \lambda w
\end{align*}""", 4),
    "least squares, chain": (LSQ, r"""\begin{align*}
\mathrm{d}r &= A \, \mathrm{d}x \\
\mathrm{d}f &= 2 r^\top \mathrm{d}r \\
  &= 2 (A^\top r)^\top \mathrm{d}x \\
\frac{\partial f}{\partial x} &= 2 A^\top (Ax - b)
\end{align*}""", None),
    "least squares, lost transpose": (LSQ, r"""\begin{align*}
\mathrm{d}r &= A \, \mathrm{d}x \\
\mathrm{d}f &= 2 r^\top \mathrm{d}r \\
  &= 2 (A r)^\top \mathrm{d}x
\end{align*}""", 4),
    "quadratic, Rightarrow": (QUADRATIC, r"""\begin{align*}
\mathrm{d}f &= \mathrm{d}x^\top A x + x^\top A \, \mathrm{d}x + b^\top \mathrm{d}x \\
&= x^\top (A + A^\top) \, \mathrm{d}x + b^\top \mathrm{d}x \\
\Rightarrow \nabla_x f &= (A + A^\top) x + b
\end{align*}""", None),
    "quadratic, Rightarrow, symmetric assumed": (QUADRATIC, r"""\begin{align*}
\mathrm{d}f &= \mathrm{d}x^\top A x + x^\top A \, \mathrm{d}x + b^\top \mathrm{d}x \\
&= 2 x^\top A \, \mathrm{d}x + b^\top \mathrm{d}x \\
\Rightarrow \nabla_x f &= 2 A x + b
\end{align*}""", 3),
    "layer, trailing definition": (LAYER, r"""\begin{align*}
\nabla_x f &= 2 W^\top z, \qquad z = Wx \\
\nabla_W f &= 2 z x^\top
\end{align*}""", None),
    "layer, trailing definition, wrong outer product": (LAYER, r"""\begin{align*}
\nabla_x f &= 2 W^\top z, \qquad z = Wx \\
\nabla_W f &= 2 x z^\top
\end{align*}""", 3),
    "logistic, implies": (LOGISTIC, r"""\begin{align*}
\mathrm{d}J &= (\sigma(Xw) - y)^\top X \, \mathrm{d}w \\
\implies \frac{\partial J}{\partial w} &= X^\top (\sigma(Xw) - y)
\end{align*}""", None),
    "logistic, implies, sign": (LOGISTIC, r"""\begin{align*}
\mathrm{d}J &= (\sigma(Xw) - y)^\top X \, \mathrm{d}w \\
\implies \frac{\partial J}{\partial w} &= X^\top (y - \sigma(Xw))
\end{align*}""", 3),
    "factorisation, Frobenius": (FACTOR, r"""\begin{align*}
\mathrm{d}f &= -2 \langle E, \mathrm{d}U \, V^\top \rangle \\
  &= -2 \langle E V, \mathrm{d}U \rangle \\
\nabla_U f &= -2 (M - U V^\top) V
\end{align*}""", None),
    "factorisation, Frobenius, dropped minus": (FACTOR, r"""\begin{align*}
\mathrm{d}f &= -2 \langle E, \mathrm{d}U \, V^\top \rangle \\
  &= 2 \langle E V, \mathrm{d}U \rangle
\end{align*}""", 3),
}

TEXTBOOK = {
    "ridge, frac d": (RIDGE, r"\frac{df}{dw} = 2 X^\top (Xw - y) + 2\lambda w", None),
    "ridge, frac mathrm d": (RIDGE, r"\frac{\mathrm{d}f}{\mathrm{d}w} = 2 X^\top (Xw - y) "
                             r"+ 2\lambda w", None),
    "ridge, frac mathrm d, slip": (RIDGE, r"\frac{\mathrm{d}f}{\mathrm{d}w} = X^\top (Xw - y) "
                                   r"+ 2\lambda w", 1),
    "ridge, nabla braced": (RIDGE, r"\nabla_{w} f(w) = 2 X^\top (Xw - y) + 2 \lambda w", None),
    "ridge, nabla with cdot": (RIDGE, r"\nabla_w f = 2 X^\top \cdot (X w - y) + 2 \lambda "
                               r"\cdot w", None),
    "trace, operatorname": (TRACE, r"""\mathrm{d}f = \operatorname{tr}(A \, \mathrm{d}X) + \operatorname{tr}(\mathrm{d}X^\top X + X^\top \mathrm{d}X)
  = \langle A^\top + 2X, \mathrm{d}X \rangle
\nabla_X f = A^\top + 2X""", None),
    "trace, mathrm Tr, lost transpose": (TRACE, r"""\mathrm{d}f = \mathrm{Tr}(A \, \mathrm{d}X) + 2\,\mathrm{Tr}(X^\top \mathrm{d}X)
\nabla_X f = A + 2X""", 2),
    "logdet, partial": (LOGDET, r"""\mathrm{d}f = \operatorname{tr}(X^{-1} \mathrm{d}X) - \operatorname{tr}(S \, \mathrm{d}X)
\frac{\partial f}{\partial X} = X^{-T} - S^\top""", None),
    "logdet, inverse without transpose": (LOGDET, r"""\mathrm{d}f = \operatorname{tr}(X^{-1} \mathrm{d}X) - \operatorname{tr}(S \, \mathrm{d}X)
\frac{\partial f}{\partial X} = X^{-1} - S^\top""", 2),
    "softmax, nabla W J": (SOFTMAX, r"""\hat{y} = \operatorname{softmax}(W x)
\nabla_W J = (\hat{y} - y) x^\top
\nabla_x J = W^\top (\hat{y} - y)""", None),
    "softmax, nabla W J, transposed": (SOFTMAX, r"""\hat{y} = \operatorname{softmax}(W x)
\nabla_W J = (\hat{y} - y) x^\top
\nabla_x J = W (\hat{y} - y)^\top""", 3),
    "hadamard, odot": (HADAMARD, r"""\mathrm{d}f = \langle 2 a \odot x + 2x, \mathrm{d}x \rangle
\nabla_x f = 2 (a \circ x) + 2 x""", None),
    "hadamard, odot, factor": (HADAMARD, r"""\mathrm{d}f = \langle 2 a \odot x + 2x, \mathrm{d}x \rangle
\nabla_x f = a \circ x + 2 x""", 2),
    "quadratic, frac partial of an expression": (QUADRATIC, r"\frac{\partial}{\partial x} "
                                                 r"\left(x^\top A x + b^\top x\right) = "
                                                 r"(A + A^\top) x + b", None),
}

MATH_SE = {
    "ridge, function notation": (RIDGE, r"""$$f(w) = \|Xw - y\|^2 + \lambda \|w\|^2$$
$$\nabla_w f(w) = 2X^T(Xw - y) + 2\lambda w$$""", None),
    "ridge, function notation, sign": (RIDGE, r"""$$f(w) = \|Xw - y\|^2 + \lambda \|w\|^2$$
$$\nabla_w f(w) = 2X^T(y - Xw) + 2\lambda w$$""", 2),
    "ridge, function notation, lost square": (RIDGE, r"""$$f(w) = \|Xw - y\|^2 + \lambda \|w\|$$
$$\nabla_w f(w) = 2X^T(Xw - y) + 2\lambda w$$""", 1),
    "least squares, hence": (LSQ, r"""We have $\mathrm{d}f = 2 r^T \mathrm{d}r$ and $\mathrm{d}r = A\,\mathrm{d}x$.
hence
$$\frac{df}{dx} = 2 A^T (Ax - b)$$""", None),
    "least squares, therefore": (LSQ, r"""$$\mathrm{d}r = A \, \mathrm{d}x$$
$$\therefore \frac{df}{dx} = 2A^T r$$""", None),
    "least squares, therefore, missing 2": (LSQ, r"""$$\mathrm{d}r = A \, \mathrm{d}x$$
$$\therefore \frac{df}{dx} = A^T r$$""", 2),
    "quadratic, where": (QUADRATIC, r"""Write $M = A + A^T$ for short; then
$$\nabla_x f = M x + b$$""", None),
    "quadratic, where, wrong M": (QUADRATIC, r"""where $M = 2A$
$$\nabla_x f = M x + b$$""", 2),
    "layer, text where": (LAYER, r"""$$\nabla_W f = 2 z x^T, \quad \text{where } z = Wx$$""",
                          None),
    "logistic, frac with sigma prime": (LOGISTIC, r"""$$s = \sigma(Xw)$$
$$\frac{\partial J}{\partial w} = X^T(s - y)$$""", None),
    "logistic, frac with sigma prime, y s swapped": (LOGISTIC, r"""$$s = \sigma(Xw)$$
$$\frac{\partial J}{\partial w} = X^T s - y$$""", 2),
    "trace, implies chain": (TRACE, r"""$$df = tr(A\,dX) + tr(dX^T X) + tr(X^T dX)$$
$$\implies \nabla_X f = A^T + 2X$$""", None),
    "softmax, delta": (SOFTMAX, r"""Let $\delta = \operatorname{softmax}(Wx) - y$. Then
$$\frac{\partial J}{\partial W} = \delta x^T .$$""", None),
    "softmax, delta, wrong order": (SOFTMAX, r"""let $\delta = \operatorname{softmax}(Wx) - y$
$$\frac{\partial J}{\partial W} = x \delta^T .$$""", 2),
}

CORPUS = {**{f"lecture notes: {k}": v for k, v in LECTURE_NOTES.items()},
          **{f"textbook: {k}": v for k, v in TEXTBOOK.items()},
          **{f"math.SE: {k}": v for k, v in MATH_SE.items()}}
