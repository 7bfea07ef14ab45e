"""Findings and workforce declarations are signed by who acts, never a typed name.

A commission member signs with the key in their own share file; the log keeps the
signature, and only a signature that verifies against that member's key in the
commission roster is logged.  Nobody can record a finding in another's name, nor rule
on (or declare the workforce of) their own organisation.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from gosplan.cli import main
from gosplan.config import Settings
from gosplan.errors import ValidationError
from gosplan.services import appointments as appt
from gosplan.services import commission, criticism, escalation, integrity, publiclog
from gosplan.storage.base import session_scope

DAY = dt.date(2025, 3, 1)
TODAY = dt.date(2025, 3, 2)


@pytest.fixture
def roster(tmp_path: Path, settings: Settings) -> tuple[Settings, Path]:
    """A commission of cm1, cm2 and h1 (who heads E1); settings pointing at its roster,
    which is logged; the folder of share files."""
    shares = tmp_path / "cc-shares"
    commission.keygen(shares, ["cm1", "cm2", "h1"], threshold=2, public_path=tmp_path / "cc.pub")
    return settings.model_copy(update={"commission_key_path": str(tmp_path / "cc.pub")}), shares


def _share(folder: Path, member: str) -> commission.Share:
    (path,) = folder.glob(f"share-*-{member}.json")
    return commission.read_share(path)


def _world(engine: Engine, settings: Settings) -> int:
    """E1 headed by h1 since 2025-01-01; an alert about E1; the roster logged."""
    with session_scope(engine) as s:
        appt.add_unit(s, "E1", "kiln cooperative")
        appt.add_position(s, "E1-head", "head", "E1")
        for pid in ("h1", "cm1", "cm2", "x1"):
            appt.add_person(s, pid, pid)
        appt.appoint(s, position="E1-head", appointee="h1", appointer="x1", day=dt.date(2025, 1, 1))
        escalation.open_alert(
            s,
            area="fulfilment",
            subject="enterprise E1",
            reason="inputs above norm",
            context={"unit": "E1", "sector": "S"},
            now=dt.datetime(2025, 2, 1),
        )
        criticism.register_roster(s, settings)
        return publiclog.entries(s, kind="fulfilment.alert.opened")[-1].index


def _finding(share: commission.Share, evidence: int, **kw: object) -> dict[str, object]:
    args: dict[str, object] = dict(
        unit="E1", kind="infringement", outcome="upheld", reason="stock count", day=DAY
    )
    args.update(kw)
    return integrity.sign_finding(share, evidence=[evidence], **args)  # type: ignore[arg-type]


def test_a_signed_finding_is_logged_with_its_signature(
    engine: Engine, roster: tuple[Settings, Path]
) -> None:
    conf, shares = roster
    opened = _world(engine, conf)
    record = _finding(_share(shares, "cm1"), opened)
    with session_scope(engine) as s:
        idx = integrity.record_signed(s, record, conf, today=TODAY)
    with session_scope(engine) as s:
        p = publiclog.entry(s, idx).payload
    assert p["by"] == "cm1" and p["outcome"] == "upheld"
    assert p["signed"] == record  # the whole signed record, signature included
    # anyone checks it against the logged roster
    with session_scope(engine) as s:
        assert integrity.signed_by(s, {**record}, conf) == "cm1"


def test_nobody_acts_in_anothers_name_or_on_their_own_organisation(
    engine: Engine, roster: tuple[Settings, Path], tmp_path: Path
) -> None:
    conf, shares = roster
    opened = _world(engine, conf)
    cm1, cm2, h1 = (_share(shares, m) for m in ("cm1", "cm2", "h1"))
    outsider_dir = tmp_path / "other-commission"
    commission.keygen(outsider_dir, ["cm1", "zz"], threshold=2)
    forged_cm1 = _share(outsider_dir, "cm1")  # a key that calls itself cm1
    by_cm2 = _finding(cm2, opened)
    altered = {**_finding(cm1, opened), "outcome": "dismissed"}
    cases = [
        ({**by_cm2, "by": "cm1"}, "signed with another key than 'cm1'"),
        (altered, "signature of 'cm1' does not verify"),
        (_finding(forged_cm1, opened), "signed with another key than 'cm1'"),
        ({**by_cm2, "by": "x1"}, "'x1' is not a member of the commission roster"),
        (_finding(h1, opened), "'h1' holds position 'E1-head' in 'E1'"),
        # backdating the ruling to before h1 headed E1 does not help: today counts too
        (_finding(h1, opened, day=dt.date(2024, 6, 1)), "holds position 'E1-head'"),
        (
            integrity.sign_workforce(h1, unit="E1", period="2025-Q1", worker_years=10.0, day=DAY),
            "workforce: 'h1' holds position 'E1-head'",
        ),
        ({**by_cm2, "format": "something"}, "format must be"),
        ({**by_cm2, "note": "rides along unsigned"}, r"unexpected field\(s\) \['note'\]"),
    ]
    for record, message in cases:
        with session_scope(engine) as s:
            before = publiclog.size(s)
            with pytest.raises(ValidationError, match=message):
                integrity.record_signed(s, record, conf, today=TODAY)
        with session_scope(engine) as s:
            assert publiclog.size(s) == before, message
    with session_scope(engine) as s:  # cm2's own record is fine
        integrity.record_signed(s, by_cm2, conf, today=TODAY)
        wf = integrity.sign_workforce(cm1, unit="E1", period="2025-Q1", worker_years=12.5, day=DAY)
        idx = integrity.record_signed(s, wf, conf, today=TODAY)
        assert publiclog.entry(s, idx).payload["by"] == "cm1"


def test_cli_signs_with_the_members_key_and_has_no_typed_name(
    engine: Engine, roster: tuple[Settings, Path], tmp_path: Path
) -> None:
    conf, shares = roster
    opened = _world(engine, conf)
    env = {
        "GOSPLAN_DATABASE_URL": conf.database_url,
        "GOSPLAN_LOG_KEY_PATH": conf.log_key_path,
        "GOSPLAN_COMMISSION_KEY_PATH": conf.commission_key_path,
    }
    run = CliRunner()
    base = ["integrity", "finding", "E1", "--kind", "infringement", "--outcome", "upheld"]
    base += ["--evidence", str(opened), "--reason", "recount"]
    (cm1,) = shares.glob("share-*-cm1.json")
    (h1,) = shares.glob("share-*-h1.json")
    r = run.invoke(main, [*base, "--by", "cm1"], env=env)
    assert r.exit_code == 2 and "--by" in r.output  # the option is gone: no typed names
    r = run.invoke(main, [*base, "--key", str(h1)], env=env)
    assert r.exit_code != 0 and "own organisation" in r.output
    # offline: sign to a file; on the server: log it
    out = tmp_path / "finding.json"
    r = run.invoke(main, [*base, "--key", str(cm1), "--out", str(out)], env=env)
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text())["by"] == "cm1"
    with session_scope(engine) as s:
        size = publiclog.size(s)
    r = run.invoke(main, ["integrity", "record", str(out)], env=env)
    assert r.exit_code == 0, r.output
    r = run.invoke(
        main, ["integrity", "workforce", "E1", "2025-Q1", "40", "--key", str(cm1)], env=env
    )
    assert r.exit_code == 0, r.output
    with session_scope(engine) as s:
        kinds = [e.kind for e in publiclog.entries(s, start=size)]
        assert kinds == ["integrity.finding", "unit.workforce"]


def test_log_verify_names_rulings_not_signed_by_their_member(
    engine: Engine, roster: tuple[Settings, Path]
) -> None:
    """The server calls the service below the faces and logs a finding in cm1's name
    without cm1's key; ``log verify --store`` names it, and passes the signed ones."""
    from gosplan.services.publiclog import state

    conf, shares = roster
    opened = _world(engine, conf)
    with session_scope(engine) as s:
        good = integrity.record_signed(
            s, _finding(_share(shares, "cm1"), opened), conf, today=TODAY
        )
        assert state.verify_public_state(s).differences == []
        forged = integrity.record_finding(
            s,
            unit="E1",
            kind="infringement",
            outcome="upheld",
            evidence=[opened],
            by="cm1",
            reason="typed in",
            day=DAY,
        )
        # a signed record of cm2 logged with another outcome than cm2 signed
        rec = _finding(_share(shares, "cm2"), opened, outcome="dismissed")
        altered = integrity.record_finding(
            s,
            unit="E1",
            kind="infringement",
            outcome="upheld",
            evidence=[opened],
            by="cm2",
            reason="stock count",
            day=DAY,
            signed=rec,
        )
        diffs = state.verify_public_state(s).differences
    named = {(d.table, d.key): d.problem for d in diffs}
    assert set(named) == {("publiclog_entry", str(forged)), ("publiclog_entry", str(altered))}
    assert "carries no signature" in named[("publiclog_entry", str(forged))]
    assert "differ from the record" in named[("publiclog_entry", str(altered))]
    assert ("publiclog_entry", str(good)) not in named
