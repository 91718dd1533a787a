"""einsum problems: how many an installed matcalc reads, derives correctly, and prints in the
matrix form of the book.

Run: python bench/einsum_forms.py  (from a checkout: it measures the matcalc of the current
directory, so the same script measures an older checkout run from there)

The problems (bench/einsum/*.mc, which no test reads) write bilinear attention scores, bilinear
pooling, a trilinear form, trace and Mahalanobis contractions, and a tensor network with an
einsum; each has its `# textbook:` gradient. A problem counts as derived when matcalc's quick
numeric check passes, as in the book's form when no einsum is left where the book has none, and
its size is the printed result's token count over the book's (tests/test_gallery.py's tokens).
"""

from __future__ import annotations

import pathlib
import re
import sys

sys.path.insert(0, str(pathlib.Path.cwd()))

import matcalc  # noqa: E402

PROBLEMS = sorted((pathlib.Path(__file__).resolve().parent / "einsum").glob("*.mc"))
TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+\.?\d*|\S")


def _tokens(line: str) -> int:
    return len(TOKEN.findall(line.split("=", 1)[1]))


def measure(path: pathlib.Path) -> tuple[str, str, str]:
    text = path.read_text()
    book = [line.split(":", 1)[1].strip() for line in text.splitlines()
            if line.startswith("# textbook:")][-1]
    try:
        results = matcalc.derive(text)
    except matcalc.MatcalcError as error:
        return "no", "-", str(error).splitlines()[0][:60]
    results = results if isinstance(results, matcalc.Derivatives) else [results]
    checked = all(result.checked is not None and result.checked.ok for result in results)
    last = results[-1].text.splitlines()[-1]
    matrix_form = ("einsum" in book) or ("einsum" not in last)
    ratio = _tokens(last) / _tokens(book)
    return ("yes" if checked else "WRONG"), ("yes" if matrix_form else "no"), \
        f"{ratio:.2f}x  {last}"


def main() -> None:
    rows = [(path.stem, *measure(path)) for path in PROBLEMS]
    print("| problem | derived | book's form | size vs book, result |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    derived = sum(row[1] == "yes" for row in rows)
    forms = sum(row[2] == "yes" for row in rows)
    print(f"\n{derived}/{len(rows)} derived and checked, {forms}/{len(rows)} in the book's form")


if __name__ == "__main__":
    main()
