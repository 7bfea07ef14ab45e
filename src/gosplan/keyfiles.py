"""Secret files created once, atomically: the log's signing key, the commission's key,
the web session secret.

:func:`read_or_create` returns a file's bytes, creating it with ``make()`` if it
does not exist; :func:`private_key` keeps a private key there as PEM.  The new
file is written in full to a private temporary file
(mode 0600) beside it and then hard-linked into place, which fails if the name
exists: so a reader never sees a half-written key, and when several processes
start at once exactly one key wins and every process uses it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, overload

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from gosplan.errors import ValidationError

__all__ = ["private_key", "read_or_create"]

_KINDS: dict[str, Any] = {"Ed25519": Ed25519PrivateKey, "X25519": X25519PrivateKey}


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


@overload
def private_key(
    path: str | os.PathLike[str], kind: Literal["Ed25519"], what: str
) -> Ed25519PrivateKey: ...
@overload
def private_key(
    path: str | os.PathLike[str], kind: Literal["X25519"], what: str
) -> X25519PrivateKey: ...
def private_key(path: str | os.PathLike[str], kind: str, what: str) -> Any:
    """The ``kind`` (Ed25519, X25519) private key kept as PEM in ``path``, made on first use.

    ``what`` names the key in errors: a file that is not a PEM private key, or
    holds a key of another kind, is a :class:`ValidationError`.

    A key read once is kept while the file is the same (its inode, size and modification
    time): each filing signs a tree head, and reading and parsing the PEM file each time
    cost more than the signature. A key file replaced or rewritten is read again.
    """
    cls = _KINDS[kind]
    before = _stamp(path, kind)
    kept = _KEPT.get((os.fspath(path), kind))
    if before is not None and kept is not None and kept[0] == before:
        return kept[1]
    pem = read_or_create(
        path,
        lambda: cls.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"{what} {path} is not a PEM private key: {exc}") from exc
    if not isinstance(key, cls):
        raise ValidationError(f"{what} {path} is not an {kind} key.")
    after = _stamp(path, kind)
    if after is not None and after == before:  # unchanged while it was read: keep it
        _KEPT[(os.fspath(path), kind)] = (after, key)
    return key


def _stamp(path: str | os.PathLike[str], kind: str) -> tuple[Any, ...] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns)


#: keys read, by (path, kind): the file's identity when read, and the key
_KEPT: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = {}
