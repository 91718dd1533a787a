"""Index arithmetic every stage shares, in plain Python: the one definition of the
commutation matrix.  The SymPy bridge reads its entries from here, and
:mod:`matcalc.codegen.backends` copies this file from the marker line on into every generated
module, before the backend's helpers, which build the matrix from it (as the interpreter does,
through the same helpers).
"""


# ---- copied into every generated module from here on ----
def _commutation_columns(m, n):
    """Where row r of the commutation matrix K(m, n) has its one: K @ vec(A) = vec(A') for A
    m x n (Magnus & Neudecker, ch. 3 sec. 7), and entry r of vec(A') is A[r // n, r % n], entry
    (r % n) m + r // n of vec(A).  K is the identity's rows in this order."""
    return [(r % n) * m + r // n for r in range(m * n)]
