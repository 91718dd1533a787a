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


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "matcalc", "serve", "--port", str(port),
                                "--jobs", "2"], stdout=subprocess.PIPE, text=True, cwd=ROOT)
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
