"""SymPy's rational-function algorithms against our simplifier on the elementwise sub-algebra.

Run: python bench/elementwise_sympy.py

Every maximal elementwise subexpression (+ - * / powers, sqrt) of the unsimplified results of
the gallery and the held-out set, its other subexpressions taken as commuting symbols (built
from our IR, never from text), is put through SymPy's cancel, together and factor_terms, and
through matcalc's simplifier; reported: total tree size (every form rebuilt as SymPy terms, its
atoms one node each, so that sizes compare) and median time of each.
"""

from __future__ import annotations

import pathlib
import statistics
import sys
import time

import sympy as sp

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import matcalc  # noqa: E402
from matcalc.core.ir import Node, size, walk  # noqa: E402
from matcalc.engine.pipeline import simplifier_for  # noqa: E402

REGION = {"add", "sub", "mul", "div", "neg", "pow", "sqrt"}


def to_symbols(node: Node, atoms: dict[Node, sp.Symbol]) -> sp.Expr:
    op = node.op
    if op == "const":
        return sp.nsimplify(node.params[0], rational=True)
    if op == "ones":
        return sp.Integer(1)
    if op not in REGION:
        return atoms.setdefault(node, sp.Symbol(f"a{len(atoms)}"))
    args = [to_symbols(arg, atoms) for arg in node.args]
    return {"add": lambda: args[0] + args[1], "sub": lambda: args[0] - args[1],
            "mul": lambda: args[0] * args[1], "div": lambda: args[0] / args[1],
            "neg": lambda: -args[0], "pow": lambda: args[0] ** args[1],
            "sqrt": lambda: sp.sqrt(args[0])}[op]()


def sympy_size(expr: sp.Expr) -> int:
    return sum(1 for _ in sp.preorder_traversal(expr))


def regions(root: Node) -> list[Node]:
    inside = {arg for node in walk(root) if node.op in REGION for arg in node.args}
    return [node for node in walk(root) if node.op in REGION and node not in inside
            and size(node) > 3]


def main() -> None:
    totals = {"unsimplified": 0, "matcalc": 0, "cancel": 0, "together": 0, "factor_terms": 0}
    times: dict[str, list[float]] = {name: [] for name in totals}
    count = 0
    paths = sorted((ROOT / "derivations").glob("*.mc")) + \
        sorted((ROOT / "bench" / "heldout").glob("*.mc"))
    for path in paths:
        program = matcalc.parse(path.read_text())
        try:
            results = matcalc.derive(program, check=False, simplify=False)
        except matcalc.MatcalcError:  # a problem with several requests: its first one
            continue
        derivatives = [results] if hasattr(results, "result") else list(results)
        simplify = simplifier_for(program)
        for derivative in derivatives:
            for root in [derivative.result, *derivative.where.values()]:
                for node in regions(root):
                    count += 1
                    expr = to_symbols(node, {})  # SymPy's own construction already folds
                    totals["unsimplified"] += sympy_size(expr)
                    start = time.perf_counter()
                    ours = simplify(node)
                    times["matcalc"].append(time.perf_counter() - start)
                    totals["matcalc"] += sympy_size(to_symbols(ours, {}))
                    for name, algorithm in (("cancel", sp.cancel), ("together", sp.together),
                                            ("factor_terms", sp.factor_terms)):
                        start = time.perf_counter()
                        out = algorithm(expr)
                        times[name].append(time.perf_counter() - start)
                        totals[name] += sympy_size(out)
    print(f"{count} elementwise subexpressions")
    print("| | total size | median time (ms) |\n|---|---|---|")
    for name, total in totals.items():
        median = f"{1000 * statistics.median(times[name]):.2f}" if times[name] else ""
        print(f"| {name} | {total} | {median} |")


if __name__ == "__main__":
    main()
