"""Hostile and odd inputs fired at the command line and the grader, each outcome recorded.

    python bench/adversary.py [--only WORD] [--jobs N] [--verbose]

Every probe runs ``matcalc`` in a fresh process (under a 3 GB address-space limit and a wall
clock of the time limit plus 6 s) on files written to a scratch folder: huge numbers, long names,
deep nesting, unicode, NUL bytes, CRLF, binary files, folders, links, huge sizes, many axes,
non-finite literals; answers that define the target, shadow the problem's names or use the
result's internal names; derivations with no step or restating the problem; LaTeX macros that
define or read. A probe is a defect when the process prints a traceback or an internal error,
exits with another code than 0, 1 or 2, runs past the limit, or when its verdict is not the one
the problem decides (``expect``). The workbench's probes are in ``bench/adversary_web.py``.
Exit 0 when no probe is a defect.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIME_LIMIT = 9.0
MEMORY = 3 << 30

LEAST = "A : matrix(m, n)\nx : vector(n)\nb : vector(m)\nL = norm2(A @ x - b) ^ 2\ngrad L wrt x\n"
RIGHT = "2 * A' @ (A @ x - b)"
QUAD = "A : matrix(n, n)\nx : vector(n)\nf = x' @ A @ x\n"
NET = (ROOT / "derivations" / "cs224n_one_layer.mc").read_text()


@dataclass
class Probe:
    """One hostile input: the command's arguments and the files it reads."""

    name: str
    area: str
    args: list[str]
    files: dict[str, bytes | str] = field(default_factory=dict)
    expect: str = "clean"  # clean | refused | correct | wrong | not correct | holds | not holds
    stdin: bytes | None = None
    says: str = ""  # words the output must hold


