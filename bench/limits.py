"""The limit cases of docs/robustness.md: each in a fresh process, its wall time, peak memory
and outcome.  Run: python bench/limits.py"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# a 200,000-character program: 5,980 definitions in a chain
PROGRAM = """
        lines, i = ["x : vector(n)", "h0 = x"], 0
        while sum(len(line) + 1 for line in lines) < 200_000:
            i += 1
            lines.append(f"h{i} = tanh(h{i-1}) * 0.5 + h{i-1}")
        source = "\\n".join(lines) + f"\\nf = sum(h{i})"
"""

CASES = {
    "10,000-deep parentheses": """
        source = "(" * 10_000 + "x" + ")" * 10_000
        outcome = run(lambda: matcalc.derive(source, wrt="x"))
    """,
    "10,000-deep LaTeX braces (verify)": """
        answer = "{" * 10_000 + "x" + "}" * 10_000
        outcome = run(lambda: matcalc.verify("x : vector(n)\\nf = sum(x)", "x", answer))
    """,
    "200,000-character sum": """
        source = "x : vector(n)\\nf = " + " + ".join(["x"] * 50_000)
        outcome = run(lambda: matcalc.derive(source, wrt="x"))
    """,
    "200,000-character program (5,980 definitions), parse": PROGRAM + """
        outcome = run(lambda: matcalc.parse(source))
    """,
    "200,000-character program, derive": PROGRAM + """
        outcome = run(lambda: matcalc.derive(source, wrt="x"))
    """,
    "240 KB line of \\begin{bmatrix} (derivation)": """
        line = "f = " + "\\\\begin{bmatrix} x " * 13_300
        outcome = run(lambda: matcalc.verify_derivation(QUADRATIC, line))
    """,
    "190 KB line of \\begin{bmatrix} (derivation, under the size cap)": """
        line = "f = " + "\\\\begin{bmatrix} x " * 10_500
        outcome = run(lambda: matcalc.verify_derivation(QUADRATIC, line))
    """,
    "300 KB nested d(d(...)) (derivation)": """
        text = "df = " + "d(" * 100_000 + "x" + ")" * 100_000
        outcome = run(lambda: matcalc.verify_derivation(QUADRATIC, text))
    """,
    "190 KB nested d(d(...)) (derivation, under the size cap)": """
        text = "df = " + "d(" * 63_000 + "x" + ")" * 63_000
        outcome = run(lambda: matcalc.verify_derivation(QUADRATIC, text))
    """,
    "2,000-line derivation (the most lines)": """
        text = "\\n".join(["df = ((A + A') @ x) : dx"] * 2_000)
        outcome = run(lambda: matcalc.verify_derivation(QUADRATIC, text))
    """,
    "60-layer tanh network, 61 gradients": """
        lines, previous, width = ["x : vector(d)", "y : vector(k) simplex"], "x", "d"
        for layer in range(1, 61):
            lines += [f"W{layer} : matrix(h, {width})", f"b{layer} : vector(h)",
                      f"h{layer} = tanh(W{layer} @ {previous} + b{layer})"]
            previous, width = f"h{layer}", "h"
        lines += ["U : matrix(k, h)", f"J = -sum(y * log(softmax(U @ {previous})))"]
        wrt = [f"W{i}" for i in range(1, 61)] + ["U"]
        outcome = run(lambda: matcalc.derive("\\n".join(lines), wrt=wrt))
    """,
}

PRELUDE = """
import json, resource, time
import matcalc

elapsed = 0.0
QUADRATIC = "x : vector(n); A : matrix(n, n)\\nf = x' @ A @ x"


def run(job):
    global elapsed
    start = time.perf_counter()
    try:
        job()
        return "result"
    except matcalc.MatcalcError as error:
        return type(error).__name__ + ": " + str(error).splitlines()[0][:90]
    finally:
        elapsed = time.perf_counter() - start
"""

EPILOGUE = """
print(json.dumps({"seconds": elapsed, "outcome": outcome,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    print("| case | outcome | seconds | peak memory |")
    print("|---|---|---|---|")
    for name, body in CASES.items():
        code = PRELUDE + textwrap.dedent(body) + EPILOGUE
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=120)
        if done.returncode != 0:
            print(f"| {name} | CRASH: {done.stderr.strip().splitlines()[-1]} | | |")
            continue
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"| {name} | {figures['outcome']} | {figures['seconds']:.2f} | "
              f"{figures['peak_mb']:.0f} MB |", flush=True)


if __name__ == "__main__":
    main()
