"""The grammar's saved LALR tables (matcalc/lang/parser_tables.py): current, and the same parser."""

from __future__ import annotations

import pathlib

import lark
import pytest

import matcalc
from matcalc.errors import MatcalcError
from matcalc.lang import parser_tables, syntax

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = sorted(ROOT.glob("derivations/*.mc")) + sorted(ROOT.glob("bench/heldout*/*.mc"))
BAD = ["x : vector(n)\nf = x' @ @ x", "x : vector(n\nf = x", "f = x +", "x : vector(n)\nf = x)",
       "x : vectr(n)", "A : matrix(n, n)\nf = einsum('ij,jk->ik', A)", "f = (1 + 2", "grad f x",
       "x : vector(n)\nf = sum(x) ,", "x : vector(n)\n\nf = x' @ x\ngrad of f wrt"]


def positions(tree: lark.Tree) -> list:
    return [(t.data, None if t.meta.empty else (t.meta.line, t.meta.column, t.meta.end_line,
                                                 t.meta.end_column)) for t in tree.iter_subtrees()]


def test_the_saved_tables_are_the_grammars():
    found = parser_tables.saved()
    assert found is not None, "no saved tables: run python -m matcalc.lang.parser_tables"
    current = parser_tables.key(parser_tables.grammar(), parser_tables.OPTIONS, found["lark"])
    assert found["key"] == current, \
        "grammar.lark changed since its tables were saved: run python -m matcalc.lang.parser_tables"
    if found["lark"] == lark.__version__:  # then the parser in use is the saved one
        assert syntax._parser().source_path == "<deserialized>"


def test_the_saved_parser_reads_what_the_built_one_reads(monkeypatch):
    if parser_tables.saved()["lark"] != lark.__version__:
        pytest.skip("the saved tables are another lark version's: the parser is built")
    saved, fresh = syntax._parser(), parser_tables.built()
    assert [t.name for t in saved.terminals] == [t.name for t in fresh.terminals]
    for path in SOURCES:
        source = path.read_text()
        assert positions(saved.parse(source, start="program")) == \
            positions(fresh.parse(source, start="program")), path
    messages = {}
    for parser in (saved, fresh):
        monkeypatch.setattr(syntax, "_parser", lambda parser=parser: parser)
        syntax._terminal_text.cache_clear()
        for source in BAD:
            with pytest.raises(MatcalcError) as error:
                matcalc.parse(source)
            messages.setdefault(source, []).append(str(error.value))
    syntax._terminal_text.cache_clear()
    assert all(a == b for a, b in messages.values()), messages
