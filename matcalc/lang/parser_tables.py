"""The language's LALR parser, from the grammar's tables saved beside it (``grammar_tables.json``).

Building lark's LALR parser from ``grammar.lark`` is most of the parser's start-up (about a third
of a one-line ``matcalc derive``); loading the saved tables takes a few milliseconds.  The saved
tables are used only when they were made from this very grammar, with these options and this
version of lark (the ``key`` names all three); otherwise the parser is built from the grammar, as
it always was.  After editing the grammar, save them again::

    python -m matcalc.lang.parser_tables

(``tests/test_parser_tables.py`` fails while they are stale).  The file is JSON, read with a
tagged encoding that keeps lark's tuples and integer keys; nothing is unpickled or evaluated.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from typing import Any

import lark
from lark import Lark
from lark.grammar import Rule
from lark.lexer import TerminalDef

OPTIONS = {"start": ["program", "expression"], "parser": "lalr", "propagate_positions": True,
           "maybe_placeholders": False}
TABLES = "grammar_tables.json"
_TUPLE, _DICT = "tuple", "dict"  # the encoding's tags


class NewlinesInsideBrackets:
    """Post-lexer: a new line inside brackets continues the statement."""

    always_accept = ("_NEWLINE",)

    def process(self, stream):
        depth = 0
        for token in stream:
            if token.type == "LPAR":
                depth += 1
            elif token.type == "RPAR":
                depth -= 1
            elif token.type == "_NEWLINE" and depth > 0:
                continue
            yield token


def grammar() -> str:
    """The text of the language's grammar (``grammar.lark``)."""
    return resources.files(__package__).joinpath("grammar.lark").read_text(encoding="utf-8")


def key(text: str, options: dict[str, Any], version: str = lark.__version__) -> str:
    """What tables are made from: a grammar, the parser's options, lark's version."""
    made_from = json.dumps([text, sorted((k, repr(v)) for k, v in options.items()), version])
    return hashlib.sha256(made_from.encode("utf-8")).hexdigest()


def parser() -> Lark:
    """The language's parser: from the saved tables when they are the grammar's, else built."""
    text = grammar()
    found = saved()
    if found is not None and found.get("key") == key(text, OPTIONS):
        return Lark._load_from_dict(found["data"], found["memo"],
                                    postlex=NewlinesInsideBrackets())
    return built(text)


def built(text: str | None = None) -> Lark:
    """The parser built from the grammar (``text``, by default ``grammar.lark``)."""
    return Lark(grammar() if text is None else text, postlex=NewlinesInsideBrackets(), **OPTIONS)


def tables() -> dict[str, Any]:
    """The grammar's tables as saved (JSON-ready); the post-lexer is given when they are
    loaded."""
    text = grammar()
    data, memo = built(text).memo_serialize([TerminalDef, Rule])
    data["options"] = {k: v for k, v in data["options"].items() if k != "postlex"}
    return {"key": key(text, OPTIONS), "lark": lark.__version__, "data": _encoded(data),
            "memo": _encoded(memo)}


def saved() -> dict[str, Any] | None:
    """The saved tables (None when there are none)."""
    try:
        text = resources.files(__package__).joinpath(TABLES).read_text(encoding="utf-8")
    except OSError:
        return None
    found = json.loads(text, object_hook=_decoded)
    return found if isinstance(found, dict) else None


def _encoded(value: Any) -> Any:
    """JSON for lark's serialised tables: tuples and dicts are tagged (a dict's keys may be
    integers); strings, numbers, booleans and None are themselves."""
    if isinstance(value, tuple):
        return {_TUPLE: [_encoded(item) for item in value]}
    if isinstance(value, list):
        return [_encoded(item) for item in value]
    if isinstance(value, dict):
        return {_DICT: [[_encoded(k), _encoded(v)] for k, v in value.items()]}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"lark's tables hold a {type(value).__name__}, which JSON does not keep")


def _decoded(tagged: dict[str, Any]) -> Any:
    """A tagged tuple or dict as itself, the file's own fields as they are (json's
    ``object_hook``: inner objects come first)."""
    if len(tagged) == 1 and _TUPLE in tagged:
        return tuple(tagged[_TUPLE])
    if len(tagged) == 1 and _DICT in tagged:
        return {k: v for k, v in tagged[_DICT]}
    return tagged


def main() -> None:
    """Save the grammar's tables beside it (lark numbers its states in an order that varies
    from run to run: after a merge that meets two versions, save them again)."""
    path = resources.files(__package__).joinpath(TABLES)
    with resources.as_file(path) as file:
        file.write_text(json.dumps(tables(), separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"saved {file}")


if __name__ == "__main__":
    main()
