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


def _einsum_groups(output):
    """An einsum output's axes, each its letters: "(ia)(jb)" -> ["ia", "jb"], "ij" -> ["i", "j"]
    (letters in parentheses make one axis, C order)."""
    groups, group = [], None
    for letter in output:
        if letter == "(":
            group = ""
        elif letter == ")":
            groups.append(group)
            group = None
        elif group is None:
            groups.append(letter)
        else:
            group += letter
    return groups


def _grouped_shape(groups, sizes):
    """The shape of an einsum's result whose axes group letters of the given sizes."""
    shape = []
    for group in groups:
        size = 1
        for letter in group:
            size *= sizes[letter]
        shape.append(size)
    return tuple(shape)
