"""The criticism channel: filing, receipts, statuses, sealed identities, bad input, no edits."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from gosplan.config import Settings
from gosplan.errors import ValidationError
from gosplan.services import appointments, commission, criticism, publiclog
from gosplan.services.publiclog import state as logstate
from gosplan.storage.base import session_scope
from gosplan.storage.control import Criticism, CriticismStatus, SealedIdentity
from tests.control.conftest import in_threads


@pytest.fixture
def org(engine: Engine) -> Engine:
    with session_scope(engine) as s:
        appointments.add_unit(s, "E1", "Tractor works")
        appointments.add_person(s, "P-DIR", "Director Ivanova")
        appointments.add_person(s, "P-W1", "Worker Petrov")
    return engine


def _file(engine: Engine, settings: Settings, **kw: object) -> str:
    args: dict[str, object] = {
        "target_kind": "official",
        "target": "P-DIR",
        "content": "The director hides the fuel shortfall.",
    }
    args.update(kw)
    with session_scope(engine) as s:
        return criticism.file(s, settings=settings, **args).ref  # type: ignore[arg-type]


def test_filed_criticism_is_in_the_log_with_a_receipt_that_verifies(
    org: Engine, settings: Settings
) -> None:
    ref = _file(org, settings, identity="Petrov, shop 3", person="P-W1")
    with session_scope(org) as s:
        rec = criticism.receipt(s, ref, settings)
        entry = publiclog.entry(s, rec["entry"]["index"])
        assert entry.kind == "criticism.filed"
        assert entry.payload["criticism"] == ref
        assert entry.payload["content"] == "The director hides the fuel shortfall."
        assert criticism.current_status(s, ref) == "received"
    rec = json.loads(json.dumps(rec))  # what the filer keeps
    with session_scope(org) as s:
        check = criticism.verify_receipt(s, rec, settings)
    assert check.ok, check.message
    assert rec["criticism"] == ref


def test_receipt_still_verifies_after_10000_later_entries(
    org: Engine, settings: Settings, tmp_path: Path
) -> None:
    ref = _file(org, settings)
    with session_scope(org) as s:
        rec = json.loads(json.dumps(criticism.receipt(s, ref, settings)))
    with session_scope(org) as s:
        publiclog.append_many(s, [("test.filler", {"i": i}) for i in range(10_000)])
    with session_scope(org) as s:
        check = criticism.verify_receipt(s, rec, settings)
        assert publiclog.size(s) > 10_000
        out = tmp_path / "log.jsonl"
        publiclog.export(s, out, settings)
    assert check.ok, check.message
    assert check.checked_against is not None and check.checked_against > 10_000
    offline = criticism.verify_receipt_with_export(
        rec, out, trusted_key=publiclog.public_key(settings)
    )
    assert offline.ok, offline.message


def test_tampered_receipt_fails(org: Engine, settings: Settings) -> None:
    ref = _file(org, settings)
    with session_scope(org) as s:
        rec = json.loads(json.dumps(criticism.receipt(s, ref, settings)))
    rec["entry"]["payload"]["content"] = "Nothing is wrong."
    with session_scope(org) as s:
        check = criticism.verify_receipt(s, rec, settings)
    assert not check.ok
    assert "altered" in check.message


def test_receipt_fails_when_the_stored_criticism_was_tampered_with(
    org: Engine, settings: Settings
) -> None:
    ref = _file(org, settings)
    with session_scope(org) as s:
        rec = json.loads(json.dumps(criticism.receipt(s, ref, settings)))
        index = rec["entry"]["index"]
    drop = (
        "DROP TRIGGER publiclog_entry_no_update"
        if org.dialect.name == "sqlite"
        else "DROP TRIGGER publiclog_entry_append_only ON publiclog_entry"
    )
    with org.begin() as conn:  # an intruder with owner rights bypasses the trigger
        conn.execute(text(drop))
        conn.execute(
            text("UPDATE publiclog_entry SET payload_json = :p WHERE idx = :i"),
            {"p": json.dumps({"criticism": ref, "content": "softened"}), "i": index},
        )
    with session_scope(org) as s:
        check = criticism.verify_receipt(s, rec, settings)
    assert not check.ok
    assert f"log entry {index}" in check.message


def test_status_changes_need_reasons_and_are_logged(org: Engine, settings: Settings) -> None:
    ref = _file(org, settings)
    with session_scope(org) as s:
        criticism.change_status(
            s, ref, "under investigation", reason="fuel records requested", by="commission"
        )
        criticism.change_status(
            s, ref, "upheld", reason="records show 12% shortfall hidden", by="commission"
        )
    with session_scope(org) as s:
        hist = [(h.status, h.reason) for h in criticism.history(s, ref)]
        logged = [e.payload for e in publiclog.entries(s, kind="criticism.status")]
    assert hist == [
        ("received", "filed"),
        ("under_investigation", "fuel records requested"),
        ("upheld", "records show 12% shortfall hidden"),
    ]
    assert [p["to"] for p in logged] == ["under_investigation", "upheld"]
    assert logged[1]["reason"] == "records show 12% shortfall hidden"


def _counts(engine: Engine) -> tuple[int, int, int]:
    with session_scope(engine) as s:
        return (
            publiclog.size(s),
            s.scalar(select(func.count()).select_from(Criticism)) or 0,
            s.scalar(select(func.count()).select_from(CriticismStatus)) or 0,
        )


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"content": "   "}, "needs content"),
        ({"content": ""}, "needs content"),
        ({"target": "P-NOBODY"}, "unknown"),
        ({"target_kind": "enterprise", "target": "E-NONE"}, "unknown"),
        ({"target_kind": "decision", "target": "99"}, "unknown"),
        ({"target_kind": "planet"}, "not one of"),
        (
            {
                "attachment": b"x" * (criticism.MAX_ATTACHMENT_BYTES + 1),
                "attachment_name": "scan.pdf",
            },
            "at most",
        ),
        ({"content": "x" * (criticism.MAX_CONTENT_CHARS + 1)}, "at most"),
        ({"person": "P-GHOST"}, "not on record"),
    ],
)
def test_bad_filings_write_nothing(
    org: Engine, settings: Settings, kw: dict[str, object], match: str
) -> None:
    before = _counts(org)
    with pytest.raises(ValidationError, match=match):
        _file(org, settings, **kw)
    assert _counts(org) == before


def test_status_change_without_reason_writes_nothing(org: Engine, settings: Settings) -> None:
    ref = _file(org, settings)
    before = _counts(org)
    for reason in ("", "   "):
        with pytest.raises(ValidationError, match="needs a stated reason"), session_scope(org) as s:
            criticism.change_status(s, ref, "rejected", reason=reason, by="commission")
    with pytest.raises(ValidationError, match="not one of"), session_scope(org) as s:
        criticism.change_status(s, ref, "buried", reason="inconvenient", by="director")
    with pytest.raises(ValidationError, match="already received"), session_scope(org) as s:
        criticism.change_status(s, ref, "received", reason="again", by="commission")
    assert _counts(org) == before


def _shares(settings: Settings) -> list[Path]:
    return sorted((Path(settings.commission_key_path).parent / "shares").glob("share-*.json"))


def test_identity_is_sealed_and_every_access_is_logged(org: Engine, settings: Settings) -> None:
    ref = _file(org, settings, identity="Petrov, shop 3", person="P-W1")
    short = _file(org, settings, identity="X")
    with session_scope(org) as s:
        c = criticism.get(s, ref)
        sealed = s.get(SealedIdentity, c.id)
        assert sealed is not None
        assert b"Petrov" not in bytes(sealed.sealed)
        assert sealed.watch_tag != "P-W1"
        # padded: a one-letter identity seals to exactly as many bytes as a long one
        other = s.get(SealedIdentity, criticism.get(s, short).id)
        assert other is not None and len(bytes(other.sealed)) == len(bytes(sealed.sealed))
        box = criticism.export_sealed(s, ref)
    shares = [commission.read_share(p) for p in _shares(settings)]
    # one share alone does not open it
    with pytest.raises(ValidationError, match="needs 2 members"):
        commission.open_sealed(box, shares[:1], reason="retaliation hearing")
    # a share repeated is still one member
    with pytest.raises(ValidationError, match="needs 2 members"):
        commission.open_sealed(box, [shares[0], shares[0]], reason="retaliation hearing")
    with pytest.raises(ValidationError, match="reason"):
        commission.open_sealed(box, shares[:2], reason=" ")
    identity, record = commission.open_sealed(box, shares[1:], reason="retaliation hearing")
    assert identity == {"identity": "Petrov, shop 3", "person": "P-W1"}
    assert record["members"] == ["Petrov", "Sidorova"]
    # the server logs the record; a forged or under-signed one is refused
    forged = {**record, "reason": "curiosity"}
    with pytest.raises(ValidationError, match="does not verify"), session_scope(org) as s:
        criticism.record_opening(s, forged, settings)
    lone = {**record, "signatures": record["signatures"][:1]}
    with pytest.raises(ValidationError, match="rule is 2"), session_scope(org) as s:
        criticism.record_opening(s, lone, settings)
    with session_scope(org) as s:
        criticism.record_opening(s, record, settings)
    with session_scope(org) as s:
        acc = publiclog.entries(s, kind="criticism.identity_opened")
        assert len(acc) == 1 and acc[0].payload["members"] == ["Petrov", "Sidorova"]
        assert acc[0].payload["reason"] == "retaliation hearing"
        assert [a.accessor for a in criticism.accesses(s, ref)] == ["Petrov, Sidorova"]
        assert logstate.verify_public_state(s).ok
    # shares of another commission cannot open it
    alien = commission.keygen(Path(settings.commission_key_path).parent / "alien", ["a", "b"])
    with pytest.raises(ValidationError, match="cannot be opened"):
        commission.open_sealed(
            box, [commission.read_share(p) for p in alien.share_paths], reason="curiosity"
        )


def test_passphrase_protected_shares(tmp_path: Path) -> None:
    res = commission.keygen(tmp_path, ["a", "b", "c"], threshold=2, passphrases=["pa", "pb", None])
    assert "share" not in json.loads(res.share_paths[0].read_text())  # encrypted
    with pytest.raises(ValidationError, match="passphrase"):
        commission.read_share(res.share_paths[0])
    with pytest.raises(ValidationError, match="wrong passphrase"):
        commission.read_share(res.share_paths[0], "pb")
    key = commission.combine(
        [commission.read_share(res.share_paths[0], "pa"), commission.read_share(res.share_paths[2])]
    )
    assert key is not None


NO_EDIT = [
    "UPDATE criticism SET content = 'softened'",
    "DELETE FROM criticism",
    "UPDATE criticism_status SET reason = 'none'",
    "DELETE FROM criticism_status",
    "DELETE FROM criticism_identity",
    "UPDATE criticism_identity SET watch_tag = NULL",
]


def test_no_edit_or_delete_of_criticisms(org: Engine, settings: Settings) -> None:
    _file(org, settings, identity="someone", person="P-W1")
    for stmt in NO_EDIT:
        with pytest.raises(DBAPIError, match="append-only"), org.begin() as conn:
            conn.execute(text(stmt))
    with session_scope(org) as s:
        assert len(criticism.listing(s)) == 1
        assert criticism.listing(s)[0]["content"] == "The director hides the fuel shortfall."
        assert criticism.history(s, criticism.listing(s)[0]["criticism"])[0].reason == "filed"


def test_decision_target_is_known_from_the_log(org: Engine, settings: Settings) -> None:
    with session_scope(org) as s:
        publiclog.append(s, "decision.proposed", {"proposal": 4, "title": "Split the fund"})
    ref = _file(
        org,
        settings,
        target_kind="decision",
        target="4",
        content="Voting closed before the night shift could vote.",
        today=dt.date(2026, 1, 5),
    )
    with session_scope(org) as s:
        view = criticism.public_view(s, criticism.get(s, ref))
    assert view["target"] == "4" and view["filed_on"] == "2026-01-05"


def test_the_server_never_holds_the_commission_private_key(
    org: Engine, settings: Settings, tmp_path: Path
) -> None:
    """Scan the server's files (store, keys, settings) for the private key in any encoding."""
    import base64

    from cryptography.hazmat.primitives import serialization

    for i in range(3):
        _file(org, settings, identity=f"critic {i}", person="P-W1")
    with session_scope(org) as s:  # the server's work: receipts, listing, verification
        ref = s.scalars(select(Criticism.ref)).first()
        assert ref is not None
        criticism.receipt(s, ref, settings)
        criticism.listing(s)
    shares = [commission.read_share(p) for p in _shares(settings)]
    private = commission.combine(shares[:2]).private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    from Crypto.Protocol.SecretSharing import Shamir

    wrap = Shamir.combine([(s.index, s.share) for s in shares[:2]], ssss=False)
    needles = [
        private,
        private.hex().encode(),
        base64.b64encode(private),
        wrap,
        wrap.hex().encode(),
        *(s.share.hex().encode() for s in shares),
    ]
    server = [p for p in tmp_path.rglob("*") if p.is_file() and "shares" not in p.parts]
    assert tmp_path / "gosplan-test.db" in server and len(server) >= 4  # store, keys, roster
    for p in server:
        data = p.read_bytes()
        for n in needles:
            assert n not in data, f"the commission's secret is in the server's file {p}"
    config = settings.model_dump_json().encode()
    assert not any(n in config for n in needles)
    roster = json.loads(Path(settings.commission_key_path).read_text())
    assert set(roster) == {"format", "public_key", "threshold", "members"}


