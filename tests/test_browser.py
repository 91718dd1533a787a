"""The workbench's page in a real headless browser (Debian's chromium through selenium): it loads,
renders the CS224n problem's results with KaTeX, checks a wrong answer and shows its hint, and
shows a typo's error at its place.  Skips, saying why, where the browser is not installed
(``.ci/run`` installs it)."""

from __future__ import annotations

import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time

import pytest

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="the browser test needs chromium and chromedriver (apt-get install chromium "
           "chromium-driver)")
ROOT = pathlib.Path(__file__).resolve().parent.parent
CS224N = (ROOT / "derivations" / "cs224n_one_layer.mc").read_text()
# MATCALC_SCREENSHOT=1 refreshes the README's picture of the page
SCREENSHOT = ROOT / "docs" / "workbench.png"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(*options: str):
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "matcalc", "serve", "--port", str(port),
                                *options], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    url = f"http://127.0.0.1:{port}/"
    try:
        assert process.stdout is not None
        assert url in process.stdout.readline()
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def server():
    yield from _serve("--jobs", "2")


@pytest.fixture(scope="module")
def practice_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("practice")
    (folder / "least_squares.mc").write_text((ROOT / "derivations" / "least_squares.mc")
                                             .read_text())
    (folder / "least_squares.rubric.toml").write_text(
        "points = 4\n[partial]\nfactor = 2\n[feedback]\nfactor = 'Count the 2s.'\n"
        "[practice]\nreveal_after = 2\n")
    yield from _serve("--jobs", "1", "--practice", str(folder))


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=DRIVER),
                              options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _type(driver, element_id: str, text: str) -> None:
    element = driver.find_element(By.ID, element_id)
    element.clear()
    element.send_keys(text)


def _wait(driver, condition, seconds: float = 30):
    return WebDriverWait(driver, seconds).until(condition)


def test_the_workbench_in_a_browser(server, browser):
    browser.get(server)
    _wait(browser, expected_conditions.presence_of_element_located(
        (By.CSS_SELECTOR, "#results .katex")))
    # the user types the CS224n problem (the page derives as it is typed)
    _type(browser, "problem", CS224N)
    _wait(browser, lambda driver: len(driver.find_elements(By.CSS_SELECTOR,
                                                           "#results .result")) == 5)
    results = browser.find_element(By.ID, "results")
    assert not results.find_elements(By.CSS_SELECTOR, ".katex-error")
    assert "proven" in browser.find_element(By.ID, "status").text
    rendered = results.text
    assert "δ" in rendered and "∂J" in rendered.replace("\n", "")
    assert "def " in browser.find_element(By.ID, "code").get_attribute("textContent")
    # a wrong answer: the relu mask is missing
    _type(browser, "answer-wrt", "W")
    _type(browser, "answer", "(U' @ (yhat - y)) @ x'")
    browser.find_element(By.ID, "check-answer").click()
    verdict = _wait(browser, lambda driver: driver.find_element(By.ID, "answer-verdict")
                    if "wrong" in driver.find_element(By.ID, "answer-verdict").text else False)
    assert "step(z)" in verdict.text
    if os.environ.get("MATCALC_SCREENSHOT"):
        browser.execute_script("window.scrollTo(0, 0)")
        browser.save_screenshot(str(SCREENSHOT))
    # a typo: the error shows at its line and column, under the editor
    _type(browser, "problem", "x : vector(n)\nf = sum(x +* x)")
    error = _wait(browser, expected_conditions.visibility_of_element_located(
        (By.ID, "problem-error")))
    _wait(browser, lambda driver: "line 2, column 12" in error.text)
    assert "^" in error.text


ATTENTION_LIKE = "A : matrix(m, n); V : matrix(n, k)\nO = A @ V\nf = sum(O .^ 2)\ngrad f wrt V"


def _status(driver) -> tuple[str, str]:
    status = driver.find_element(By.ID, "status")
    return status.get_attribute("data-state"), status.text


