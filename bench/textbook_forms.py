"""Textbook forms: the share of problems whose result is within 1.25x of the book's size.

Run: python bench/textbook_forms.py [--verbose]

Three corpora of `.mc` problems, each with its `# textbook:` lines: the gallery (derivations/,
whose problems the tests hold) and two held-out sets (bench/heldout/ and bench/heldout2/, which
no test reads; the second was written after the first had been used to choose forms; the third,
heldout_masks/, holds attention masks and functions along an axis, written before their forms
were tuned; the fourth, heldout3/, 40 problems written before any of the forms they exercise
were worked on: normalisation, GLMs, robust losses, attention variants, Gaussian and KL forms,
matrix factorisation, Hessians, trace and log-det identities; the fifth, heldout4/, 40 more
written before anything was tuned on them: spectral and mean-only normalisation, masked and
banded attention, ALiBi, GRU/IndRNN/peephole cells, probit and negative binomial GLMs, Fair and
Barron losses, +-1 labels, ELBOs, PPCA, matrix functions (expm, logm, sqrtm, chol, eigvalsh),
Hessians and Jacobians, batched tensors; the sixth, heldout_tensor_norms/, LayerNorm, RMSNorm
and BatchNorm over batches of sequences, written before their tensor forms were worked on; the
seventh, heldout5/, 40 more written before matcalc was run on them: attention with per-sequence
and causal multi-head masks, soft-capped and QK-normalised attention, normalised linear
attention, GEGLU/ReGLU, focal, Dice, pinball, triplet and contrastive losses, Tweedie and
softplus-Poisson GLMs, Wishart, inverse-Wishart, matrix-normal, Student-t and factor-analysis
likelihoods, Cholesky, eigenvalue and sqrtm functions, Newton and Gauss-Newton Hessians, group
lasso, total variation, MGU/SRU/MinimalRNN/linear recurrences).
Sizes
are the gallery test's token counts (tests/test_gallery.py). Each problem's textbook lines are
also checked numerically against matcalc's result at a random point, so a wrong book line is
reported, not measured.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_gallery import BIG, textbook, tokens  # noqa: E402

import matcalc  # noqa: E402
from matcalc.derive import derive_by_request, render  # noqa: E402
from matcalc.numeric.evaluate import evaluate  # noqa: E402
from matcalc.numeric.sampling import random_instance  # noqa: E402

CORPORA = {"gallery": ROOT / "derivations", "held-out": ROOT / "bench" / "heldout",
           "held-out 2": ROOT / "bench" / "heldout2",
           "held-out masks": ROOT / "bench" / "heldout_masks",
           "held-out 3": ROOT / "bench" / "heldout3",
           "held-out 4": ROOT / "bench" / "heldout4",
           "held-out 5": ROOT / "bench" / "heldout5",
           "held-out tensor norms": ROOT / "bench" / "heldout_tensor_norms"}


def agrees(path: pathlib.Path, groups) -> bool:
    """Whether every textbook line that names a result has matcalc's values at a random point."""
    source = path.read_text()
    with_textbook = matcalc.parse(source + "\n" + "\n".join(textbook(path)))
    instance = random_instance(with_textbook, seed=1, sizes=BIG.get(path.name))
    for group in groups:
        for derivative in group:
            if derivative.name not in with_textbook.definitions:
                continue
            expected = evaluate(with_textbook, derivative.name, instance.arrays,
                                sizes=instance.sizes)
            got = derivative.numpy()(sizes=instance.sizes, **instance.arrays)
            if not np.allclose(got, expected, rtol=1e-7, atol=1e-9):
                return False
    return True


def measure(path: pathlib.Path) -> tuple[float, bool, str]:
    """The ratio of matcalc's size to the book's, whether the book agrees, and the result."""
    groups = derive_by_request(matcalc.parse(path.read_text()))
    derived = render(groups)
    ours = tokens([line for line in derived.splitlines() if not line.startswith("#")])
    return ours / tokens(textbook(path)), agrees(path, groups), derived


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print every result over 1.25x")
    parser.add_argument("--corpus", action="append", choices=sorted(CORPORA),
                        help="measure only this corpus (may be given more than once)")
    arguments = parser.parse_args()
    for corpus, folder in CORPORA.items():
        if arguments.corpus and corpus not in arguments.corpus:
            continue
        ratios = []
        for path in sorted(folder.glob("*.mc")):
            ratio, ok, derived = measure(path)
            ratios.append(ratio)
            if not ok:
                print(f"  {path.name}: the textbook lines disagree with the result")
            if arguments.verbose and ratio > 1.25:
                print(f"  {path.name}: {ratio:.2f}x\n    " + derived.replace("\n", "\n    "))
        within = sum(ratio <= 1.25 for ratio in ratios)
        print(f"{corpus}: {within}/{len(ratios)} within 1.25x ({100 * within / len(ratios):.0f} %),"
              f" median {statistics.median(ratios):.2f}x, largest {max(ratios):.2f}x")


if __name__ == "__main__":
    main()
