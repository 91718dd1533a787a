"""The derivations/ gallery: every problem derives to its golden text, is proven by finite
differences, agrees numerically with its textbook form, and is no larger than 1.25x of it.

`pytest tests/test_gallery.py --update-golden` rewrites the golden files deliberately.
"""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest

import matcalc
from matcalc.derive import derive_by_request, render
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance

GALLERY = pathlib.Path(__file__).resolve().parent.parent / "derivations"
GOLDEN = GALLERY / "golden"
PROBLEMS = sorted(GALLERY.glob("*.mc"))
# a fraction written exactly (1/2) is one number, as 0.5 is
TOKEN = re.compile(r"[0-9]+/[0-9]+(?![0-9.])|[A-Za-z_]\w*|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?"
                   r"|\.\^|\.T|\S")
BIG = {"mathse_batch_softmax.mc": {"N": 2}}  # the question's 1568 x 1024 matrices


def textbook(path: pathlib.Path) -> list[str]:
    return [line.split(":", 1)[1].strip() for line in path.read_text().splitlines()
            if line.startswith("# textbook:")]


def tokens(lines: list[str]) -> int:
    return sum(len(TOKEN.findall(line.split("=", 1)[1])) for line in lines if "=" in line)


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.name)
def test_gallery_problem_matches_its_golden_text(path, request):
    text = render(derive_by_request(matcalc.parse(path.read_text()))) + "\n"
    golden = GOLDEN / (path.stem + ".txt")
    if request.config.getoption("--update-golden"):
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"no golden file {golden.name}: run with --update-golden"
    assert text == golden.read_text()


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.name)
def test_gallery_problem_is_proven_and_agrees_with_the_textbook(path):
    source = path.read_text()
    program = matcalc.parse(source)
    lines = textbook(path)
    assert lines and "Source:" in source
    with_textbook = matcalc.parse(source + "\n" + "\n".join(lines))
    instance = random_instance(with_textbook, seed=1, sizes=BIG.get(path.name))
    for group in derive_by_request(program):
        for derivative in group:
            if path.name in BIG:  # the question's sizes: proven at one point, two directions
                verdict = matcalc.check(derivative, seed=2, at=instance.arrays, directions=2)
            else:
                verdict = matcalc.check(derivative, seed=2)
            assert verdict.ok, verdict
            if derivative.name in with_textbook.definitions:
                expected = evaluate(with_textbook, derivative.name, instance.arrays,
                                    sizes=instance.sizes)
                got = derivative.numpy()(sizes=instance.sizes, **instance.arrays)
                np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.name)
def test_gallery_result_is_at_most_a_quarter_larger_than_the_textbook(path):
    derived = render(derive_by_request(matcalc.parse(path.read_text())))
    ours = tokens([line for line in derived.splitlines() if not line.startswith("#")])
    theirs = tokens(textbook(path))
    assert ours <= 1.25 * theirs, f"{ours} tokens against the textbook's {theirs}"


def test_the_gallery_has_at_least_twenty_problems():
    assert len(PROBLEMS) >= 20
