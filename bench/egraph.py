"""Equality saturation (egglog, and a small e-graph of our own) against matcalc's simplifier.

Run: pip install egglog; python bench/egraph.py [--iterations N]
For every gallery problem, each result is taken as derived before simplification (its deltas
substituted, so that both sides are whole trees), handed to an e-graph with the algebra below,
saturated for ``--iterations`` rounds and the smallest equal tree extracted, once by egglog and
once by bench/small_egraph.py (the same rules, parsed from the same text) (cost: one per
operation, name or number: the printed-token model of the gallery test). matcalc's own
simplifier works on the same input. Reports tree sizes and times per problem; asserts nothing.

The e-graph knows the algebra that needs no facts about the operands (commuting, associating,
distributing, transposes, Diag, collecting numbers); what needs a fact (x / x = 1 for x not zero,
det(inv X) = 1 / det X for X invertible, y * y = 1 for labels +-1) it does not know: in egglog
such rules are relations seeded from matcalc's facts, which this measurement leaves out.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import matcalc  # noqa: E402
from matcalc.core.ir import Node, size, walk  # noqa: E402
from matcalc.engine.simplify import substitute  # noqa: E402

ALGEBRA = """
(datatype T (Leaf String) (Num f64) (Op1 String T) (Op2 String T T))
(rewrite (Op2 "add" a b) (Op2 "add" b a))
(rewrite (Op2 "mul" a b) (Op2 "mul" b a))
(birewrite (Op2 "add" a (Op2 "add" b c)) (Op2 "add" (Op2 "add" a b) c))
(birewrite (Op2 "mul" a (Op2 "mul" b c)) (Op2 "mul" (Op2 "mul" a b) c))
(birewrite (Op2 "matmul" a (Op2 "matmul" b c)) (Op2 "matmul" (Op2 "matmul" a b) c))
(birewrite (Op2 "mul" a (Op2 "add" b c)) (Op2 "add" (Op2 "mul" a b) (Op2 "mul" a c)))
(birewrite (Op2 "mul" a (Op2 "sub" b c)) (Op2 "sub" (Op2 "mul" a b) (Op2 "mul" a c)))
(birewrite (Op2 "matmul" a (Op2 "add" b c)) (Op2 "add" (Op2 "matmul" a b) (Op2 "matmul" a c)))
(birewrite (Op2 "matmul" (Op2 "add" a b) c) (Op2 "add" (Op2 "matmul" a c) (Op2 "matmul" b c)))
(birewrite (Op2 "mul" a (Op2 "div" b c)) (Op2 "div" (Op2 "mul" a b) c))
(rewrite (Op1 "neg" (Op1 "neg" a)) a)
(rewrite (Op2 "sub" a (Op1 "neg" b)) (Op2 "add" a b))
(rewrite (Op2 "add" a (Op1 "neg" b)) (Op2 "sub" a b))
(birewrite (Op1 "neg" (Op2 "mul" a b)) (Op2 "mul" (Op1 "neg" a) b))
(rewrite (Op1 "transpose" (Op1 "transpose" a)) a)
(birewrite (Op1 "transpose" (Op2 "add" a b)) (Op2 "add" (Op1 "transpose" a) (Op1 "transpose" b)))
(birewrite (Op1 "transpose" (Op2 "sub" a b)) (Op2 "sub" (Op1 "transpose" a) (Op1 "transpose" b)))
(birewrite (Op1 "transpose" (Op2 "matmul" a b))
           (Op2 "matmul" (Op1 "transpose" b) (Op1 "transpose" a)))
(rewrite (Op2 "matmul" (Op1 "Diag" a) (Op1 "Diag" b)) (Op1 "Diag" (Op2 "mul" a b)))
(rewrite (Op2 "add" (Op1 "Diag" a) (Op1 "Diag" b)) (Op1 "Diag" (Op2 "add" a b)))
(rewrite (Op2 "sub" (Op1 "Diag" a) (Op1 "Diag" b)) (Op1 "Diag" (Op2 "sub" a b)))
(rewrite (Op2 "mul" (Num 1.0) a) a)
(rewrite (Op2 "mul" (Num a) (Num b)) (Num (* a b)))
(rewrite (Op2 "add" (Num a) (Num b)) (Num (+ a b)))
(rewrite (Op2 "add" a a) (Op2 "mul" (Num 2.0) a))
(rewrite (Op2 "add" (Op2 "mul" (Num c) a) a) (Op2 "mul" (Num (+ c 1.0)) a))
(rewrite (Op2 "add" (Op2 "mul" (Num c) a) (Op2 "mul" (Num d) a)) (Op2 "mul" (Num (+ c d)) a))
"""


def term(node: Node, names: dict[Node, str]) -> str:
    """The egglog term of ``node``: operations by name, everything else a leaf by its text."""
    if node in names:
        return names[node]
    if node.op == "const":
        return f"(Num {float(node.params[0])!r})"
    if not node.args:
        return '(Leaf "' + str(node).replace('"', "'") + '")'
    return f'(Op{len(node.args)} "{label(node)}" ' + " ".join(names[arg] for arg in node.args) \
        + ")"


def label(node: Node) -> str:
    """An operation's name, with its parameters when it has any (``sum(0,)``)."""
    return node.op + (repr(node.params) if node.params else "")


