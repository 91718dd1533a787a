"""Row-local NumPy gradients over blocks of rows (codegen/row_blocks.py, runtime/
row_block_helpers.py): each block writes its rows of the result in place, blocks are shared among
MATCALC_THREADS threads, and the result is the same bits on any number of threads."""

import gc
import os
import signal
import threading
import time
import warnings
from types import ModuleType

import numpy as np
import pytest

import matcalc
from matcalc.codegen.module import generate

LAYER_NORM = """X, G : matrix(N, d)
mu = mean(X, 1)
s = sqrt(mean((X - mu) .^ 2, 1) + 1e-5)
L = G : ((X - mu) / s)
"""
RMS_NORM_WITH_A_PRODUCT = """X : matrix(N, d)
G : matrix(N, k)
W : matrix(d, k)
r = sqrt(mean(X .^ 2, 1) + 1e-6)
L = G : tanh((X / r) @ W)
"""
ROWS, WIDTH = 48, 8


@pytest.fixture(scope="module")
def layer_norm():
    return matcalc.derive(LAYER_NORM, wrt=["X"], check=False)


def module_of(results, block_rows=1):
    """A new module of the generated code of results (not load's shared one: its settings and
    functions change here), with blocks of ``block_rows`` rows (float64, d = 8)."""
    module = ModuleType("row_blocks_under_test")
    exec(compile(generate(list(results)), "<row blocks under test>", "exec"),  # our own code
         module.__dict__)
    module._ROW_BLOCK_BYTES = block_rows * WIDTH * 8
    return module


def arrays(dtype=np.float64, k=None, seed=0):
    rng = np.random.default_rng(seed)
    given = {"X": rng.normal(size=(ROWS, WIDTH)), "G": rng.normal(size=(ROWS, WIDTH))}
    if k:
        given["G"] = rng.normal(size=(ROWS, k))
        given["W"] = rng.normal(size=(WIDTH, k))
    return {name: value.astype(dtype) for name, value in given.items()}


def recording(module, seen, shared=False):
    """Wraps the module's row function: records which thread computes each block; ``shared``:
    the blocks wait (up to 10 s) until a second thread has taken one, so that blocks are shared
    however the threads are scheduled (tiny blocks hold the GIL: one thread could take all)."""
    rows_function = module._gradient_rows
    both = threading.Event()

    def recorded(**given):
        seen.append(threading.get_ident())
        if len(set(seen)) > 1:
            both.set()
        elif shared:
            both.wait(10)
        return rows_function(**given)

    module._gradient_rows = recorded
    return rows_function


@pytest.mark.parametrize("source,dtype", [(LAYER_NORM, np.float64), (LAYER_NORM, np.float32),
                                          (RMS_NORM_WITH_A_PRODUCT, np.float64)])
@pytest.mark.parametrize("block_rows", [1, 3])
def test_blocks_on_several_threads_give_the_same_bits_as_on_one(source, dtype, block_rows,
                                                                monkeypatch):
    results = matcalc.derive(source, wrt=["X"], check=False)
    module = module_of(results, block_rows)
    given = arrays(dtype, k=3 if "W" in source else None)
    seen: list[int] = []
    rows_function = recording(module, seen)
    monkeypatch.setenv("MATCALC_THREADS", "1")
    one = module.gradient(**given)["X"]
    assert len(set(seen)) == 1
    want = results.numpy(compiled=False)(**{k: v.astype(np.float64) for k, v in given.items()})
    np.testing.assert_allclose(one, want["X"], rtol=1e-4 if dtype == np.float32 else 1e-10,
                               atol=1e-4 if dtype == np.float32 else 1e-12)
    assert one.dtype == dtype
    for threads in ("2", "3"):
        module._gradient_rows = rows_function
        seen = []
        recording(module, seen, shared=True)
        monkeypatch.setenv("MATCALC_THREADS", threads)
        got = module.gradient(**given)["X"]
        assert len(set(seen)) > 1, "the blocks ran on one thread"
        assert got.dtype == dtype and np.array_equal(got, one), threads


