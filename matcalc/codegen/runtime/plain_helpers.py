"""Helpers in plain Python (no library) that every backend's generated code shares: sizes and
integers as the generated arithmetic uses them."""


# ---- copied into every generated module from here on ----

def _integer(value):
    """An integer-valued scalar (a matrix power's exponent) as a Python int."""
    return int(round(float(value)))


def _given_size(sizes, dimension):
    """The size of a dimension no argument shows, from the caller's sizes."""
    return int(sizes[dimension])


def _dimension(size):
    """The size of a dimension as a number in arithmetic."""
    return float(size)
