"""``matcalc derive``: derive what a problem requests (or --wrt/--of/--kind ask for) and print
it as text, JSON, LaTeX, steps, or NumPy / JAX / PyTorch code."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..engine.result import KINDS, LAYOUTS
from ..errors import ParseError
from ..present.terminal import colour_text, use_colour
from .common import EXIT_FAILED, EXIT_OK, add_command, load

if TYPE_CHECKING:
    from ..core.program import Program


def add_derive(commands) -> None:
    """The parser of ``matcalc derive``."""
    sub = add_command(commands, "derive", command_derive,
                      "derive gradients, Jacobians or Hessians")
    add_derivation_options(sub)
    sub.add_argument("--format",
                     choices=("text", "json", "latex", "numpy", "jax", "torch", "numba",
                              "torch-function", "jax-vjp"),
                     default="text",
                     help="text (the language), json, latex, numpy / jax / torch (a Python "
                          "module computing the results), numba (the numpy module with its "
                          "row-local functions as fused kernels), or torch-function / jax-vjp (a "
                          "gradient as the backward pass of a torch.autograd.Function with an "
                          "nn.Module, or of a jax.custom_vjp function)")
    sub.add_argument("--standalone", action="store_true",
                     help="with --format latex: a complete LaTeX document")
    sub.add_argument("--bold", action="store_true",
                     help="with --format latex: vectors and matrices in bold")
    sub.add_argument("--layout", choices=LAYOUTS,
                     default="mixed",
                     help="with --format latex: mixed (gradients shaped like the "
                          "variable, Jacobians (size F) x (size X); the default), "
                          "numerator (gradients transposed) or denominator "
                          "(Jacobians transposed)")
    sub.add_argument("--check", action="store_true",
                     help="prove each result thoroughly by finite differences (by "
                          "default a quick check runs: one point, two directions)")
    sub.add_argument("--no-check", action="store_true",
                     help="skip the default quick check")
    sub.add_argument("--steps", action="store_true",
                     help="show the derivation step by step (gradients; text or "
                          "LaTeX; with --check each step is tested)")


def add_derivation_options(sub: argparse.ArgumentParser) -> None:
    """What to derive: the options derive and check share."""
    sub.add_argument("--wrt", action="append", metavar="X",
                     help="differentiate with respect to X (repeatable, or X,Y); "
                          "default: the problem's requests, or every variable")
    sub.add_argument("--of", metavar="NAME", help="the definition to differentiate "
                                                  "(default: the last one)")
    sub.add_argument("--kind", choices=KINDS,
                     help="what to derive (default: the problem's requests; without "
                          "them, or with --wrt/--of, the gradient of a scalar and the "
                          "Jacobian of a vector or matrix)")
    sub.add_argument("--separate", action="store_true",
                     help="a Hessian with respect to several variables as its diagonal "
                          "blocks only (by default the joint Hessian: every block, "
                          "d2f_dw_dw, d2f_dw_db, d2f_db_db)")
    sub.add_argument("--seed", type=int, default=None, help="seed of the random points")


def asked_derivatives(arguments: argparse.Namespace, program: Program, quick: bool = False) -> list:
    """The Derivatives the command line asks for, grouped as requested (``quick``: each
    quick-checked, as ``derive`` does by default)."""
    import warnings

    from ..derive import Derivatives, derive, derive_by_request
    from ..errors import CheckWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CheckWarning)  # the command line reports it itself
        joint = not arguments.separate
        wrt = [name.strip() for given in arguments.wrt or () for name in given.split(",")
               if name.strip()]
        if arguments.wrt and not wrt:  # --wrt "" is a slip, not a request for the default
            raise ParseError("--wrt names no variable: give one, e.g. --wrt x (or leave "
                             "--wrt out for the problem's requests)")
        if wrt or arguments.of or arguments.kind or not program.requests:
            result = derive(program, wrt=wrt or None, of=arguments.of, kind=arguments.kind,
                            check=quick, joint=joint)
            return [result if isinstance(result, Derivatives) else Derivatives([result])]
        return derive_by_request(program, check=quick, joint=joint)


def _quick_failures(groups: list) -> list:
    """The quick checks that failed (not those that could not decide)."""
    return [d.checked for group in groups for d in group if d.checked is not None and
            not d.checked.ok and not d.checked.inconclusive and not d.checked.kink]


def _check_lines(group, group_verdicts: list | None, mark: str) -> list[str]:
    """A comment line per verdict of the group's check (--check), else per failed quick check."""
    return [f"{mark} check {verdict}" for verdict in group_verdicts or _quick_failures([group])]