def test_a_result_that_no_longer_matches_the_editor_is_marked_stale(server, browser):
    browser.get(server)
    _type(browser, "problem", ATTENTION_LIKE)
    _wait(browser, lambda driver: _status(driver)[0] == "derived" and "grad of f wrt V" in
          driver.find_element(By.ID, "results").text)
    pane = browser.find_element(By.ID, "results-pane")
    assert "stale" not in pane.get_attribute("class")
    # edited by hand, not derived yet: the results are marked stale at once
    browser.find_element(By.ID, "live").click()
    _type(browser, "problem", ATTENTION_LIKE.replace("A @ V", "V @ A"))
    state, text = _status(browser)
    assert state == "stale" and "press Derive" in text
    assert "stale" in pane.get_attribute("class")
    assert browser.find_element(By.ID, "stale-note").is_displayed()
    # derived: the error shows, and the old results stay marked stale, as the status says
    browser.find_element(By.ID, "derive").click()
    _wait(browser, lambda driver: _status(driver)[0] == "error")
    state, text = _status(browser)
    assert "line 2" in text and "stale" in text
    assert browser.find_element(By.ID, "problem-error").is_displayed()
    assert "stale" in pane.get_attribute("class")
    # back to a problem that derives: fresh results, nothing stale
    _type(browser, "problem", ATTENTION_LIKE.replace("sum(O .^ 2)", "sum(O)"))
    browser.find_element(By.ID, "derive").click()
    _wait(browser, lambda driver: _status(driver)[0] == "derived")
    assert "stale" not in pane.get_attribute("class")
    assert not browser.find_element(By.ID, "stale-note").is_displayed()
    browser.find_element(By.ID, "live").click()


def test_the_status_line_is_never_blank_while_typing(server, browser):
    browser.get(server)
    _wait(browser, lambda driver: _status(driver)[0] == "derived")
    editor = browser.find_element(By.ID, "problem")
    seen = set()
    for key in " + 0":
        editor.send_keys(key)
        state, text = _status(browser)
        assert state in ("stale", "working", "derived", "error") and text, (state, text)
        seen.add(state)
    _wait(browser, lambda driver: _status(driver)[0] in ("derived", "error"))
    assert "stale" in seen or "working" in seen


def test_a_link_reproduces_the_problem(server, browser):
    browser.get(server)
    _type(browser, "problem", ATTENTION_LIKE)
    _type(browser, "wrt", "A")
    _wait(browser, lambda driver: "grad of f wrt A" in driver.find_element(By.ID, "results").text
          and _status(driver)[0] == "derived")
    link = browser.current_url
    assert "#problem=" in link
    browser.get("about:blank")
    browser.get(link)
    _wait(browser, lambda driver: "grad of f wrt A" in driver.find_element(By.ID, "results").text)
    assert browser.find_element(By.ID, "problem").get_attribute("value") == ATTENTION_LIKE
    assert browser.find_element(By.ID, "wrt").get_attribute("value") == "A"


def test_practice_mode_in_a_browser(practice_server, browser):
    browser.get(practice_server + "#problem=least_squares")
    _wait(browser, lambda driver: "norm2" in driver.find_element(By.ID, "problem-text").text)
    _type(browser, "answer", "A' @ (A @ x - b)")
    browser.find_element(By.ID, "check-answer").click()
    verdict = _wait(browser, lambda driver: driver.find_element(By.ID, "practice-verdict")
                    if "Count the 2s." in driver.find_element(By.ID, "practice-verdict").text
                    else False)
    assert "0.5 times" in verdict.text and "2 of 4 points" in verdict.text
    assert not browser.find_element(By.ID, "reference").is_displayed()
    assert "1 attempt" in browser.find_element(By.ID, "status").text
    _type(browser, "answer", "A' @ (A @ x - b) + A' @ (A @ x - b)")
    assert browser.find_element(By.ID, "status").get_attribute("data-state") == "stale"
    browser.find_element(By.ID, "check-answer").click()
    reference = _wait(browser, expected_conditions.visibility_of_element_located(
        (By.ID, "reference")))
    assert "reference answer" in reference.text and reference.find_elements(By.CSS_SELECTOR,
                                                                             ".katex")
