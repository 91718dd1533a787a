"""How verdicts show in a notebook: ``_repr_html_`` with formulas as math, not LaTeX source.

Jupyter (JupyterLab, Notebook 7, the classic notebook) typesets ``\\( ... \\)`` and ``\\[ ... \\]``
in HTML output with its MathJax, so a formula is written between those delimiters, HTML-escaped
(MathJax reads the text, so ``<`` stays ``<``).  A step written in matcalc's language is code,
not LaTeX, and stays in ``<code>``; a hint keeps its lines (the caret under a parse error).
"""

from __future__ import annotations

from html import escape

from ..lang.latex_tokens import looks_like_latex

_HINT = "<div style='white-space:pre-wrap'>{}</div>"


def math_html(text: str, display: bool = False) -> str:
    """``text`` as math when it is LaTeX (``\\frac{\\partial J}{\\partial W} = ...``), else as
    code (``dJ_dW = delta1 @ h'``)."""
    if not looks_like_latex(text):
        return f"<code>{escape(text)}</code>"
    # the delimiters may not appear inside: a \) in the text would end the formula early
    body = escape(text.replace("\\)", "\\ )").replace("\\]", "\\ ]"), quote=False)
    return f"<div>\\[{body}\\]</div>" if display else f"<span>\\({body}\\)</span>"


def hint_html(text: str) -> str:
    """A hint, its lines kept as they are."""
    return _HINT.format(escape(text)) if text else ""


def verdict_html(ok: bool, head: str, hint: str, read_as_latex: str, read_as: str) -> str:
    """A verdict on one answer: correct or wrong, the hint, and the answer as matcalc read it
    (typeset from matcalc's own LaTeX of it)."""
    mark = "<b style='color:#176b2c'>correct</b>" if ok else \
        "<b style='color:#a3271f'>wrong</b>"
    parts = [f"<p>{mark}{escape(head)}</p>", hint_html(hint)]
    if read_as_latex:
        body = escape(read_as_latex, quote=False)
        parts.append(f"<p>read as:</p><div>\\[{body}\\]</div>")
    elif read_as:
        parts.append(f"<p>read as: <code>{escape(read_as)}</code></p>")
    return "".join(parts)


def steps_html(steps, closing: str) -> str:
    """A derivation's verdict: a row per step (its line, ok or wrong, the step typeset, why),
    then the closing sentence."""
    rows = "".join(
        f"<tr><td>{step.line}</td><td>{'ok' if step.ok else '<b>wrong</b>'}</td>"
        f"<td style='text-align:left'>{math_html(step.text)}</td>"
        f"<td style='text-align:left'>{hint_html(step.hint)}</td></tr>" for step in steps)
    return (f"<table><tr><th>line</th><th></th><th>step</th><th>why</th></tr>{rows}</table>"
            f"<p>{escape(closing)}</p>")
