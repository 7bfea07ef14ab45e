"""Issue 7 end to end through the CLI on a temporary SQLite file.

A criticism is filed, its receipt verified, its status moved with reasons, a
retaliatory demotion flagged and a rigged appointment caught — all visible in
the verified public log.  The same run plants a unique identity and scans
everything produced for it.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gosplan.cli import main
from gosplan.config import Settings
from gosplan.services import criticism, publiclog
from gosplan.storage.base import make_engine, session_scope


class Cli:
    """Runs ``gosplan`` commands against one store and remembers everything printed."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.env = {
            "GOSPLAN_DATABASE_URL": f"sqlite:///{tmp / 'store.db'}",
            "GOSPLAN_LOG_KEY_PATH": str(tmp / "log.key"),
            "GOSPLAN_COMMISSION_KEY_PATH": str(tmp / "commission.pub"),
            "GOSPLAN_WATCH_KEY_PATH": str(tmp / "watch.key"),
        }
        self.runner = CliRunner()
        self.outputs: list[str] = []

    def __call__(self, *args: str, ok: bool = True) -> Result:
        result = self.runner.invoke(main, list(args), env=self.env, catch_exceptions=False)
        self.outputs.append(result.output)
        if ok:
            assert result.exit_code == 0, (args, result.output)
        else:
            assert result.exit_code != 0, (args, result.output)
        return result

    @property
    def settings(self) -> Settings:
        return Settings(
            database_url=self.env["GOSPLAN_DATABASE_URL"],
            log_key_path=self.env["GOSPLAN_LOG_KEY_PATH"],
            commission_key_path=self.env["GOSPLAN_COMMISSION_KEY_PATH"],
        )


def _organisation(cli: Cli) -> None:
    cli("appointments", "add-unit", "M", "Ministry of machine building", "--kind", "organisation")
    cli("appointments", "add-unit", "E1", "Tractor works")
    for pid, name in [
        ("MIN", "Minister Orlova"),
        ("DIR", "Director Ivanova"),
        ("HEAD", "Shop head Sidorov"),
        ("W1", "Fitter Petrov"),
        ("SISTER", "Sister Ivanova"),
        ("NEPHEW", "Nephew Ivanov"),
    ]:
        cli("appointments", "add-person", pid, name)
    cli("appointments", "add-position", "min", "Minister", "--unit", "M")
    cli("appointments", "add-position", "dir", "Director", "--unit", "E1", "--reports-to", "min")
    cli("appointments", "add-position", "head", "Shop head", "--unit", "E1", "--reports-to", "dir")
    cli("appointments", "add-position", "w1", "Fitter", "--unit", "E1", "--reports-to", "head")
    cli(
        "appointments",
        "add-position",
        "deputy",
        "Deputy director",
        "--unit",
        "E1",
        "--reports-to",
        "dir",
    )
    for pos, who, by in [("dir", "DIR", "MIN"), ("head", "HEAD", "DIR"), ("w1", "W1", "HEAD")]:
        cli("appointments", "appoint", pos, who, "--by", by, "--day", "2025-01-01")


