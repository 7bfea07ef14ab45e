"""C2SP signed notes, checkpoints and cosignatures against published vectors.

Vectors: the key and note of the Go reference implementation
(``golang.org/x/mod/sumdb/note``, note_test.go / the package example), and two
checkpoints published by the Go checksum database (``sum.golang.org``, key
``sum.golang.org+033de0ae+...``, the default GOSUMDB key compiled into Go).
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gosplan.core import note

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqd"
    "ngotpRZb6KE6RyyBwJnAM=\n"
)
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_NOTES = [
    (
        "go.sum database tree\n31700353\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n\n"
        "— sum.golang.org Az3grnmrIUEDFqHzAElIQCPNoRFRAAdFo47fooyWKMHb89k11GJh5zHIfNCOBmwn/C3YI8"
        "oW9/C8DJ87F61QqspBYwM=\n",
        31700353,
    ),
    (
        "go.sum database tree\n65209736\n5+uGFjx6xBZG8ip1+wi77v+grwbhhukIrxEUS8PXvRo=\n\n"
        "— sum.golang.org Az3grnbssgK7ubgFX36gVETtNv0U23qxyAhAMai2QUfeGa3nB/akvkMdlUErfcZz7l/R3c"
        "VtYspg3dxXABkGZZKdsQ8=\n",
        65209736,
    ),
]


def test_go_reference_note_is_reproduced_byte_for_byte() -> None:
    signer = note.Signer.parse(PETER_SKEY)
    assert str(signer.verifier) == PETER_VKEY
    assert signer.sign(PETER_TEXT) == PETER_SIG  # Ed25519 is deterministic
    n, good = note.open_note(PETER_TEXT + "\n" + PETER_SIG, [note.Verifier.parse(PETER_VKEY)])
    assert n.text == PETER_TEXT and good == {"PeterNeumann": 0}


def test_go_reference_note_refuses_changes() -> None:
    v = note.Verifier.parse(PETER_VKEY)
    with pytest.raises(note.NoteError, match="does not verify"):
        note.open_note(PETER_TEXT.replace("cryptography", "cryptographY") + "\n" + PETER_SIG, [v])
    for bad in (
        PETER_VKEY.replace("c74f20a3", "c74f20a4"),
        PETER_VKEY[:-2],
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+" + PETER_VKEY.split("+")[2],
    ):
        with pytest.raises(note.NoteError):
            note.Verifier.parse(bad)
    # a note signed by an unknown key verifies nothing
    _, good = note.open_note(PETER_TEXT + "\n" + PETER_SIG, [note.Verifier.parse(SUMDB_VKEY)])
    assert good == {}


@pytest.mark.parametrize(("signed", "size"), SUMDB_NOTES)
def test_go_checksum_database_checkpoints_verify(signed: str, size: int) -> None:
    n, good = note.open_note(signed, [note.Verifier.parse(SUMDB_VKEY)])
    assert good == {"sum.golang.org": 0}
    cp = note.parse_checkpoint(n.text)
    assert (cp.origin, cp.size, len(cp.root)) == ("go.sum database tree", size, 32)
    assert note.Checkpoint(cp.origin, cp.size, cp.root).text() == n.text
    forged = signed.replace(str(size), str(size + 1), 1)
    with pytest.raises(note.NoteError, match="does not verify"):
        note.open_note(forged, [note.Verifier.parse(SUMDB_VKEY)])


def test_cosignature_v1_round_trip_and_format() -> None:
    key = Ed25519PrivateKey.generate()
    cos = note.Signer("witness.example/w1", key, note.ALG_COSIGNATURE_V1)
    v = cos.verifier
    assert str(v).startswith("witness.example/w1+") and note.Verifier.parse(str(v)) == v
    # the key ID differs from the same key's note-signature ID (the type is hashed)
    assert v.id != note.Verifier.of(v.name, v.public).id
    text = note.Checkpoint("example.com/log", 5, bytes(32)).text()
    line = cos.cosign(text, 1_700_000_000)
    n = note.parse_note(text + "\n" + line)
    sig = n.signatures[0]
    assert len(sig.id + sig.blob) == 4 + 8 + 64
    assert int.from_bytes(sig.blob[:8], "big") == 1_700_000_000
    assert note.verify_signature(text, v, sig) == 1_700_000_000
    # the signed message is exactly "cosignature/v1\ntime <t>\n" + text
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    Ed25519PublicKey.from_public_bytes(v.public).verify(
        sig.blob[8:], b"cosignature/v1\ntime 1700000000\n" + text.encode()
    )
    other = note.Checkpoint("example.com/log", 5, bytes([1]) + bytes(31)).text()
    assert note.verify_signature(other, v, sig) is None


def test_add_checkpoint_request_round_trip() -> None:
    body = note.add_checkpoint_request(3, [bytes(32), bytes([7]) * 32], "a\n\n— k AAAAAAA=\n")
    assert body.startswith(b"old 3\n")
    old, proof, signed = note.parse_add_checkpoint(body)
    assert (old, proof, signed) == (3, [bytes(32), bytes([7]) * 32], "a\n\n— k AAAAAAA=\n")
    for bad in (b"old x\n\nnote", b"new 3\n\nnote", b"old 3\nnotbase64!\n\nn"):
        with pytest.raises(note.NoteError):
            note.parse_add_checkpoint(bad)
