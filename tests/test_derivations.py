"""The gallery's seed problems parse, type-check and evaluate to the seeds' forward passes."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import matcalc
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance

GALLERY = pathlib.Path("derivations")


def load(name: str):
    return matcalc.parse((GALLERY / name).read_text())


def softmax_rows(m):
    e = np.exp(m - m.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("path", sorted(GALLERY.glob("*.mc")), ids=lambda p: p.name)
def test_every_gallery_problem_cites_its_source_and_has_a_request(path):
    text = path.read_text()
    assert "Source:" in text
    assert matcalc.parse(text).requests


def test_mathse_batch_softmax_with_the_questions_dimensions():
    # math.SE question (shared/seeds/000): E = -sum(Y * log(softmax(C @ B @ A))), row-wise.
    program = load("mathse_batch_softmax.mc")
    instance = random_instance(program, seed=0, sizes={"N": 3})
    a, b, c, y = (instance.arrays[k] for k in "ABCY")
    assert b.shape == (1568, 1024) and a.shape == (1024, 10) and c.shape == (3, 1568)
    expected = -np.sum(y * np.log(softmax_rows(c @ b @ a)))
    assert evaluate(program, "E", instance.arrays) == pytest.approx(expected, rel=1e-10)


def test_sigmoid_softmax_network_with_row_vectors():
    # shared/seeds/001: r = x W1 + b1, h = sigmoid(r), theta = h W2 + b2, J = CE(y, softmax).
    program = load("sigmoid_softmax_input_grad.mc")
    instance = random_instance(program, seed=1)
    v = instance.arrays
    assert v["x"].shape[0] == 1
    h = 1 / (1 + np.exp(-(v["x"] @ v["W1"] + v["b1"])))
    yhat = softmax_rows(h @ v["W2"] + v["b2"])
    assert evaluate(program, "J", v) == pytest.approx(-np.sum(v["y"] * np.log(yhat)))
    assert program.requests[0].wrt == ("x",)


def test_relu_neuron_mean_squared_cost():
    # shared/seeds/002: u_i = max(0, w . x_i + b), C = 1/N sum (t_i - u_i)^2.
    program = load("relu_neuron_mse.mc")
    instance = random_instance(program, seed=2)
    v = instance.arrays
    u = np.maximum(0, v["X"] @ v["w"] + v["b"])
    assert evaluate(program, "C", v) == pytest.approx(np.mean((v["t"] - u) ** 2))


def test_cs224n_requests_all_five_gradients():
    program = load("cs224n_one_layer.mc")
    assert program.requests[0].kind == "grad"
    assert program.requests[0].wrt == ("U", "b2", "W", "b1", "x")
    assert program.attributes("y") == frozenset({"simplex"})
