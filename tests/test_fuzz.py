"""Mutated problem texts: the only outcomes are success or a MatcalcError (never a crash)."""

from __future__ import annotations

import pathlib

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import matcalc
from matcalc.errors import MatcalcError
from matcalc.sampling import random_instance

GALLERY = sorted(pathlib.Path("derivations").glob("*.mc"))
BASES = [path.read_text() for path in GALLERY] + [
    "x' @ A @ x", "softmax(C @ B @ A)", "tr(X @ A @ X') + logdet(X)", "A + I",
    "x : vector(n)\nS : matrix(n, n) spd\nf = x' @ inv(S) @ x\ngrad f wrt x, S",
]
TOKENS = ["(", ")", "'", ".T", "@", "*", "/", "+", "-", ":", "^", ".^", ",", ";", "\n", "=",
          "x", "A", "I", "T", "n", "0", "1", "2.5", "1e-3", "softmax(", "log(", "tr(", "kron(",
          "ones(", "commutation(", "vector(", "matrix(", "scalar", "grad", "wrt", "spd", "#",
          "unknownfn(", " ", "\\\n", "\t", "é", "$", "`", "ones(0)", "I(", "diag("]


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(BASES))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "duplicate", "nest"]))
        if action == "delete":
            end = min(len(text), position + draw(st.integers(1, 6)))
            text = text[:position] + text[end:]
        elif action == "insert":
            text = text[:position] + draw(st.sampled_from(TOKENS)) + text[position:]
        elif action == "duplicate":
            end = min(len(text), position + draw(st.integers(1, 12)))
            text = text[:end] + text[position:end] + text[end:]
        else:
            depth = draw(st.integers(1, 150))
            text = text[:position] + "(" * depth + text[position:] + ")" * draw(
                st.integers(0, depth))
    return text


def small_enough(program) -> bool:
    sizes = [d.coefficient for node in program.variables.values()
             for d in (node.shape.rows, node.shape.cols)]
    return max(sizes, default=1) <= 50


@given(mutated())
def test_mutated_problems_parse_or_fail_cleanly(text):
    try:
        program = matcalc.parse(text)
        program.describe()
        if small_enough(program):
            instance = random_instance(program, seed=0, max_tries=3)
            for definition in program.definitions.values():
                np.asarray(instance.evaluation.value(definition.ref))
    except MatcalcError as error:
        assert str(error)


@given(st.text(max_size=80))
def test_random_text_parses_or_fails_cleanly(text):
    try:
        matcalc.parse(text).describe()
    except MatcalcError as error:
        assert str(error)


def test_gallery_bases_parse():
    for text in BASES:
        matcalc.parse(text)
