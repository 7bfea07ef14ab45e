"""gosplan.keyfiles.read_or_create: secret files created once, atomically, mode 0600."""

from __future__ import annotations

import os
import secrets
import stat
import threading
from pathlib import Path

from gosplan.keyfiles import read_or_create
from gosplan.web.security import load_or_create_secret


def test_created_once_private_and_then_read(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "log.key"
    calls: list[int] = []

    def make() -> bytes:
        calls.append(1)
        return b"first"

    assert read_or_create(path, make) == b"first"
    assert read_or_create(path, lambda: b"second") == b"first"
    assert calls == [1]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["log.key"]  # no temp file left


def test_racing_creators_all_get_the_one_winner(tmp_path: Path) -> None:
    path = tmp_path / "commission.key"
    start = threading.Barrier(16)
    got: list[bytes] = []

    def worker() -> None:
        start.wait()
        got.append(read_or_create(path, lambda: secrets.token_bytes(64)))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 16 and len(set(got)) == 1
    assert path.read_bytes() == got[0] and len(got[0]) == 64
    assert os.listdir(tmp_path) == ["commission.key"]


def test_web_session_secret_uses_it(tmp_path: Path) -> None:
    path = tmp_path / "session.key"
    first = load_or_create_secret(str(path))
    assert len(first) == 32 and load_or_create_secret(str(path)) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_private_key_is_made_once_and_refuses_the_wrong_kind(tmp_path: Path) -> None:
    import pytest
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from gosplan.errors import ValidationError
    from gosplan.keyfiles import private_key

    path = tmp_path / "log.key"
    key = private_key(path, "Ed25519", "log signing key")
    assert isinstance(key, Ed25519PrivateKey)
    again = private_key(path, "Ed25519", "log signing key")
    assert again.public_key().public_bytes_raw() == key.public_key().public_bytes_raw()
    with pytest.raises(ValidationError, match=r"commission key .* is not an X25519 key"):
        private_key(path, "X25519", "commission key")
    (tmp_path / "junk.key").write_bytes(b"not a key")
    with pytest.raises(ValidationError, match="is not a PEM private key"):
        private_key(tmp_path / "junk.key", "Ed25519", "log signing key")


def test_a_private_key_is_kept_until_its_file_is_replaced(tmp_path: Path) -> None:
    """A key read once is kept (no read and parse per signature); a file replaced by another
    key, or a broken file, is read again."""
    import pytest
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from gosplan.errors import ValidationError
    from gosplan.keyfiles import private_key

    def raw(key: Ed25519PrivateKey) -> bytes:
        return key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    path = tmp_path / "log.key"
    made = private_key(path, "Ed25519", "log signing key")  # created
    first = private_key(path, "Ed25519", "log signing key")
    assert raw(first) == raw(made)
    assert private_key(path, "Ed25519", "log signing key") is first  # kept
    other = Ed25519PrivateKey.generate()
    fresh = tmp_path / "new.key"
    fresh.write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.replace(fresh, path)  # a rotated key: another file under the name
    assert raw(private_key(path, "Ed25519", "log signing key")) == raw(other)
    path.write_bytes(b"not a key")
    with pytest.raises(ValidationError, match="not a PEM private key"):
        private_key(path, "Ed25519", "log signing key")