def _problem(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def cli_probes() -> list[Probe]:
    """Odd problem files and expressions for derive / check / verify / parse / eval."""
    probes: list[Probe] = []

    def add(name: str, args: list[str], files: dict | None = None, expect: str = "clean",
            stdin: bytes | None = None) -> None:
        probes.append(Probe(name, "cli", args, files or {}, expect, stdin))

    long_name = "x" * 1_000_000
    add("million-character name", ["derive", "p.mc"],
        {"p.mc": f"{long_name} : vector(n)\nf = {long_name}' @ {long_name}\n"}, "refused")
    add("100k-character name", ["derive", "p.mc"],
        {"p.mc": f"{'y' * 100_000} : vector(n)\nf = sum({'y' * 100_000})\n"})
    add("deep parens 10^4", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\nf = sum(" + "(" * 10_000 + "x" + ")" * 10_000 + ")\n"},
        "refused")
    add("deep calls 300", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\nf = sum(" + "exp(" * 300 + "x" + ")" * 300 + ")\n"}, "refused")
    add("deep transposes", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\nf = x" + "'" * 5000 + " @ x\n"})
    add("long minus chain", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\nf = " + "-" * 5000 + "sum(x)\n"})
    add("unicode names", ["derive", "p.mc"],
        {"p.mc": "θ : vector(n)\nf = sum(θ .^ 2)\n"})
    add("unicode greek lookalike", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\nf = sum(х .^ 2)\n"}, "refused")  # Cyrillic x
    add("zero-width space", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\nf = sum(x\u200b .^ 2)\n"}, "refused")
    add("right-to-left override", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\nf = sum(\u202ex .^ 2)\n"}, "refused")
    add("NUL byte", ["derive", "p.mc"], {"p.mc": b"x : vector(n)\nf = sum(x\x00)\n"}, "refused")
    add("NUL byte in a comment", ["derive", "p.mc"],
        {"p.mc": b"# \x00\nx : vector(n)\nf = sum(x)\n"})
    add("CRLF", ["derive", "p.mc"], {"p.mc": b"x : vector(n)\r\nf = sum(x .^ 2)\r\n"})
    add("CR only", ["derive", "p.mc"], {"p.mc": b"x : vector(n)\rf = sum(x .^ 2)\r"})
    add("form feed and vertical tab", ["derive", "p.mc"],
        {"p.mc": b"x : vector(n)\x0c\nf = sum(x\x0b .^ 2)\n"})
    add("binary file", ["derive", "p.mc"], {"p.mc": bytes(range(256)) * 40}, "refused")
    add("latin-1 file", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\n# caf\xe9\nf = sum(x)\n".encode("latin-1")}, "refused")
    add("utf-16 file", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\nf = sum(x)\n".encode("utf-16")}, "refused")
    add("gzip file", ["derive", "p.mc"], {"p.mc": b"\x1f\x8b\x08\x00" + b"\x00" * 100}, "refused")
    add("empty file", ["derive", "p.mc"], {"p.mc": ""}, "refused")
    add("only comments", ["derive", "p.mc"], {"p.mc": "# nothing\n\n"}, "refused")
    add("a folder as problem", ["derive", "folder"], {"folder/a.mc": QUAD}, "refused")
    add("a folder to check", ["check", "folder"], {"folder/a.mc": QUAD})
    add("empty folder to check", ["check", "empty"], {"empty/.keep": ""}, "refused")
    add("symlink to a problem", ["derive", "link.mc"], {"real.mc": QUAD, "link.mc@": "real.mc"})
    add("dangling symlink", ["derive", "dangle.mc"], {"dangle.mc@": "nowhere.mc"}, "refused")
    add("symlink loop", ["derive", "loop.mc"], {"loop.mc@": "loop.mc"}, "refused")
    add("/dev/zero", ["derive", "/dev/zero"], {}, "refused")
    add("/dev/null", ["derive", "/dev/null"], {}, "refused")
    add("fifo", ["derive", "fifo.mc"], {"fifo.mc|": ""}, "refused")
    add("missing file", ["derive", "nothere.mc"], {}, "refused")
    add("unreadable file", ["derive", "secret.mc"], {"secret.mc!": QUAD})  # root reads it
    add("huge file 5 MB", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\n" + "# " + "a" * 5_000_000 + "\nf = sum(x)\n"}, "refused")
    add("matrix(10^9, 10^9) derive", ["derive", "p.mc"],
        {"p.mc": "A : matrix(1000000000, 1000000000)\nf = tr(A)\n"})
    add("matrix(10^9, 10^9) check", ["check", "p.mc"],
        {"p.mc": "A : matrix(1000000000, 1000000000)\nf = tr(A @ A)\n"})
    add("matrix(10^9, 10^9) eval", ["eval", "p.mc"],
        {"p.mc": "A : matrix(1000000000, 1000000000)\nf = tr(A)\n"}, "refused")
    add("vector(10^30)", ["derive", "--check", "p.mc"],
        {"p.mc": "x : vector(1000000000000000000000000000000)\nf = sum(x .^ 2)\n"})
    add("vector(0)", ["derive", "p.mc"], {"p.mc": "x : vector(0)\nf = sum(x)\n"}, "refused")
    add("vector(-3)", ["derive", "p.mc"], {"p.mc": "x : vector(-3)\nf = sum(x)\n"}, "refused")
    add("vector(2.5)", ["derive", "p.mc"], {"p.mc": "x : vector(2.5)\nf = sum(x)\n"}, "refused")
    add("vector(1e308)", ["derive", "p.mc"], {"p.mc": "x : vector(1e308)\nf = sum(x)\n"},
        "refused")
    add("ones(10^9) in a definition", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\nf = sum(x) * sum(ones(1000000000))\n"})
    add("I(10^9) check", ["check", "p.mc"],
        {"p.mc": "x : vector(n)\nf = x' @ I(1000000000) @ x\n"}, "refused")
    add("kron of big sizes", ["check", "p.mc"],
        {"p.mc": "A : matrix(3000, 3000)\nB : matrix(3000, 3000)\nf = sum(kron(A, B))\n"})
    add("tensor of 40 axes", ["derive", "p.mc"],
        {"p.mc": "X : tensor(" + ", ".join(["2"] * 40) + ")\nf = sum(X .^ 2)\n"})
    add("tensor of 40 axes check", ["check", "p.mc"],
        {"p.mc": "X : tensor(" + ", ".join(["2"] * 40) + ")\nf = sum(X .^ 2)\n"})
    add("tensor of 40 symbolic axes", ["check", "p.mc"],
        {"p.mc": "X : tensor(" + ", ".join(f"d{i}" for i in range(40)) + ")\nf = sum(X .^ 2)\n"})
    add("tensor of 1000 axes", ["derive", "p.mc"],
        {"p.mc": "X : tensor(" + ", ".join(["2"] * 1000) + ")\nf = sum(X)\n"})
    add("literal 1e308 * 10", ["check", "p.mc"],
        {"p.mc": "x : vector(n)\nf = sum(x) * 1e308 * 10\n"}, "refused")
    add("literal 1e309", ["derive", "p.mc"], {"p.mc": "x : vector(n)\nf = sum(x) * 1e309\n"},
        "refused")
    add("literal 1e-400", ["derive", "p.mc"], {"p.mc": "x : vector(n)\nf = sum(x) * 1e-400\n"})
    add("literal nan", ["derive", "p.mc"], {"p.mc": "x : vector(n)\nf = sum(x) * nan\n"},
        "refused")
    add("literal inf", ["check", "p.mc"], {"p.mc": "x : vector(n)\nf = sum(x) * inf\n"})
    add("literal -inf in where", ["check", "p.mc"],
        {"p.mc": "x : vector(n)\nf = sum(exp(x) - inf)\n"})
    add("literal 10^400 digits", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\nf = sum(x) * " + "9" * 400 + "\n"}, "refused")
    add("power 10^9", ["derive", "p.mc"], {"p.mc": "x : vector(n)\nf = sum(x .^ 1000000000)\n"})
    add("matrix power 10^9", ["derive", "p.mc"],
        {"p.mc": "A : matrix(n, n)\nf = tr(A ^ 1000000000)\n"}, "refused")
    add("power 1e308", ["check", "p.mc"], {"p.mc": "x : vector(n)\nf = sum(x .^ 1e308)\n"})
    add("2 ^ 2 ^ 2 ^ 2 ^ 2 ^ 2", ["check", "p.mc"],
        {"p.mc": "x : vector(n)\nf = sum(x) * 2 ^ 2 ^ 2 ^ 2 ^ 2 ^ 2\n"})
    add("10^6 definitions chain", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\nt0 = x\n" + "".join(f"t{i} = t{i - 1}\n" for i in range(1, 60_000))
         + "f = sum(t59999)\n"}, "refused")
    add("one-line python", ["derive", "__import__('os').system('echo PWNED')"], {}, "refused")
    add("lambda expression", ["derive", "(lambda: 1)()"], {}, "refused")
    add("dunder names", ["derive", "x : vector(n)\n__class__ = sum(x)"], {})
    add("keyword names", ["derive", "p.mc"],
        {"p.mc": "def : vector(n)\nimport = sum(def .^ 2)\n"})
    add("name shadows function", ["derive", "p.mc"],
        {"p.mc": "exp : vector(n)\nf = sum(exp(exp))\n"}, "refused")
    add("name shadows I", ["derive", "p.mc"], {"p.mc": "I : vector(n)\nf = sum(I .^ 2)\n"})
    add("declared twice", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\nx : matrix(n, n)\nf = sum(x)\n"}, "refused")
    add("defined twice", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\nf = sum(x)\nf = sum(x .^ 2)\n"}, "refused")
    add("self reference", ["derive", "p.mc"], {"p.mc": "x : vector(n)\nf = f + sum(x)\n"},
        "refused")
    add("cycle of definitions", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\ng = f + sum(x)\nf = g * 2\n"}, "refused")
    add("grad wrt a definition", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\ng = x .^ 2\nf = sum(g)\ngrad f wrt g\n"})
    add("grad wrt a dimension", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\nf = sum(x) * n\ngrad f wrt n\n"}, "refused")
    add("grad of a variable", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\nf = sum(x)\ngrad x wrt x\n"})
    add("--wrt unknown", ["derive", "--wrt", "zz", "p.mc"], {"p.mc": QUAD}, "refused")
    add("--wrt empty", ["derive", "--wrt", "", "p.mc"], {"p.mc": QUAD}, "refused")
    add("--wrt commas", ["derive", "--wrt", ",,,", "p.mc"], {"p.mc": QUAD}, "refused")
    add("--of unknown", ["derive", "--of", "zz", "p.mc"], {"p.mc": QUAD}, "refused")
    add("--of a variable", ["derive", "--of", "x", "p.mc"], {"p.mc": QUAD})
    add("--let bad", ["derive", "--let", "A : matrix(", "p.mc"], {"p.mc": QUAD}, "refused")
    add("--let code", ["derive", "--let", "__import__('os')", "p.mc"], {"p.mc": QUAD}, "refused")
    add("--let new name", ["derive", "--let", "z : vector(n)", "p.mc"], {"p.mc": QUAD})
    add("--seed huge", ["derive", "--seed", "99999999999999999999999", "p.mc"], {"p.mc": QUAD})
    add("--seed negative", ["derive", "--seed", "-1", "p.mc"], {"p.mc": QUAD})
    add("--seed text", ["derive", "--seed", "abc", "p.mc"], {"p.mc": QUAD}, "refused")
    add("--time-limit 0", ["--time-limit", "0", "derive", "p.mc"], {"p.mc": QUAD}, "refused")
    add("--time-limit nan", ["--time-limit", "nan", "derive", "p.mc"], {"p.mc": QUAD}, "refused")
    add("--time-limit inf", ["--time-limit", "inf", "derive", "p.mc"], {"p.mc": QUAD})
    add("--time-limit -5", ["--time-limit", "-5", "derive", "p.mc"], {"p.mc": QUAD}, "refused")
    add("--time-limit 1e308", ["--time-limit", "1e308", "derive", "p.mc"], {"p.mc": QUAD})
    add("--kind hessian of vector", ["derive", "--kind", "hessian", "p.mc"],
        {"p.mc": "x : vector(n)\nf = x .^ 2\n"})
    add("format torch 40 axes", ["derive", "--format", "torch", "p.mc"],
        {"p.mc": "X : tensor(" + ", ".join(["2"] * 40) + ")\nf = sum(X .^ 2)\n"})
    add("format latex weird names", ["derive", "--format", "latex", "p.mc"],
        {"p.mc": "x_1_2__ : vector(n)\nf = sum(x_1_2__ .^ 2)\n"})
    add("format numpy keyword name", ["derive", "--format", "numpy", "p.mc"],
        {"p.mc": "lambda_ : scalar\nnp : vector(n)\nf = lambda_ * sum(np .^ 2)\n"})
    add("format numpy name np", ["derive", "--format", "numpy", "p.mc"],
        {"p.mc": "np : vector(n)\nf = sum(np .^ 2)\n"})
    add("format torch name torch", ["derive", "--format", "torch", "p.mc"],
        {"p.mc": "torch : vector(n)\nf = sum(torch .^ 2)\n"})
    add("parse stdin dash", ["parse", "-"], {}, "clean", b"x : vector(n)\nf = sum(x)\n")
    add("eval size huge", ["eval", "--size", "n=1000000000", "p.mc"], {"p.mc": QUAD}, "refused")
    add("eval size zero", ["eval", "--size", "n=0", "p.mc"], {"p.mc": QUAD}, "refused")
    add("eval size garbage", ["eval", "--size", "n=1e3", "p.mc"], {"p.mc": QUAD}, "refused")
    add("eval size unknown dim", ["eval", "--size", "zz=3", "p.mc"], {"p.mc": QUAD}, "refused")
    add("check many files same", ["check", "p.mc", "p.mc", "p.mc"], {"p.mc": QUAD})
    add("derive with steps deep net", ["derive", "--steps", "p.mc"], {"p.mc": NET})
    add("request list huge", ["derive", "p.mc"],
        {"p.mc": "x : vector(n)\nf = sum(x)\n" + "grad f wrt x\n" * 5000})
    add("declaration of 1000 dims", ["derive", "p.mc"],
        {"p.mc": "".join(f"x{i} : vector(n{i})\n" for i in range(1000)) + "f = sum(x0)\n"})
    add("serve at a name IDNA cannot encode", ["serve", "--host", "evil..name"], {}, "refused")
    add("serve at another machine's address", ["serve", "--host", "8.8.8.8"], {}, "refused")
    add("serve at a name that does not resolve", ["serve", "--host", "999.1.1.1"], {},
        "refused")
    add("scalar declared matrix(1,1)", ["check", "p.mc"],
        {"p.mc": "a : matrix(1, 1)\nx : vector(n)\nf = sum(a @ x')\n"})
    return probes


def _verify(answer: str, problem: str = LEAST, *extra: str, expect: str = "wrong",
            name: str = "", wrt: str = "x") -> Probe:
    return Probe(name or answer[:60], "grader",
                 ["verify", "p.mc", "--wrt", wrt, "--answer-file", "a.txt", *extra],
                 {"p.mc": problem, "a.txt": answer}, expect)


def grader_probes() -> list[Probe]:
    """Answers and derivations that try to steer a verdict, and odd class files."""
    p: list[Probe] = []
    # answers that talk about themselves
    p.append(_verify(RIGHT, expect="correct", name="the right answer"))
    p.append(_verify("x", name="a wrong answer"))
    p.append(_verify("L", name="the target itself"))
    p.append(_verify("L = 0; 2 * A' @ (A @ x - b) + L", name="answer defines the target",
                     expect="not correct"))
    p.append(_verify("x = 0 * x; x", name="answer redefines the variable",
                     expect="not correct"))
    p.append(_verify("A = 0 * A; 2 * A' @ (A @ x - b)", name="answer zeroes A",
                     expect="not correct"))
    p.append(_verify("b = A @ x; 0 * x", name="answer moves b to a root",
                     expect="not correct"))
    p.append(_verify("where A = I; 2 * (x - b)", name="where shadows A", expect="not correct"))
    p.append(_verify("let b = A @ x; 0 * x", name="let shadows b", expect="not correct"))
    p.append(_verify("m = n; 2 * A' @ (A @ x - b)", name="answer redefines a dimension",
                     expect="refused"))
    p.append(_verify("delta1 @ x'", name="internal delta1", expect="refused"))
    p.append(_verify("q1", name="internal q1", expect="refused"))
    p.append(_verify("Q1", name="internal Q1", expect="refused"))
    p.append(_verify("_t1", name="internal _t1", expect="refused"))
    p.append(_verify("prepared", name="internal prepared", expect="refused"))
    p.append(_verify("dL_dx", name="the result's name", expect="refused"))
    p.append(_verify("grad_L", name="grad_ name", expect="refused"))
    p.append(_verify("J_x", name="J_ name", expect="refused"))
    p.append(_verify("_grad", name="internal _grad", expect="refused"))
    p.append(_verify("np.zeros(3)", name="numpy call", expect="refused"))
    p.append(_verify("__import__('os').system('id')", name="import", expect="refused"))
    p.append(_verify("norm2(A @ x - b) ^ 2", name="answer equal to the problem text"))
    p.append(_verify("2 * A' @ (A @ x - b) # correct", name="comment claims correct",
                     expect="correct"))
    p.append(_verify("x % correct", name="latex comment claims", expect="not correct"))
    p.append(_verify("", name="empty answer", expect="refused"))
    p.append(_verify("   \n\n  ", name="blank answer", expect="refused"))
    p.append(_verify("\x00", name="NUL answer", expect="refused"))
    p.append(_verify("2 * A' @ (A @ x - b)\x00", name="NUL after right answer", expect="refused"))
    p.append(_verify("2 * A' @ (A @ x - b)\r\n", name="CRLF right answer", expect="correct"))
    p.append(_verify("x" * 200_000, name="200k answer", expect="refused"))
    p.append(_verify("(" * 5000 + "x" + ")" * 5000, name="deep answer", expect="refused"))
    p.append(_verify("x + " * 3000 + "x", name="long sum answer", expect="refused"))
    p.append(_verify("x * 1e308 * 10", name="overflowing answer", expect="not correct"))
    p.append(_verify("x * nan", name="nan answer", expect="refused"))
    p.append(_verify("x * inf", name="inf answer", expect="refused"))
    p.append(_verify("2 * A' @ (A @ x - b) + 0 * inf * x", name="0*inf", expect="refused"))
    p.append(_verify("2 * A' @ (A @ x - b) + 0 * log(0) * x", name="0*log 0",
                     expect="wrong"))
    p.append(_verify("ones(1000000000) ", name="ones 10^9 answer"))
    p.append(_verify("2 * A' @ (A @ x - b) + 0 * sum(ones(1000000000)) * x",
                     name="ones 10^9 hidden", expect="refused"))
    p.append(_verify("2 * kron(A, A)", name="kron of answer", expect="wrong"))
    p.append(_verify("2 * A' @ (A @ x - b) + x * 0 ^ 0", name="0^0", expect="wrong"))
    p.append(_verify("2 * A' @ (A @ x - b) .^ 1", name="power one", expect="correct"))
    p.append(_verify("2 A^\\top (A x - b)", name="latex right", expect="correct"))
    p.append(_verify("\\def\\x{1} 2 A^\\top (A x - b)", name="latex def", expect="refused"))
    p.append(_verify("\\newcommand{\\g}{2 A^\\top (A x - b)} \\g", name="latex newcommand",
                     expect="refused"))
    p.append(_verify("\\input{/etc/passwd}", name="latex input", expect="refused"))
    p.append(_verify("\\write18{rm -rf /}", name="latex write18", expect="refused"))
    p.append(_verify("\\immediate\\write18{id} 2 A^\\top (A x - b)", name="latex immediate",
                     expect="refused"))
    p.append(_verify("\\catcode`\\^=7 x", name="latex catcode", expect="refused"))
    p.append(_verify("\\text{correct}", name="latex text claims", expect="refused"))
    p.append(_verify("\\href{javascript:alert(1)}{x}", name="latex href", expect="refused"))
    p.append(_verify("$$" * 2000, name="dollar storm", expect="refused"))
    p.append(_verify("\\sum_{i} " * 300 + "x_i", name="300 nested sums", expect="refused"))
    p.append(_verify("\\log " * 1000 + "x", name="1000 nested logs", expect="refused"))
    p.append(_verify("\\operatorname{tr} " * 1000 + "x", name="1000 nested traces",
                     expect="refused"))
    p.append(_verify("\\frac{" * 3000 + "x" + "}{2}" * 3000, name="deep frac", expect="refused"))
    p.append(_verify("\\left(" * 500 + "x" + "\\right)" * 500, name="deep left",
                     expect="refused"))
    p.append(_verify("2 * A' @ (A @ x - b)", LEAST, "--latex", name="--latex on language",
                     expect="clean"))
    p.append(_verify("2 A^T(Ax-b)", LEAST, "--no-latex", name="--no-latex on latex",
                     expect="refused"))
    p.append(_verify("2 * A' @ (A @ x - b)", LEAST, "--kind", "hessian", name="grad as hessian",
                     expect="wrong"))
    p.append(_verify("2 * A' @ A", LEAST, "--kind", "hessian", name="hessian right",
                     expect="correct"))
    p.append(_verify("2 * A' @ (A @ x - b)", LEAST, "--of", "x", name="--of variable",
                     expect="refused"))
    p.append(_verify("2 * A' @ (A @ x - b)", LEAST, wrt="zz", name="--wrt unknown",
                     expect="refused"))
    p.append(_verify("2 * A' @ (A @ x - b)", LEAST, wrt="m", name="--wrt a dimension",
                     expect="refused"))
    p.append(_verify("2 * A' @ (A @ x - b)", LEAST, wrt="L", name="--wrt the target"))
    # answers in the cs224n problem, with its deltas
    p.append(Probe("net: delta2 without allow", "grader",
                   ["verify", "net.mc", "--wrt", "W", "--answer", "delta2 @ x'"],
                   {"net.mc": NET}, "refused"))
    p.append(Probe("net: delta9 without allow", "grader",
                   ["verify", "net.mc", "--wrt", "W", "--answer", "delta9 @ x'"],
                   {"net.mc": NET}, "refused"))
    p.append(Probe("net: own delta2 definition", "grader",
                   ["verify", "net.mc", "--wrt", "W", "--answer",
                    "delta2 = 0 * z; delta2 @ x'"], {"net.mc": NET}, "wrong"))
    p.append(Probe("net: defines yhat differently", "grader",
                   ["verify", "net.mc", "--wrt", "U", "--answer",
                    "yhat = y; (yhat - y) @ h'"], {"net.mc": NET}, "not correct"))
    p.append(Probe("net: where z = 0", "grader",
                   ["verify", "net.mc", "--wrt", "U", "--answer",
                    "(softmax(theta) - y) @ relu(z)' where z = -abs(z)"], {"net.mc": NET},
                   "not correct"))
    # derivations
    def deriv(name: str, text: str, expect: str, problem: str = QUAD, *extra: str) -> Probe:
        return Probe(name, "derivation", ["verify", "p.mc", "--derivation", "d.tex", *extra],
                     {"p.mc": problem, "d.tex": text}, expect)

    p.append(deriv("right derivation", "df = dx' @ A @ x + x' @ A @ dx\ndf_dx = (A + A') @ x\n",
                   "holds"))
    p.append(deriv("empty derivation", "", "not holds"))
    p.append(deriv("blank lines", "\n\n   \n", "not holds"))
    p.append(deriv("comments only", "% nothing\n# nothing\n", "not holds"))
    p.append(deriv("restates the problem", "f = x' @ A @ x\n", "not holds"))
    p.append(deriv("restates twice", "f = x' @ A @ x = x' @ A @ x\n", "not holds"))
    p.append(deriv("gradient equals itself", "df_dx = df_dx\n", "not holds"))
    p.append(deriv("nabla equals nabla", "\\nabla_x f = \\nabla_x f\n", "not holds"))
    p.append(deriv("defines g as gradient then claims", "g = \\nabla_x f\n\\nabla_x f = g\n",
                   "not holds"))
    p.append(deriv("wrong final", "df_dx = 2 * A @ x\n", "not holds"))
    p.append(deriv("right final", "df_dx = (A + A') @ x\n", "holds"))
    p.append(deriv("where shadows A", "where A = I\ndf_dx = 2 * x\n", "not holds"))
    p.append(deriv("let shadows x", "let x = 0 * x\ndf_dx = 0 * x\n", "not holds"))
    p.append(deriv("defines f anew", "f = 0\ndf_dx = 0 * x\n", "not holds"))
    p.append(deriv("uses delta1", "df_dx = delta1\n", "not holds"))
    p.append(deriv("uses q1", "df_dx = q1\n", "not holds"))
    p.append(deriv("uses _t1", "df_dx = _t1\n", "not holds"))
    p.append(deriv("latex def in derivation", "\\def\\g{(A + A^T) x}\n\\nabla_x f = \\g\n",
                   "not holds"))
    p.append(deriv("newcommand in derivation",
                   "\\newcommand{\\g}{(A + A^T) x}\n\\nabla_x f = \\g\n", "not holds"))
    p.append(deriv("input in derivation", "\\input{/etc/passwd}\n\\nabla_x f = (A + A^T) x\n",
                   "not holds"))
    p.append(deriv("write18 in derivation", "\\write18{id}\n\\nabla_x f = (A + A^T) x\n",
                   "not holds"))
    p.append(deriv("10^5 empty lines", "\n" * 100_000, "refused"))
    p.append(deriv("2001 lines", "df_dx = (A + A') @ x\n" * 2001, "refused"))
    p.append(deriv("binary derivation", bytes(range(256)).decode("latin-1"), "not holds"))
    p.append(Probe("binary derivation bytes", "derivation",
                   ["verify", "p.mc", "--derivation", "d.tex"],
                   {"p.mc": QUAD, "d.tex": bytes(range(256)) * 10}, "refused"))
    p.append(Probe("derivation is a folder", "derivation",
                   ["verify", "p.mc", "--derivation", "dd"], {"p.mc": QUAD, "dd/x": ""},
                   "refused"))
    p.append(Probe("derivation from stdin", "derivation",
                   ["verify", "p.mc", "--derivation", "-"], {"p.mc": QUAD}, "holds",
                   b"df_dx = (A + A') @ x\n"))
    p.append(deriv("numerator layout", "df_dx = x' @ (A + A')\n", "holds", QUAD, "--layout",
                   "numerator"))
    p.append(deriv("CRLF derivation", "df = dx' @ A @ x + x' @ A @ dx\r\ndf_dx = (A + A') @ x\r\n",
                   "holds"))
    p.append(deriv("a differential that is trivially true", "df = d(f)\n", "not holds"))
    p.append(deriv("differential 0 = 0", "0 = 0\n", "not holds"))
    p.append(deriv("x = x", "x = x\n", "not holds"))
    p.append(deriv("1 = 1 then gradient", "1 = 1\ndf_dx = (A + A') @ x\n", "holds"))
    # batch grading with odd class files
    csv_head = "student,problem,wrt,answer\n"

    def batch(name: str, csv: str | bytes, expect: str = "clean", *extra: str,
              files: dict | None = None) -> Probe:
        return Probe(name, "batch", ["verify", "--batch", "c.csv", *extra],
                     {"p.mc": LEAST, "c.csv": csv, **(files or {})}, expect)

    p.append(batch("plain class", csv_head + f"ann,p.mc,x,\"{RIGHT}\"\n"))
    p.append(batch("csv injection name", csv_head + "=HYPERLINK(\"http://x\"),p.mc,x,x\n",
                   "clean", "--report", "r.csv"))
    p.append(batch("duplicate students", csv_head + f"ann,p.mc,x,{RIGHT}\nann,p.mc,x,x\n"))
    p.append(batch("no header", f"ann,p.mc,x,{RIGHT}\n", "refused"))
    p.append(batch("empty csv", "", "refused"))
    p.append(batch("header only", csv_head, "refused"))
    p.append(batch("NUL in csv", csv_head.encode() + b"ann\x00,p.mc,x,x\n"))
    p.append(batch("binary csv", bytes(range(256)) * 20, "refused"))
    p.append(batch("utf-16 csv", (csv_head + "ann,p.mc,x,x\n").encode("utf-16"), "refused"))
    p.append(batch("CRLF csv", (csv_head + f"ann,p.mc,x,\"{RIGHT}\"\n").replace("\n", "\r\n")))
    p.append(batch("path traversal problem", csv_head + "ann,../../etc/passwd,x,x\n"))
    p.append(batch("absolute problem path", csv_head + "ann,/etc/passwd,x,x\n"))
    p.append(batch("problem is /dev/zero", csv_head + "ann,/dev/zero,x,x\n", "clean",
                   "--allow-outside-paths"))
    p.append(batch("problem is a folder", csv_head + "ann,sub,x,x\n", files={"sub/a": ""}))
    p.append(batch("problem is a link out of the folder", csv_head + "ann,link.mc,x,x\n",
                   files={"link.mc@": "/etc/passwd"}))
    p[-1].says = "through a link"
    p.append(batch("huge field", csv_head + "ann,p.mc,x," + "x+" * 200_000 + "x\n"))
    p.append(batch("100 rows", csv_head + "ann,p.mc,x,x\n" * 100))
    p.append(batch("unicode student", csv_head + "张伟\u202e,p.mc,x,x\n", "clean",
                   "--report", "r.html"))
    p.append(batch("html student", csv_head + "<script>alert(1)</script>,p.mc,x,x\n", "clean",
                   "--report", "r.html"))
    p.append(batch("slash student", csv_head + "../../evil,p.mc,x,x\n", "clean",
                   "--report", "r.html"))
    p.append(batch("json report", csv_head + "\"a\"\"b\",p.mc,x,x\n", "clean", "--report",
                   "r.json"))
    p.append(batch("report over the csv", csv_head + "ann,p.mc,x,x\n", "clean", "--report",
                   "c.csv"))
    p.append(batch("report into a folder", csv_head + "ann,p.mc,x,x\n", "refused", "--report",
                   "sub", files={"sub/x": ""}))
    p.append(batch("kind garbage", "student,problem,wrt,answer,kind\nann,p.mc,x,x,banana\n"))
    p.append(batch("latex column garbage",
                   "student,problem,wrt,answer,latex\nann,p.mc,x,x,maybe\n"))
    p.append(batch("jobs 0", csv_head + "ann,p.mc,x,x\n", "refused", "--jobs", "0"))
    p.append(batch("jobs huge", csv_head + "ann,p.mc,x,x\n", "clean", "--jobs", "100000"))
    p.append(batch("memory limit 1", csv_head + "ann,p.mc,x,x\n", "refused", "--memory-limit", "1"))
    p.append(batch("memory limit huge", csv_head + "ann,p.mc,x,x\n", "clean", "--memory-limit",
                   "99999999999"))
    # rubrics
    for name, rubric, expect in [
        ("rubric garbage", "points = = 3\n", "refused"),
        ("rubric nan", "points = nan\n", "refused"),
        ("rubric negative", "points = -5\n", "refused"),
        ("rubric string points", "points = \"ten\"\n", "refused"),
        ("rubric unknown kind", "points = 10\n[partial]\nbanana = 3\n", "refused"),
        ("rubric partial over points", "points = 10\n[partial]\nsign = 30\n", "refused"),
        ("rubric binary", "\x00\x01\x02", "refused"),
        ("rubric deep tables", "a = " + "[" * 5000 + "]" * 5000 + "\n", "refused"),
        ("rubric huge feedback", "points = 10\n[feedback]\nsign = \"" + "a" * 1_000_000 + "\"\n",
         "clean"),
        ("rubric html feedback", "points = 10\n[feedback]\nsign = \"<script>alert(1)</script>\"\n",
         "clean"),
        ("rubric allow_deltas string", "allow_deltas = \"yes\"\n", "refused"),
        ("rubric reveal negative", "[practice]\nreveal_after = -1\n", "refused"),
    ]:
        p.append(Probe(name, "batch", ["verify", "--batch", "c.csv", "--rubric", "r.toml",
                                       "--report", "out.html"],
                       {"p.mc": LEAST, "c.csv": csv_head + "ann,p.mc,x,-x\n", "r.toml": rubric},
                       expect))
    p.append(Probe("gradescope duplicate problem rows", "batch",
                   ["verify", "--batch", "c.csv", "--gradescope", "g.json"],
                   {"p.mc": LEAST,
                    "c.csv": "problem,wrt,answer\np.mc,x,x\np.mc,x," + RIGHT + "\n"}))
    p.append(Probe("gradescope assignment missing", "batch",
                   ["verify", "--batch", "c.csv", "--gradescope", "g.json", "--assignment",
                    "nope.csv"], {"p.mc": LEAST, "c.csv": "problem,wrt,answer\np.mc,x,x\n"},
                   "refused"))
    return p


# -- running -----------------------------------------------------------------------------------


def _write(folder: Path, files: dict) -> None:
    for name, content in files.items():
        kind = name[-1] if name[-1] in "@|!" else ""
        path = folder / (name[:-1] if kind else name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "@":
            path.symlink_to(content)
        elif kind == "|":
            os.mkfifo(path)
        else:
            path.write_bytes(content.encode() if isinstance(content, str) else content)
            if kind == "!":
                path.chmod(0)


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


@dataclass
class Outcome:
    probe: Probe
    code: int | None
    seconds: float
    out: str
    err: str
    defect: str = ""

    @property
    def verdict(self) -> str:
        return _verdict(self)


def _verdict(o: Outcome) -> str:
    text = o.out
    if o.code == 2:
        return "refused"
    if "every step holds" in text:
        return "holds"
    if o.probe.area == "derivation" and o.code == 1:
        return "not holds"
    if text.startswith("correct"):
        return "correct"
    if text.startswith("wrong"):
        return "wrong"
    return "done" if o.code in (0, 1) else f"exit {o.code}"


def run(probe: Probe) -> Outcome:
    """Run one probe in a fresh scratch folder and judge it."""
    with tempfile.TemporaryDirectory(prefix="adversary-") as scratch:
        folder = Path(scratch)
        _write(folder, probe.files)
        command = [sys.executable, "-m", "matcalc", "--time-limit", str(TIME_LIMIT), *probe.args]
        if probe.args[:1] == ["--time-limit"]:
            command = [sys.executable, "-m", "matcalc", *probe.args]
        start = time.monotonic()
        try:
            done = subprocess.run(command, cwd=folder, input=probe.stdin or b"",
                                  capture_output=True, timeout=TIME_LIMIT + 6,
                                  preexec_fn=_limit, env={**os.environ, "PYTHONPATH": str(ROOT)})
            code, out, err = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as expired:
            code, out, err = None, expired.stdout or b"", expired.stderr or b""
        seconds = time.monotonic() - start
        outcome = Outcome(probe, code, seconds, out.decode(errors="replace"),
                          err.decode(errors="replace"))
        outcome.defect = _defect(outcome)
        return outcome


def _defect(o: Outcome) -> str:
    both = o.out + o.err
    if o.code is None:
        return f"hang: still running after {TIME_LIMIT + 6:g} s"
    if "Traceback" in both:
        return "traceback"
    if "internal error" in both.lower():
        return "internal error"
    if o.code not in (0, 1, 2):
        return f"exit code {o.code}"
    if o.code == 2 and not o.err.strip():
        return "refused without a message"
    if o.probe.says and o.probe.says not in both:
        return f"the output does not say {o.probe.says!r}"
    expect, verdict = o.probe.expect, o.verdict
    if expect == "clean":
        return ""
    if expect == "refused" and verdict != "refused":
        return f"expected a refusal, got {verdict}"
    if expect in ("correct", "wrong", "holds") and verdict != expect:
        return f"expected {expect}, got {verdict}"
    if expect == "not holds" and verdict == "holds":
        return "a derivation that proves nothing holds"
    if expect == "not correct" and verdict == "correct":
        return "an answer that steers its own verdict graded correct"
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the probes whose name has this word")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--verbose", action="store_true", help="print every probe's message")
    args = parser.parse_args(argv)
    probes = [probe for probe in cli_probes() + grader_probes() if args.only in probe.name]
    with ThreadPoolExecutor(args.jobs) as pool:
        outcomes = list(pool.map(run, probes))
    defects = 0
    for o in outcomes:
        defects += bool(o.defect)
        mark = "DEFECT " + o.defect if o.defect else "ok"
        message = (o.err.strip() or o.out.strip()).splitlines()
        first = message[-1][:150] if message else ""
        print(f"{o.probe.area:10} {o.probe.name[:40]:40} {o.verdict:10} {o.seconds:5.1f}s  {mark}")
        if o.defect or args.verbose:
            print(f"{'':12}{first}")
    print(f"{len(outcomes)} probes, {defects} defects")
    return 1 if defects else 0


if __name__ == "__main__":
    raise SystemExit(main())
