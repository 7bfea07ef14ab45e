"""Secret files created once, atomically: the log's signing key, the commission's key,
the web session secret.

:func:`read_or_create` returns a file's bytes, creating it with ``make()`` if it
does not exist.  The new file is written in full to a private temporary file
(mode 0600) beside it and then hard-linked into place, which fails if the name
exists: so a reader never sees a half-written key, and when several processes
start at once exactly one key wins and every process uses it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["read_or_create"]


def read_or_create(path: str | os.PathLike[str], make: Callable[[], bytes]) -> bytes:
    """The bytes of ``path``; if it does not exist, ``make()``'s, written there (0600)."""
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        pass
    data = make()
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")  # 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, p)  # atomic, and refuses an existing name
        except FileExistsError:
            return p.read_bytes()  # another process made it first: use theirs
        except OSError:  # a file system without hard links: exclusive create instead
            try:
                out = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return p.read_bytes()
            with os.fdopen(out, "wb") as fh:
                fh.write(data)
    finally:
        os.unlink(tmp)
    return data
