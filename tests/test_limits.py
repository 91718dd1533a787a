"""Resource limits: deep or huge input ends in a clear error or a result, never a crash."""

from __future__ import annotations

import pytest

import matcalc
from matcalc.errors import LimitError


@pytest.mark.parametrize("source", [
    "(" * 10_000 + "x" + ")" * 10_000,                                # 10,000-deep brackets
    "x : vector(n)\nf = " + " + ".join(["x"] * 50_000),               # a 200,000-character sum
    "x : vector(n)\nf = " + "-" * 50_000 + "x",
    "x : vector(n)\nf = x" + "'" * 50_000,
], ids=["10000-deep brackets", "200000-character sum", "50000 minus signs",
        "50000 transposes"])
def test_deep_or_huge_input_is_a_limit_error(source):
    with pytest.raises(LimitError, match="limit|deep"):
        matcalc.parse(source)


def test_a_long_chain_of_definitions_derives_without_recursion():
    layers = 400
    source = "x : vector(n)\nh0 = x\n" + "\n".join(
        f"h{i} = tanh(h{i - 1})" for i in range(1, layers)) + f"\nf = sum(h{layers - 1})"
    derivative = matcalc.derive(source, wrt="x", of="f")
    assert len(derivative.where) > 5  # kept as a chain of named pieces
    assert matcalc.check(derivative, seed=0, trials=1).ok


def test_a_derivation_over_its_time_budget_is_a_limit_error(monkeypatch):
    from matcalc import limits

    monkeypatch.setattr(limits, "DERIVATION_SECONDS", 0.0)
    with pytest.raises(LimitError, match="DERIVATION_SECONDS"):
        matcalc.derive("x : vector(n)\nf = sum(tanh(tanh(x)))", wrt="x")
    monkeypatch.setattr(limits, "DERIVATION_SECONDS", 60.0)
    assert matcalc.derive("x : vector(n)\nf = sum(tanh(tanh(x)))", wrt="x").result is not None


@pytest.mark.parametrize("seconds", [0.0, 1e-6, 0.001])
def test_a_time_limit_names_the_budget_that_ran_out(seconds):
    # a budget given to time_budget (a web request's, a graded row's) is the one named, not
    # the default DERIVATION_SECONDS
    from matcalc import limits

    chain = "x : vector(n)\nz0 = x\n" + "\n".join(f"z{i} = tanh(z{i - 1})" for i in
                                                  range(1, 300)) + "\nf = sum(z299)"
    with limits.time_budget(seconds), pytest.raises(LimitError) as raised:
        matcalc.derive(chain, wrt="x", check=False)
    assert f"more than {seconds:g} s" in str(raised.value)


def test_time_limit_option(capsys):
    from matcalc import limits
    from matcalc.cli.main import main

    saved = limits.DERIVATION_SECONDS
    try:
        assert main(["--time-limit", "0", "derive", "x' @ A @ x"]) == 2
        assert "positive" in capsys.readouterr().err
        assert main(["--time-limit", "1e-9", "derive", "sum(tanh(tanh(x)))", "--wrt", "x"]) == 2
        assert "--time-limit" in capsys.readouterr().err
    finally:
        limits.DERIVATION_SECONDS = saved


def test_a_200000_character_program_gives_a_result():
    lines = ["x : vector(n)", "h0 = x"]
    index = 0
    while sum(len(line) + 1 for line in lines) < 200_000:
        index += 1
        lines.append(f"h{index} = tanh(h{index - 1}) * 0.5 + h{index - 1}")
    source = "\n".join(lines) + f"\nf = sum(h{index})"
    assert len(source) >= 200_000
    assert len(matcalc.parse(source).definitions) == index + 2


def test_a_60_layer_network_derives():
    layers = 60
    lines = ["x : vector(d)", "y : vector(k) simplex"]
    previous, width = "x", "d"
    for layer in range(1, layers + 1):
        lines += [f"W{layer} : matrix(h, {width})", f"b{layer} : vector(h)",
                  f"h{layer} = tanh(W{layer} @ {previous} + b{layer})"]
        previous, width = f"h{layer}", "h"
    lines += ["U : matrix(k, h)", f"J = -sum(y * log(softmax(U @ {previous})))"]
    # derived without the default quick check of each of the 60 results (7 s of the 8): the
    # first layer's gradient (through every layer) and the last one's are proven
    results = matcalc.derive("\n".join(lines), wrt=[f"W{i}" for i in range(1, layers + 1)],
                             check=False)
    assert len(results) == layers
    assert str(results[0].result).endswith("@ x'")
    for result in (results[0], results[-1]):
        assert matcalc.check(result, seed=0, trials=1, directions=1).ok