def command_derive(arguments: argparse.Namespace) -> int:
    """Derive what the problem requests (or --wrt/--of/--kind ask for) and print it."""
    program = load(arguments)
    if arguments.check and arguments.no_check:
        raise ParseError("--check and --no-check exclude each other")
    groups = asked_derivatives(arguments, program, quick=not arguments.check and
                          not arguments.no_check)
    verdicts: list = [None] * len(groups)
    if arguments.check:
        from ..numeric.check import check

        verdicts = [check(list(group), seed=arguments.seed) for group in groups]
    quick_failures = _quick_failures(groups)
    failed = any(not v.ok for group in verdicts if group for v in group) or bool(quick_failures)
    for failure in quick_failures:
        print(f"matcalc: the result failed its numeric check and is not to be trusted (a "
              f"defect of matcalc): {failure}", file=sys.stderr)
    if arguments.steps and arguments.format != "json":
        return _print_steps(groups, arguments)
    print(_formatted(groups, verdicts, arguments))
    return EXIT_FAILED if failed else EXIT_OK


def _formatted(groups: list, verdicts: list, arguments: argparse.Namespace) -> str:
    """The results in the format --format asks for, with the verdicts of their checks."""
    if arguments.format == "json":
        import json

        from ..present.results_json import results_json

        return json.dumps(results_json(groups, verdicts, arguments.steps), indent=2)
    if arguments.format == "latex":
        return _latex(groups, verdicts, arguments.standalone, arguments.bold, arguments.layout)
    if arguments.format in ("numpy", "jax", "torch", "numba"):
        from ..codegen.module import generate_many

        return generate_many(groups, backend=arguments.format)
    if arguments.format in ("torch-function", "jax-vjp"):
        from ..codegen.wrappers import jax_vjp, torch_function

        write = torch_function if arguments.format == "torch-function" else jax_vjp
        return write(groups)
    if arguments.standalone or arguments.bold or arguments.layout != "mixed":
        raise ParseError("--standalone, --bold and --layout go with --format latex")
    from ..derive import rendered_blocks

    blocks = ["\n".join([block, *_check_lines(group, group_verdicts, "#")])
              for block, group, group_verdicts in zip(rendered_blocks(groups), groups, verdicts,
                                                      strict=True)]
    text = "\n\n".join(blocks)
    return colour_text(text) if use_colour(sys.stdout, arguments.color) else text


def _print_steps(groups: list, arguments: argparse.Namespace) -> int:
    from ..numeric.check_steps import check_steps
    from ..present.latex import standalone

    failed, blocks = False, []
    for group in groups:
        for derivative in group:
            shown_steps = derivative.steps
            for shown in shown_steps if isinstance(shown_steps, list) else [shown_steps]:
                text = shown.latex if arguments.format == "latex" else shown.text
                if arguments.check:
                    verdicts = check_steps(shown, seed=arguments.seed or 0)
                    failed = failed or not all(v.ok for v in verdicts)
                    mark = "%" if arguments.format == "latex" else "#"
                    text += "\n" + "\n".join(
                        f"{mark} step {'holds' if v.ok else 'FAILED'}: {v.claim} ({v.detail})"
                        for v in verdicts)
                blocks.append(text)
    if arguments.format == "latex" and arguments.standalone:
        print(standalone(blocks))
    else:
        print("\n\n".join(blocks))
    return EXIT_FAILED if failed else EXIT_OK


def _latex(groups: list, verdicts: list, whole_document: bool, bold: bool,
           layout: str = "mixed") -> str:
    from ..engine.result import header
    from ..present.latex import standalone

    blocks = []
    for group, group_verdicts in zip(groups, verdicts, strict=True):
        comments = [f"% {header(group)}", *_check_lines(group, group_verdicts, "%")]
        if layout != "mixed":
            comments.append(f"% {layout} layout")
        blocks.append((comments, group.latex_block(bold, layout)))
    if whole_document:
        return standalone(block for _, block in blocks)
    return "\n\n".join("\n".join(comments + [block]) for comments, block in blocks)
