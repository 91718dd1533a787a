"""Row-local functions of generated NumPy code computed over blocks of rows (codegen/row_blocks.py),
the blocks shared among threads where there are enough of them.

:mod:`matcalc.codegen.backends` copies this file from the marker line on into generated NumPy
modules (their helpers and settings only where a function calls them).
"""

import numpy as _np

# ---- copied into every generated module from here on ----
# rows of a block of _in_row_blocks: about this many bytes of each array, so that a block's
# arrays stay in a core's L2 cache between its passes
_ROW_BLOCK_BYTES = 1 << 19
# blocks each thread of _in_row_blocks takes at least (fewer threads where there are fewer):
# a thread's share must pay for waking it and for the GIL the blocks' small steps hold (on two
# cores, two threads on 4 blocks of 512 KiB measured no faster than one)
_ROW_BLOCKS_A_THREAD = 4
# [(the process, its threads, the pool of _in_row_blocks' other threads)], made on first use
_ROW_BLOCK_POOL = []


def _row_block_threads(blocks):
    # threads for this many blocks: the environment's MATCALC_THREADS (a whole number >= 1),
    # else one (measured on two cores, a second thread took 30 % more CPU time for no less
    # wall time: the blocks' small steps hold the interpreter's lock); at most one for each
    # _ROW_BLOCKS_A_THREAD blocks
    import os

    text = os.environ.get("MATCALC_THREADS", "").strip()
    if text:
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"MATCALC_THREADS must be a whole number of threads (1 or more), "
                             f"not {text!r}")
        wanted = int(text)
    else:
        wanted = 1
    return max(1, min(wanted, blocks // _ROW_BLOCKS_A_THREAD))


def _row_block_pool(workers):
    # a pool of at least this many threads, kept for later calls (one for the module in each
    # process: a process forked from this one has none of its threads)
    import os

    if not _ROW_BLOCK_POOL or _ROW_BLOCK_POOL[0][0] != os.getpid() or \
            _ROW_BLOCK_POOL[0][1] < workers:
        from concurrent.futures import ThreadPoolExecutor

        if _ROW_BLOCK_POOL:  # a smaller pool ends its threads once idle; another process's
            process, _, pool = _ROW_BLOCK_POOL.pop()  # threads are not in this one
            if process == os.getpid():
                pool.shutdown(wait=False)
        _ROW_BLOCK_POOL.append((os.getpid(), workers, ThreadPoolExecutor(workers, "row-blocks")))
    return _ROW_BLOCK_POOL[0][2]


def _in_row_blocks(function, arrays, sliced):
    # function(**arrays, _into={}), a row-local function (codegen/row_blocks.py), over blocks
    # of the sliced arrays' rows, each block's passes reading the cache; each block writes its
    # rows of the results (its function writes them in place given _into, the results' rows),
    # so the results are the same whichever thread computes a block
    arrays = {name: _np.asarray(value) if name in sliced else value
              for name, value in arrays.items()}
    counts = {arrays[name].shape[0] if arrays[name].ndim else -1 for name in sliced}
    n = counts.pop()
    width = max(arrays[name].size // max(n, 1) * arrays[name].itemsize for name in sliced)
    rows = max(1, _ROW_BLOCK_BYTES // max(width, 1))
    if counts or n < 2 * rows:  # (arrays of different rows: the function says what is wrong)
        return function(**arrays, _into={})
    import threading
    from collections import deque

    starts = deque(range(0, n, rows))
    out = {}
    allocating = threading.Lock()

    def blocks():
        # blocks taken from the shared queue until it is empty (or a block failed)
        while starts:
            try:
                start = starts.popleft()
            except IndexError:
                return
            part = slice(start, start + rows)
            with allocating:
                into = {key: value[part] for key, value in out.items()}
            try:
                values = function(**{name: value[part] if name in sliced else value
                                     for name, value in arrays.items()}, _into=into)
            except BaseException:
                starts.clear()  # no thread starts another block
                raise
            with allocating:  # the results, once their first block shows their dtype
                for key, value in values.items():
                    if key not in out:
                        out[key] = _np.empty((n, *value.shape[1:]), dtype=value.dtype)
            for key, value in values.items():
                if value is not into.get(key):  # computed elsewhere: copied into its rows
                    out[key][part] = value

    threads = _row_block_threads(len(starts))
    others = [_row_block_pool(threads - 1).submit(blocks) for _ in range(threads - 1)]
    try:
        blocks()
    finally:  # other threads' turns not begun are cancelled, those begun waited for
        failed = [other.exception() for other in others if not other.cancel()]
    for error in failed:
        if error is not None:
            raise error
    return out