def test_each_block_writes_its_rows_of_the_result_in_place(layer_norm, monkeypatch):
    # no block's result is copied, but for those computed before the result exists
    module = module_of(layer_norm, 4)
    rows_function = module._gradient_rows
    in_place: list[bool] = []

    def checked(_into, **given):
        values = rows_function(**given, _into=_into)
        in_place.append("X" in _into and values["X"] is _into["X"])
        return values

    module._gradient_rows = checked
    monkeypatch.setenv("MATCALC_THREADS", "1")
    module.gradient(**arrays())
    assert in_place == [False] + [True] * (ROWS // 4 - 1)


@pytest.mark.parametrize("failing", ["calling thread", "other thread"])
def test_a_failing_block_raises_its_error_and_no_block_starts_after_it(layer_norm, failing,
                                                                      monkeypatch):
    module = module_of(layer_norm)
    rows_function = module._gradient_rows
    started: list[bool] = []  # whether each block ran on the calling thread
    both, failed, after = threading.Event(), [], []

    def fails_once(**given):
        here = threading.current_thread() is threading.main_thread()
        started.append(here)
        after.extend(failed)  # a block started after the failure
        if len(set(started)) > 1:
            both.set()
        else:
            both.wait(10)  # until both threads have taken a block
        if here is (failing == "calling thread") and not failed:
            failed.append(here)
            raise FloatingPointError(f"a block on the {failing}")
        time.sleep(0.002)  # (the GIL released: the other thread goes on)
        return rows_function(**given)

    module._gradient_rows = fails_once
    monkeypatch.setenv("MATCALC_THREADS", "2")
    with pytest.raises(FloatingPointError, match=f"a block on the {failing}"):
        module.gradient(**arrays())
    # no block starts after the failure (but one the other thread had taken just before)
    assert failed and len(after) <= 1 and len(started) < ROWS
    module._gradient_rows = rows_function  # the next call computes every block
    np.testing.assert_allclose(module.gradient(**arrays())["X"],
                               layer_norm.numpy()(**arrays())["X"], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("text", ["0", "two", "-1", "1.5"])
def test_a_thread_count_that_is_not_a_whole_number_is_refused(layer_norm, text, monkeypatch):
    monkeypatch.setenv("MATCALC_THREADS", text)
    with pytest.raises(ValueError, match="MATCALC_THREADS must be a whole number"):
        module_of(layer_norm).gradient(**arrays())


def test_the_threads_of_a_module_end_with_it(layer_norm, monkeypatch):
    monkeypatch.setenv("MATCALC_THREADS", "3")

    def pool_threads():
        return {t for t in threading.enumerate() if t.name.startswith("row-blocks")}

    before = pool_threads()
    module = module_of(layer_norm)
    recording(module, [], shared=True)
    for _ in range(4):
        module.gradient(**arrays())
    made = pool_threads() - before
    assert 1 <= len(made) <= 2  # one pool for the module: at most its two other threads
    del module
    for _ in range(100):  # once collected (a turn cancelled may hold it until a thread drops it)
        gc.collect()
        if not any(thread.is_alive() for thread in made):
            break
        time.sleep(0.1)
    assert not any(thread.is_alive() for thread in made)


def test_few_blocks_stay_on_the_calling_thread(layer_norm, monkeypatch):
    # a thread takes at least _ROW_BLOCKS_A_THREAD (4) blocks: three blocks run on one thread
    module = module_of(layer_norm, ROWS // 3)
    seen: list[int] = []
    recording(module, seen)
    monkeypatch.setenv("MATCALC_THREADS", "4")
    module.gradient(**arrays())
    assert seen == [threading.get_ident()] * 3


def test_a_forked_process_computes_on_threads_of_its_own(layer_norm, monkeypatch):
    # the parent's pool has no threads in the child: the child must neither wait for them nor
    # lose its blocks (a data loader's worker processes are forked)
    module = module_of(layer_norm)
    monkeypatch.setenv("MATCALC_THREADS", "2")
    recording(module, [], shared=True)  # the parent's pool has run blocks
    want = module.gradient(**arrays())["X"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (a fork of a threaded process: the child uses NumPy)
        child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        try:
            os._exit(0 if np.array_equal(module.gradient(**arrays())["X"], want) else 1)
        finally:
            os._exit(2)
    for _ in range(300):
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        pytest.fail("the forked process did not finish in 30 s")
    assert os.waitstatus_to_exitcode(status) == 0
