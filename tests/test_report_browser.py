"""The class's HTML report in a real headless browser: the vendored KaTeX, loaded from beside
the pages (no network), typesets the references and the answers as read, the reference as a
partial derivative, on the class page and a student's page.  Skips where the browser is not
installed, as tests/test_browser.py does."""

from __future__ import annotations

import csv

import pytest
from test_browser import (
    CHROMIUM,
    DRIVER,
    browser,  # noqa: F401  (the headless chromium fixture)
)

from matcalc.grading.batch import grade, read_answers
from matcalc.grading.report_html import write_html

pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="the browser test needs chromium and chromedriver (apt-get install chromium "
           "chromium-driver)")


def test_the_report_typesets_its_formulas_offline(tmp_path, browser):  # noqa: F811
    (tmp_path / "quadratic.mc").write_text("x : vector(n); A : matrix(n, n)\nf = x' @ A @ x\n")
    answers = tmp_path / "answers.csv"
    with answers.open("w", newline="") as handle:
        csv.writer(handle).writerows([["student", "problem", "wrt", "answer"],
                                      ["张伟", "quadratic.mc", "x", r"(A + A^\top) x"],
                                      ["王芳", "quadratic.mc", "x", "A @ (x"]])
    pages = write_html(grade(read_answers(answers), jobs=1), tmp_path / "report.html")
    for page in pages[:2]:
        browser.get(page.as_uri())
        WebDriverWait(browser, 30).until(
            lambda driver: driver.find_elements(By.CSS_SELECTOR, ".katex"))
        assert not browser.find_elements(By.CSS_SELECTOR, ".katex-error")
        text = browser.find_element(By.TAG_NAME, "body").text.replace("\n", "")
        assert "∂f" in text and "∂x" in text and "df_{dx}" not in text
    # the error's caret stays under the bracket that is never closed
    browser.get(pages[2].as_uri())
    shown = WebDriverWait(browser, 30).until(
        lambda driver: driver.find_elements(By.TAG_NAME, "pre"))
    caret = shown[0].text
    assert caret.splitlines() == ["  A @ (x", "      ^"]
