"""Steps of a derivation are claims: every differential and every Frobenius form of every
gallery gradient holds numerically, and the steps end at the derived gradient."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import matcalc
import matcalc.numeric.sampling
from matcalc.cli.main import main
from matcalc.errors import UnsupportedError
from matcalc.numeric.evaluate import evaluate
from matcalc.numeric.sampling import random_instance
from matcalc.steps import check_steps, hessian_steps, jacobian_steps, steps

GALLERY = sorted(pathlib.Path("derivations").glob("*.mc"))


def requests_of(kind: str):
    """Every gallery request of this kind whose function is a named definition."""
    for path in GALLERY:
        parsed = matcalc.parse(path.read_text())
        for request in parsed.requests:
            if request.kind == kind and request.of_name in parsed.definitions:
                for wrt in request.wrt:
                    yield pytest.param(parsed, request.of_name, wrt, id=f"{path.stem}-{wrt}")


def assert_every_step_holds(shown):
    verdicts = check_steps(shown, seed=1, points=1)
    assert verdicts and all(v.ok for v in verdicts), [(v.claim, v.detail) for v in verdicts
                                                      if not v.ok]


@pytest.mark.parametrize("parsed, of, wrt", list(requests_of("grad")))
def test_every_step_of_every_gallery_gradient_holds(parsed, of, wrt):
    shown = steps(parsed, wrt, of=of)
    assert_every_step_holds(shown)
    final = shown.steps[-1].gradient
    expected = matcalc.derive(parsed, wrt=wrt, of=of)
    assert matcalc.verify(parsed, wrt, _inlined_text(final), of=of).ok
    assert expected.shape == final.shape


@pytest.mark.parametrize("parsed, of, wrt", list(requests_of("jacobian")))
def test_every_step_of_every_gallery_jacobian_holds(parsed, of, wrt):
    shown = jacobian_steps(parsed, wrt, of=of)
    assert_every_step_holds(shown)
    assert shown.steps[-1].gradient.result is matcalc.derive(
        parsed, wrt=wrt, of=of, kind="jacobian").result
    assert "vec(d" in shown.text and r"\operatorname{vec}" in shown.latex


@pytest.mark.parametrize("parsed, of, wrt", list(requests_of("hessian")))
def test_every_step_of_every_gallery_hessian_holds(parsed, of, wrt):
    gradient_part, jacobian_part = hessian_steps(parsed, wrt, of=of)
    for shown in (gradient_part, jacobian_part):
        assert_every_step_holds(shown)
    hessian = matcalc.derive(parsed, wrt=wrt, of=of, kind="hessian")
    final = jacobian_part.steps[-1].gradient
    instance = matcalc.numeric.sampling.random_instance(parsed, seed=2)
    assert np.allclose(final.numpy()(sizes=instance.sizes, **instance.arrays),
                       hessian.numpy()(sizes=instance.sizes, **instance.arrays))


def _inlined_text(derivative) -> str:
    lines = [f"{name} = {body}" for name, body in derivative.where.items()]
    return "; ".join(lines + [str(derivative.result)])


def test_cs224n_steps_read_like_the_notes():
    shown = steps(pathlib.Path("derivations/cs224n_one_layer.mc").read_text(), "W", of="J")
    text = shown.text
    assert "2. yhat = softmax(theta)" in text
    assert "dyhat = yhat * (dtheta - yhat' @ dtheta)" in text
    assert "dz = dW @ x" in text and "so dJ/dW = " in text
    assert "G : (dA @ B) = (G @ B') : dA" in text
    assert r"\mathrm{d}\hat{y}" in shown.latex


def test_derivatives_carry_their_steps():
    derivative = matcalc.derive("x : vector(n); A : matrix(n, n)\nf = x' @ A @ x", wrt="x")
    assert derivative.steps.text.startswith("# steps: grad f wrt x")
    hessian = matcalc.derive("x : vector(n); A : matrix(n, n)\nf = x' @ A @ x", wrt="x",
                             kind="hessian")
    assert [part.kind for part in hessian.steps] == ["grad", "jacobian"]


def test_a_wrong_step_is_caught():
    shown = steps("x : vector(n); A : matrix(n, n)\nf = x' @ A @ x", "x")
    step = shown.steps[0]
    step.differential = matcalc.parse(
        "x, dx : vector(n); A : matrix(n, n)\ng = dx' @ A @ x").definitions["g"].body
    assert not all(v.ok for v in check_steps(shown, points=1))


def test_steps_on_the_command_line(capsys):
    assert main(["derive", "derivations/cs224n_one_layer.mc", "--wrt", "W", "--of", "J",
                 "--steps", "--check"]) == 0
    out = capsys.readouterr().out
    assert "# step holds" in out and "FAILED" not in out
    assert main(["derive", "derivations/cs224n_one_layer.mc", "--wrt", "W", "--of", "J",
                 "--steps", "--format", "latex", "--standalone"]) == 0
    assert capsys.readouterr().out.startswith(r"\documentclass")
    assert main(["derive", "derivations/least_squares.mc", "--kind", "hessian", "--wrt", "x",
                 "--steps", "--check"]) == 0
    out = capsys.readouterr().out
    assert "# steps: jacobian grad_x wrt x" in out and "FAILED" not in out
    assert main(["derive", "derivations/cs224n_identity_2_4.mc", "--steps", "--check"]) == 0
    assert "vec(dh) = Diag(h * (1 - h)) @ vec(dx)" in capsys.readouterr().out


def test_steps_need_a_named_function():
    with pytest.raises(matcalc.MatcalcError, match="no definition"):
        steps("x : vector(n)\ngrad sum(x) wrt x", "x")
    with pytest.raises(UnsupportedError, match="named definition"):
        steps("a : scalar\nf = a", "a", of="a")


def test_json_carries_the_steps_of_every_kind(capsys):
    import json

    assert main(["derive", "derivations/logistic_regression.mc", "--kind", "hessian",
                 "--format", "json", "--steps"]) == 0
    gradient, hessian = json.loads(capsys.readouterr().out)["results"]
    assert {item["stage"] for item in gradient["steps"]} == {"gradient"}
    stages = [item["stage"] for item in hessian["steps"]]
    assert stages == sorted(stages, key=["gradient", "jacobian"].index) and "jacobian" in stages
    assert gradient["steps"][-1]["frobenius"] == f"dJ = {gradient['result']} : dw"
    last = hessian["steps"][-1]
    assert last["vec"] == f"vec(d{last['name']}) = {hessian['result']} @ vec(dw)"
    assert {"definition", "differential", "identities", "where"} <= set(last)
    # each vec form reads back in the problem and equals the Jacobian it stands for
    source = open("derivations/logistic_regression.mc").read()
    program = matcalc.parse(source)
    for item in hessian["steps"][-2:]:
        lines = [source, *(f"{n} = {b}" for n, b in item["where"].items())]
        if item["name"] not in program.definitions:
            lines.append(item["definition"])
        lines.append("T_ = " + item["vec"].split(" = ", 1)[1].removesuffix(" @ vec(dw)"))
        extended = matcalc.parse("\n".join(lines))
        instance = random_instance(extended, seed=4)
        jacobian = matcalc.derive(extended, wrt="w", of=item["name"], kind="jacobian")
        np.testing.assert_allclose(
            evaluate(extended, "T_", instance.arrays, sizes=instance.sizes),
            jacobian.numpy()(sizes=instance.sizes, **instance.arrays), rtol=1e-10)


def test_steps_are_read_from_the_derivation_that_made_the_result(monkeypatch):
    # a result's steps come from what its one derivation recorded (the cotangent reaching each
    # definition, each definition's Jacobian): nothing accumulates or derives again
    import matcalc.engine.accumulate as accumulate
    import matcalc.engine.pipeline as pipeline

    source = pathlib.Path("derivations/cs224n_one_layer.mc").read_text()
    results = [matcalc.derive(source, wrt="W", of="J"),
               matcalc.derive("x : vector(n)\nA : matrix(n, n)\nh = tanh(A @ x)\nF = exp(h)",
                              wrt="x", kind="jacobian"),
               matcalc.derive("x : vector(n)\np = softmax(x)\nf = logsumexp(x) + x' @ p",
                              wrt="x", kind="hessian")]

    def refused(*args, **kwargs):
        raise AssertionError("derived again")

    for module, name in ((pipeline, "run"), (pipeline, "derive_node"), (pipeline, "gradients"),
                         (pipeline, "jacobian"), (accumulate, "gradients"),
                         (accumulate, "jacobian")):
        monkeypatch.setattr(module, name, refused)
    for result in results:
        shown = result.steps
        for part in shown if isinstance(shown, list) else [shown]:
            assert_every_step_holds(part)
    assert shown[-1].steps[-1].gradient.result is results[-1].result


def test_the_steps_of_a_joint_result_end_at_its_value():
    # derived with respect to W1, b1, W2 and b2 together, each result's steps are read from that
    # one derivation; each step holds and the last one is the result
    source = pathlib.Path("derivations/mlp_two_layer.mc").read_text()
    results = matcalc.derive(source, wrt=["W1", "b1", "W2", "b2"], of="J")
    for result in results:
        final = result.steps.steps[-1].gradient
        assert matcalc.verify(source, result.wrt, _inlined_text(final), of="J").ok
        assert_every_step_holds(result.steps)


def test_showing_steps_leaves_the_steps_shown_as_they_were():
    from matcalc.derive import Derivative, with_derivatives
    from matcalc.present.steps import steps as plain_steps

    shown = plain_steps("x : vector(n); A : matrix(n, n)\nf = x' @ A @ x", "x")
    fronted = with_derivatives(shown)
    assert all(type(step.gradient) is not Derivative for step in shown.steps if step.gradient)
    assert all(type(step.gradient) is Derivative for step in fronted.steps if step.gradient)