def program_of(roots: list[Node]) -> str:
    """egglog commands that build ``roots`` sharing their common parts, one let per node."""
    lines, names = [], {}
    for root in roots:
        for node in walk(root):
            if node not in names:
                text = term(node, names)
                names[node] = f"$n{len(names)}"
                lines.append(f"(let {names[node]} {text})")
    return "\n".join(lines), [names[root] for root in roots]


def whole(result) -> Node:
    """A result with its deltas substituted, innermost first."""
    node = result.result
    where = result.derivation.where
    for _ in range(len(where) + 1):
        referenced = {n.name for n in walk(node) if n.op == "ref" and n.name in where}
        if not referenced:
            break
        node = substitute(node, {name: where[name] for name in referenced})
    return node


def small_saturated(roots: list[Node], iterations: int) -> tuple[list[int], float]:
    """The same with the small e-graph of bench/small_egraph.py and the same rules."""
    from small_egraph import EGraph, rules_of

    start = time.perf_counter()
    graph, classes = EGraph(), {}
    for root in roots:
        for node in walk(root):
            if node in classes:
                continue
            if node.op == "const":
                classes[node] = graph.add(("Num", float(node.params[0])))
            elif not node.args:
                classes[node] = graph.add(("Leaf", str(node).replace('"', "'")))
            else:
                classes[node] = graph.add((f"Op{len(node.args)}", label(node)),
                                          tuple(classes[arg] for arg in node.args))
    graph.saturate(rules_of(ALGEBRA), iterations)
    return [graph.extract(classes[root]) for root in roots], time.perf_counter() - start


def each(results) -> list:
    """The results of a derivation as a list (a single Derivative too)."""
    return list(results) if isinstance(results, list) else [results]


def saturated(roots: list[Node], iterations: int) -> tuple[list[int], float]:
    """The smallest tree sizes the e-graph finds for ``roots``, and the seconds it took."""
    from egglog import bindings

    start = time.perf_counter()
    graph = bindings.EGraph()
    lets, names = program_of(roots)
    graph.run_program(*graph.parse_program(ALGEBRA + lets + f"\n(run {iterations})"))
    sizes = []
    for name in names:
        (best,) = graph.run_program(*graph.parse_program(f"(extract {name})"))
        sizes.append(best.cost // 2)  # each operation or leaf costs 1, and so does its label
    return sizes, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=6)
    arguments = parser.parse_args()
    print("| problem | unsimplified | matcalc | egglog | small e-graph | matcalc (ms) | "
          "egglog (ms) | small e-graph (ms) |")
    print("|---|---|---|---|---|---|---|---|")
    engines = {"egglog": saturated, "small e-graph": small_saturated}
    totals = {"unsimplified": 0, "matcalc": 0, **{name: 0 for name in engines}}
    times: dict[str, list[float]] = {name: [] for name in totals if name != "unsimplified"}
    smaller = dict.fromkeys(engines, 0)
    larger = dict.fromkeys(engines, 0)
    for path in sorted((ROOT / "derivations").glob("*.mc")):
        program = matcalc.parse(path.read_text())
        raw = [whole(r) for r in each(matcalc.derive(program, simplify=False, check=False))]
        start = time.perf_counter()
        simplified = each(matcalc.derive(program, check=False))
        times["matcalc"].append((time.perf_counter() - start) * 1000)
        sizes = {"unsimplified": sum(map(size, raw)),
                 "matcalc": sum(size(whole(r)) for r in simplified)}
        for name, engine in engines.items():
            found, seconds = engine(raw, arguments.iterations)
            sizes[name] = sum(found)
            times[name].append(seconds * 1000)
            smaller[name] += sizes[name] < sizes["matcalc"]
            larger[name] += sizes[name] > sizes["matcalc"]
        for name, value in sizes.items():
            totals[name] += value
        print(f"| {path.stem} | " + " | ".join(str(v) for v in sizes.values()) + " | " +
              " | ".join(f"{series[-1]:.1f}" for series in times.values()) + " |")
    print("\ntotal tree size: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    for name in engines:
        print(f"{name}: smaller than matcalc's on {smaller[name]} problems, larger on "
              f"{larger[name]}")
    print("median time per problem: " + ", ".join(
        f"{name} {statistics.median(series):.1f} ms" for name, series in times.items()))


if __name__ == "__main__":
    main()
