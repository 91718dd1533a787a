"""The command line: output, exit codes, and clear messages instead of tracebacks."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from matcalc.cli.main import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "matcalc", *args], capture_output=True,
                          text=True, timeout=120)


def test_help_lists_the_commands():
    result = run("--help")
    assert result.returncode == 0
    assert "parse" in result.stdout and "eval" in result.stdout


def test_parse_a_file(capsys):
    assert main(["parse", "derivations/cs224n_one_layer.mc"]) == 0
    out = capsys.readouterr().out
    assert "W : matrix(Dh, Dx)" in out
    assert "theta = U @ h + b2    # vector(Nc)" in out
    assert "grad J wrt U, b2, W, b1, x" in out


def test_parse_an_expression_with_let(capsys):
    assert main(["parse", "x' @ A @ x", "--let", "A : matrix(d, d) symmetric"]) == 0
    out = capsys.readouterr().out
    assert "A : matrix(d, d) symmetric" in out and "x : vector(d)  (inferred)" in out


def test_eval_prints_values_at_a_reproducible_point(capsys):
    assert main(["eval", "derivations/relu_neuron_mse.mc", "--seed", "4", "--size", "N=3"]) == 0
    first = capsys.readouterr().out
    assert main(["eval", "derivations/relu_neuron_mse.mc", "--seed", "4", "--size", "N=3"]) == 0
    assert capsys.readouterr().out == first
    assert "seed 4" in first and "N = 3" in first and "C =" in first


@pytest.mark.parametrize("args, fragment", [
    (["parse", "W @ x +"], "the input ends too early"),
    (["parse", "missing_file.mc"], "no such file: missing_file.mc"),
    (["parse", "x : vector(n)\nf = softmx(x)"], "did you mean 'softmax'"),
    (["eval", "sum(log(-exp(x)))", "--seed", "1"], "found no suitable random point"),
    (["eval", "x", "--size", "n=0"], "--size takes NAME=SIZE"),
])
def test_bad_input_exits_2_with_one_message(args, fragment):
    result = run(*args)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("matcalc: error: ")


def test_debug_shows_the_traceback():
    result = run("--debug", "parse", "W @ x +")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "usage" in capsys.readouterr().out


def test_binary_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.mc"
    path.write_bytes(b"\xff\xfe\x00x")
    result = run("parse", str(path))
    assert result.returncode == 2 and "not UTF-8 text" in result.stderr


def test_derive_prints_named_deltas_and_checks(capsys):
    assert main(["derive", "derivations/cs224n_one_layer.mc", "--check", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# grad J wrt U, b2, W, b1, x\n")
    # CS224n section 3: delta1 = yhat - y, delta2 = (U' delta1) * ReLU'(z), dJ/dW = delta2 x'
    assert "delta1 = yhat - y\ndelta2 = (U' @ delta1) * step(z)\n" in out
    assert "dJ_dW = delta2 @ x'" in out and "dJ_dx = W' @ delta2" in out
    assert out.count("# check ok:") == 5


def test_derive_an_expression_with_options(capsys):
    assert main(["derive", "x' @ A @ x", "--wrt", "x", "--kind", "hessian"]) == 0
    assert "d2f_dx_dx = A' + A" in capsys.readouterr().out
    assert main(["derive", "tr(X @ A @ X')", "--wrt", "X", "--format", "json", "--check"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    (entry,) = data["results"]
    assert entry["name"] == "df_dX" and entry["type"] == "matrix(n, m)"
    assert entry["result"] == "X @ (A + A')" and entry["check"]["ok"] is True


def test_check_several_files(capsys):
    files = ["derivations/cs224n_one_layer.mc", "derivations/relu_neuron_mse.mc"]
    assert main(["check", *files, "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "# derivations/relu_neuron_mse.mc" in out and out.count("ok: grad") == 7


def test_check_exits_1_when_a_result_is_wrong(capsys, monkeypatch):
    import matcalc.rules.operations as adjoints

    broken = dict(adjoints.ADJOINTS, tanh=(lambda node, out, g: g,))
    monkeypatch.setattr("matcalc.engine.accumulate.ADJOINTS", broken)
    assert main(["check", "sum(tanh(W @ x))", "--wrt", "x", "--seed", "0"]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_derive_errors_exit_2():
    # asked for a gradient of a vector (without --kind it is the Jacobian, see test_trust.py)
    result = run("derive", "W @ x", "--wrt", "x", "--kind", "grad")
    assert result.returncode == 2 and "grad needs a scalar function" in result.stderr


def test_an_internal_error_is_reported_without_a_traceback(monkeypatch, capsys):
    import matcalc.cli.parse as parse_command

    def broken(arguments):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(parse_command, "command_parse", broken)
    assert main(["parse", "x"]) == 3
    err = capsys.readouterr().err
    assert "internal error" in err and "Traceback" not in err and "--debug" in err
    with pytest.raises(ZeroDivisionError):
        main(["--debug", "parse", "x"])


def test_colour_only_on_request_or_a_terminal(capsys, monkeypatch):
    from matcalc.present.terminal import use_colour

    assert main(["--color", "always", "derive", "x' @ A @ x", "--wrt", "x"]) == 0
    assert "\033[1mdf_dx\033[0m = " in capsys.readouterr().out
    assert main(["derive", "x' @ A @ x", "--wrt", "x"]) == 0  # captured: not a terminal
    assert "\033[" not in capsys.readouterr().out

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_colour(Terminal()) and not use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(Terminal()) and use_colour(io.StringIO(), "always")


def test_json_schema_keys(capsys):
    import json

    assert main(["derive", "derivations/cs224n_identity_2_7.mc", "--format", "json",
                 "--steps", "--check", "--seed", "1"]) == 0
    result = json.loads(capsys.readouterr().out)["results"][0]
    assert set(result) == {"kind", "of", "wrt", "name", "type", "shape", "result", "where",
                           "text", "latex", "steps", "check"}
    assert set(result["check"]) == {"ok", "max_rel_error", "seed", "tolerance"}
    assert {"name", "definition", "differential"} <= set(result["steps"][0])
    assert {"name", "frobenius", "identities"} <= set(result["steps"][-1])


def test_an_expression_without_variables_is_a_clear_error(capsys):
    assert main(["derive", "1e308 + I(3)"]) == 2  # found by fuzzing
    assert "no variables to differentiate" in capsys.readouterr().err
    assert main(["derive", "1e308 + I"]) == 2  # a bare I next to a scalar alone: which size?
    assert "write I(n)" in capsys.readouterr().err


def test_files_saved_with_a_byte_order_mark_are_read(tmp_path, capsys):
    # editors on Windows save UTF-8 with a BOM; it was "unexpected character '\ufeff'"
    problem = tmp_path / "p.mc"
    problem.write_bytes(b"\xef\xbb\xbfx : vector(n)\nf = sum(x .^ 2)\n")
    answer = tmp_path / "answer.txt"
    answer.write_bytes(b"\xef\xbb\xbf2 * x")
    assert main(["derive", str(problem)]) == 0
    assert "df_dx = 2 * x" in capsys.readouterr().out
    assert main(["verify", str(problem), "--wrt", "x", "--answer-file", str(answer)]) == 0
    capsys.readouterr()
    answers = tmp_path / "answers.csv"  # the batch reads its problem files the same way
    answers.write_text("student,problem,wrt,answer\nann,p.mc,x,2 * x\n", encoding="utf-8")
    main(["verify", "--batch", str(answers)])
    assert "graded 1 answers: 1 correct" in capsys.readouterr().err