def test_issue_7_done_when(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    marker = f"MARKER-{uuid.uuid4().hex}"  # the critic's identity: must never come out
    cli = Cli(tmp_path)
    offline = tmp_path.parent / f"{tmp_path.name}-offline"  # the members' machines
    cli(
        "criticism",
        "keygen",
        "--out",
        str(offline),
        "--member",
        "Orlova",
        "--member",
        "Ivanov",
        "--member",
        "Petrova",
        "--public",
        str(tmp_path / "commission.pub"),
    )
    _organisation(cli)

    # bad filings: clear errors, nothing written, and the identity is not echoed
    cli("criticism", "file", "--target", "HEAD", "--content", "  ", "--identity", marker, ok=False)
    cli("criticism", "file", "--target", "NOBODY", "--content", "x", "--identity", marker, ok=False)
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (criticism.MAX_ATTACHMENT_BYTES + 1))
    cli(
        "criticism",
        "file",
        "--target",
        "HEAD",
        "--content",
        "x",
        "--attachment",
        str(big),
        "--identity",
        marker,
        ok=False,
    )
    assert "needs content" in cli.outputs[-3] and "unknown" in cli.outputs[-2]
    assert "at most" in cli.outputs[-1]

    # 1. file from the CLI, keep the receipt
    receipt = tmp_path / "my-receipt.json"
    out = cli(
        "criticism",
        "file",
        "--target",
        "HEAD",
        "--content",
        "The shop head books overtime that nobody worked.",
        "--identity",
        marker,
        "--person",
        "W1",
        "--receipt",
        str(receipt),
        "--day",
        "2026-02-01",
    ).output
    ref = re.search(r"criticism (C-[0-9A-F]+) filed", out)
    assert ref is not None, out
    ref_id = ref.group(1)
    assert receipt.exists()

    # 2. the receipt verifies
    assert "verifies" in cli("criticism", "verify-receipt", str(receipt)).output

    # 3. status moves only with reasons
    cli("criticism", "status", ref_id, "under_investigation", "--by", "commission", ok=False)
    assert "needs a stated reason" in cli.outputs[-1]
    cli(
        "criticism",
        "status",
        ref_id,
        "under_investigation",
        "--reason",
        "timesheets requested from the shop",
        "--by",
        "control commission",
    )
    cli(
        "criticism",
        "status",
        ref_id,
        "upheld",
        "--reason",
        "timesheets show 140 hours never worked",
        "--by",
        "control commission",
    )
    hist = cli("criticism", "status", ref_id).output
    assert "upheld" in hist and "timesheets show 140 hours never worked" in hist

    # 4. the critic is demoted by the man they criticised: flagged
    out = cli(
        "appointments",
        "event",
        "W1",
        "--kind",
        "demotion",
        "--actor",
        "HEAD",
        "--day",
        "2026-03-01",
    ).output
    assert "FLAGGED as possible retaliation" in out
    out = cli("appointments", "alerts", "--escalate", "2026-03-20").output
    assert "1 alerts climbed" in out and "level 2" in out

    # 5. a rigged appointment: the director's nephew, through the director's sister
    cli("appointments", "add-tie", "DIR", "SISTER", "--kind", "family")
    cli(
        "appointments",
        "add-tie",
        "SISTER",
        "NEPHEW",
        "--kind",
        "family",
        "--source",
        "found",
        "--note",
        "birth register",
    )
    out = cli(
        "appointments",
        "appoint",
        "deputy",
        "NEPHEW",
        "--by",
        "DIR",
        "--panel",
        "HEAD",
        "--day",
        "2026-04-01",
    ).output
    assert "FLAGGED" in out and "appointer DIR is 2 ties" in out
    assert "NEPHEW → SISTER [family (found)] → DIR [family (declared)]" in out
    report = tmp_path / "flagged.csv"
    cli("appointments", "check", "--csv", str(report))
    assert "NEPHEW,deputy,appointer,DIR,2.0" in report.read_text()

    # all of it is in the public log, which verifies, and the receipt still holds
    shown = cli("log", "show", "--limit", "1000").output
    for kind in (
        "criticism.filed",
        "criticism.status",
        "personnel.event",
        "control.alert.opened",
        "control.alert.escalated",
        "appointment.made",
    ):
        assert kind in shown, kind
    exported = tmp_path / "log.jsonl"
    cli("log", "export", str(exported))
    key = cli("log", "key").output.strip()
    assert (
        "verified"
        in cli("log", "verify", str(exported), "--public-key", key, "--head", str(receipt)).output
    )
    assert "verified" in cli("log", "verify").output
    assert "still contains it unchanged" in cli("criticism", "verify-receipt", str(receipt)).output
    assert (
        "verifies"
        in cli(
            "criticism",
            "verify-receipt",
            str(receipt),
            "--export",
            str(exported),
            "--public-key",
            key,
        ).output
    )
    entries = publiclog.read_export(exported).entries
    made = [
        e
        for e in entries
        if e["kind"] == "appointment.made" and e["payload"]["appointee"] == "NEPHEW"
    ]
    assert made and made[0]["payload"]["flagged"] is True
    statuses = [e["payload"]["to"] for e in entries if e["kind"] == "criticism.status"]
    assert statuses == ["under_investigation", "upheld"]

    # other public outputs: listings, JSON views, CSV, proofs
    cli("criticism", "show")
    cli("criticism", "show", ref_id)
    listing = tmp_path / "criticisms.csv"
    cli("criticism", "show", "--csv", str(listing))
    index = json.loads(receipt.read_text())["entry"]["index"]
    proof = tmp_path / "proof.json"
    cli("log", "proof", str(index), "--out", str(proof))
    assert (
        "is in the signed tree"
        in cli("log", "verify-proof", str(proof), "--public-key", key).output
    )
    forged = json.loads(proof.read_text())
    forged["entry"]["payload"]["content"] = "Everything is fine."
    proof.write_text(json.dumps(forged))
    assert "NOT verified" in cli("log", "verify-proof", str(proof), ok=False).output
    consistency = tmp_path / "consistency.json"
    consistency.write_text(cli("log", "consistency", "5").output)
    assert "is a prefix" in cli("log", "verify-proof", str(consistency)).output
    assert "unchanged" in cli("criticism", "verify-receipt", str(receipt), "--full").output
    cli("log", "head", "--json")
    cli("appointments", "alerts")
    cli("appointments", "cliques", "--publish")
    cli("criticism", "status", "C-NOPE", "rejected", "--reason", "r", "--by", "b", ok=False)

    # service return values seen by other faces
    engine = make_engine(cli.env["GOSPLAN_DATABASE_URL"])
    with session_scope(engine) as s:
        values = json.dumps(
            [
                criticism.listing(s),
                criticism.public_view(s, criticism.get(s, ref_id)),
                criticism.receipt(s, ref_id, cli.settings),
            ],
            default=str,
        )
    engine.dispose()

    # the marker never appears in anything produced (the sealed box is encrypted)
    produced = {
        "cli output": "\n".join(cli.outputs),
        "receipt": receipt.read_text(),
        "export": exported.read_text(),
        "csv": listing.read_text() + report.read_text(),
        "service values": values,
        "log records": "\n".join(r.getMessage() for r in caplog.records),
        "database": "".join(p.read_bytes().decode("latin-1") for p in tmp_path.glob("store.db*")),
    }
    for where, text in produced.items():
        assert marker not in text, f"critic's identity leaked into {where}"
    assert ref_id in produced["export"] and "overtime" in produced["database"]

    # the server cannot open it; two members' shares, offline, can, and the signed
    # opening record is public once logged
    box = tmp_path.parent / f"{tmp_path.name}-box.json"
    record = offline / "opening.json"
    cli("criticism", "export-sealed", ref_id, "--out", str(box))
    shares = sorted(str(p) for p in offline.glob("share-*.json"))
    out = cli(
        "criticism",
        "open",
        str(box),
        "--share",
        shares[0],
        "--reason",
        "hearing on alert 1",
        "--record",
        str(record),
        ok=False,
    ).output
    assert marker not in out
    out = cli(
        "criticism",
        "open",
        str(box),
        "--share",
        shares[0],
        "--share",
        shares[2],
        "--reason",
        "hearing on alert 1",
        "--record",
        str(record),
        "--json",
    ).output
    assert json.loads(out)["identity"]["identity"] == marker
    cli("criticism", "record-opening", str(record))
    assert (
        "criticism.identity_opened"
        in cli("log", "show", "--kind", "criticism.identity_opened").output
    )
