"""Reading a text file a user names: a small regular UTF-8 file, else an error that says why.

Problem files, answer files, derivations, class rosters' problems and the workbench's gallery
are read here, so that a folder, a device (``/dev/zero``), a pipe, a link to nowhere, a file
too large or one that is not UTF-8 text each get the same clear error, before anything is read
(a device or a pipe could be endless).
"""

from __future__ import annotations

import os
import stat

from ..errors import LimitError, ParseError
from .syntax import MAX_LENGTH


def read_text_file(path: str, what: str = "file", shown: str | None = None,
                   limit: int = MAX_LENGTH) -> str:
    """The text of the file at ``path`` (``what`` it is, and ``shown`` as its name in
    messages); a byte-order mark is dropped.  Raises ParseError for a missing file, one that is
    not a regular file or not UTF-8, and LimitError for one over ``limit`` bytes."""
    shown = path if shown is None else shown
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise ParseError(f"no such {what}: {shown}") from None
    except OSError as error:  # a loop of links, a name too long, no permission
        raise ParseError(f"cannot read the {what} {shown}: {error.strerror}") from None
    if not stat.S_ISREG(status.st_mode):
        kind = "a folder" if stat.S_ISDIR(status.st_mode) else "a device, a pipe or a socket"
        raise ParseError(f"the {what} {shown} is not a regular file: it is {kind}")
    if status.st_size > limit:
        raise LimitError(f"the {what} {shown} has {status.st_size:,} bytes, more than {limit:,}")
    try:
        with open(path, encoding="utf-8-sig") as handle:  # a BOM is not text
            return handle.read(limit + 1)
    except UnicodeDecodeError:
        raise ParseError(f"the {what} {shown} is not UTF-8 text") from None
    except OSError as error:
        raise ParseError(f"cannot read the {what} {shown}: {error.strerror}") from None
