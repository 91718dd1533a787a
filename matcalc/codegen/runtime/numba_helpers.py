"""What fused kernels need at run time (codegen/fused.py): numba, and a check of shapes.

:mod:`matcalc.codegen.backends` copies this file from the marker line on into modules of the
``numba`` format.  numba is imported by the module's first kernel; where it is not installed, a
warning says so once and each function runs its NumPy code instead.
"""

# ---- copied into every generated module from here on ----
# numba, once imported ([None] where it is not installed)
_NUMBA = []
# the floating-point liberties a kernel takes: sums reassociated (SIMD lanes, as NumPy's
# pairwise sums reorder them), multiply-adds fused, x / y as x * (1 / y), the sign of a zero
# ignored; never the assumption that no value is inf or nan
_FAST_MATH = {"reassoc", "contract", "arcp", "nsz"}


def _fused_kernel(function):
    # function compiled by numba on its first call for each dtype (the machine code kept on
    # disk beside a module saved as a file); None where numba is not installed, and the
    # function runs its NumPy code: a warning says so once.  Division by 0 gives inf or nan
    # as in NumPy
    if not _NUMBA:
        try:
            import numba
        except ImportError:
            numba = None
            import warnings

            warnings.warn("numba is not installed: this module runs its NumPy code instead of "
                          "its fused kernels (slower; pip install numba)", RuntimeWarning,
                          stacklevel=3)
        _NUMBA.append(numba)
    if _NUMBA[0] is None:
        return None
    import os

    return _NUMBA[0].njit(cache=os.path.isfile(function.__code__.co_filename),
                          error_model="numpy", fastmath=_FAST_MATH)(function)


def _shaped(x, name, shape):
    # x, where its shape is the one the other arguments' sizes give it (a kernel reads entries
    # by index: no broadcasting, and no entry outside an array)
    if x.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (from the other arguments' sizes), "
                         f"not {x.shape}")
    return x