def test_a_roster_swapped_on_the_server_is_named(
    org: Engine, settings: Settings, tmp_path: Path
) -> None:
    with session_scope(org) as s:
        criticism.register_roster(s, settings)
    honest = _file(org, settings, identity="Petrov, shop 3")
    with session_scope(org) as s:
        assert logstate.verify_public_state(s).ok
    # the operator installs a roster of their own, to open what is sealed from now on
    commission.keygen(
        tmp_path / "operator", ["op1", "op2"], public_path=settings.commission_key_path
    )
    swapped = _file(org, settings, identity="Sidorova, shop 5")
    with session_scope(org) as s:
        check = logstate.verify_public_state(s)
    named = {d.key for d in check.differences}
    assert swapped in named and honest not in named
    assert "roster was swapped" in check.message


def test_an_older_stores_key_is_split_and_its_boxes_open_with_two_shares(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    old = X25519PrivateKey.generate()
    pem = tmp_path / "gosplan-commission.key"
    pem.write_bytes(
        old.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    res = commission.keygen(
        tmp_path / "shares", ["a", "b", "c"], existing=commission.read_private_pem(pem)
    )
    pub = old.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert res.public_key == pub
    box = commission.seal(b'{"identity": "x", "person": null}', pub, b"C-1")
    key = commission.combine([commission.read_share(p) for p in res.share_paths[1:]])
    assert commission.unseal(box, key, b"C-1") == b'{"identity": "x", "person": null}'


def _file_with_receipt(engine: Engine, settings: Settings, **kw: object) -> dict[str, object]:
    """File as the web does: commit, then the receipt (from what the filing signed)."""
    args: dict[str, object] = {"target_kind": "official", "target": "P-DIR", **kw}
    with session_scope(engine) as s:
        row = criticism.file(s, settings=settings, **args)  # type: ignore[arg-type]
        ref, index = row.ref, row.log_index
        s.commit()
        return criticism.receipt(s, ref, settings, log_index=index)


def test_criticisms_filed_at_once_from_threads_keep_log_and_rows_together(
    org: Engine, settings: Settings
) -> None:
    """Filers race for the log (web worker threads; on PostgreSQL each filing's rows and its
    receipt's signed head are written with its entry in one statement): every criticism gets
    its own entry, its rows name that entry, every receipt verifies, the heads are stored in
    the order of their sizes, and the log verifies."""
    receipts: list[dict[str, object]] = []

    def filer(w: int) -> None:
        for i in range(6):
            receipts.append(_file_with_receipt(org, settings, content=f"filer {w} #{i}"))

    in_threads(4, filer)
    refs = [str(r["criticism"]) for r in receipts]
    with session_scope(org) as s:
        rows = s.scalars(select(Criticism)).all()
        assert sorted(c.ref for c in rows) == sorted(refs) and len(rows) == 24
        for c in rows:
            e = publiclog.entry(s, c.log_index)
            assert (e.kind, e.payload["criticism"]) == ("criticism.filed", c.ref)
            (st,) = s.scalars(select(CriticismStatus).where(CriticismStatus.criticism_id == c.id))
            assert (st.status, st.log_index) == ("received", c.log_index)
            assert logstate.check_criticism(s, c.ref) == []
        assert len({c.log_index for c in rows}) == 24
        for rec in receipts:
            check = criticism.verify_receipt(s, json.loads(json.dumps(rec)), settings)
            assert check.ok, check.message
        sizes = [h.tree_size for h in publiclog.signed_heads(s)]
        assert sizes == sorted(sizes) and len(sizes) == len(set(sizes)) == 24
        v = publiclog.verify_store(s)
    assert v.ok, v.message


def test_a_filer_s_receipt_is_signed_with_the_filing_and_read_from_nothing(
    org: Engine, settings: Settings
) -> None:
    """The receipt's head is signed over the log as the filing leaves it and stored with the
    entry: after the commit the receipt costs no statement, and it verifies."""
    from sqlalchemy import event

    seen: list[str] = []
    _file(org, settings)  # a log of more than one entry: the proof has a path

    def saw(conn: object, cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    with session_scope(org) as s:
        row = criticism.file(
            s,
            settings=settings,
            target_kind="official",
            target="P-DIR",
            content="The second complaint.",
        )
        ref, index = row.ref, row.log_index
        s.commit()
        event.listen(org, "before_cursor_execute", saw)
        try:
            rec = criticism.receipt(s, ref, settings, log_index=index)
        finally:
            event.remove(org, "before_cursor_execute", saw)
        assert seen == []
        assert rec["tree_head"]["tree_size"] == index + 1
        stored = publiclog.signed_heads(s)[-1]
        assert stored.to_json() == rec["tree_head"]
        check = criticism.verify_receipt(s, json.loads(json.dumps(rec)), settings)
    assert check.ok, check.message
