"""``gosplan log …``: read, prove, export and verify the public log (thin over the service).

Commands take ``--db URL`` (default ``GOSPLAN_DATABASE_URL``); the store is
migrated to the newest schema first.  The signing key is the file named by
``GOSPLAN_LOG_KEY_PATH``.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session

from gosplan.cli._common import db_option, domain_errors, export_option, public_key_option
from gosplan.cli._params import INPUT_FILE
from gosplan.config import Settings
from gosplan.core import merkle
from gosplan.errors import ValidationError
from gosplan.services import publiclog
from gosplan.services.publiclog import state as logstate
from gosplan.services.publiclog import witnessing
from gosplan.storage.base import open_store, session_scope

F = TypeVar("F", bound=Callable[..., Any])


def settings_for(db: str | None) -> Settings:
    s = Settings()
    return s.model_copy(update={"database_url": db}) if db else s


@contextmanager
def store(db: str | None, *, read_only: bool = False) -> Iterator[tuple[Settings, Session]]:
    """Settings and a session in one transaction on the (migrated) store; a command that
    only reads (``read_only``) never creates or migrates one."""
    settings = settings_for(db)
    engine = open_store(settings.database_url, create=not read_only)
    try:
        with session_scope(engine) as session:
            yield settings, session
    finally:
        engine.dispose()


def read_key(text: str | None) -> bytes | None:
    """A public key given as 64 hex digits or as a file holding them."""
    if not text:
        return None
    raw = text.strip()
    if Path(raw).is_file():
        raw = Path(raw).read_text(encoding="utf-8").strip()
    try:
        key = bytes.fromhex(raw)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ValidationError(f"public key {text!r} is not 64 hex digits (or a file of them).")
    return key


def write_csv(path: str, header: list[str], rows: list[list[Any]]) -> None:
    """Write rows as CSV to ``path`` (``-`` for standard output); text cells that a
    spreadsheet would run as a formula are neutralised (:mod:`gosplan.csvsafe`)."""
    from gosplan.csvsafe import row

    header, rows = row(header), [row(r) for r in rows]
    if path == "-":
        w = csv.writer(sys.stdout)
        w.writerow(header)
        w.writerows(rows)
        return
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    click.echo(f"wrote {len(rows)} rows to {path}")


@click.group("log")
def command() -> None:
    """The public log: every decision and observation, tamper-evident (RFC 9162)."""


@command.command("show")
@click.option("--start", default=0, show_default=True, help="First entry index.")
@click.option("--limit", default=50, show_default=True, help="How many entries.")
@click.option("--kind", default=None, help="Only entries of this kind, or prefix ending in '.'.")
@click.option(
    "--csv",
    "csv_path",
    default=None,
    metavar="PATH",
    help="Write CSV to PATH ('-' for standard output) instead of text.",
)
@db_option
@domain_errors
def show_cmd(
    start: int, limit: int, kind: str | None, csv_path: str | None, db: str | None
) -> None:
    """List entries: index, time, kind, payload."""
    with store(db, read_only=True) as (_, s):
        if kind and kind.endswith("."):
            rows = publiclog.entries(s, start=start, limit=limit, kind_prefix=kind)
        else:
            rows = publiclog.entries(s, start=start, limit=limit, kind=kind)
        n = publiclog.size(s)
    if csv_path:
        write_csv(
            csv_path,
            ["index", "time", "kind", "payload"],
            [[r.index, r.logged_at, r.kind, r.payload_json] for r in rows],
        )
        return
    click.echo(f"public log: {n} entries")
    for r in rows:
        click.echo(f"{r.index:>8}  {r.logged_at}  {r.kind:<28} {r.payload_json}")


@command.command("head")
@click.option("--json", "as_json", is_flag=True, help="Print the signed tree head as JSON.")
@db_option
@domain_errors
def head_cmd(as_json: bool, db: str | None) -> None:
    """Print the log's current tree head (signed once per size, then cosigned by the
    configured witnesses)."""
    with store(db) as (settings, s):
        sth = witnessing.publish_head(s, settings)
    if as_json:
        click.echo(json.dumps(sth.to_json(), indent=2))
        return
    if sth.origin is not None:
        click.echo(sth.signed_note(), nl=False)
        return
    click.echo(
        f"tree size   {sth.tree_size}\nroot hash   {sth.root_hash.hex()}\n"
        f"timestamp   {sth.timestamp} (ms since 1970)\n"
        f"public key  {sth.public_key.hex()} (id {publiclog.key_id(sth.public_key)})\n"
        f"signature   {sth.signature.hex()}"
    )


@command.command("add-cosignature")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@db_option
@domain_errors
def add_cosignature_cmd(path: str, as_json: bool, db: str | None) -> None:
    """Keep a registered witness's cosignature delivered as a signed checkpoint note (PATH, or
    - for standard input); the same checks as POST /log/cosignatures."""
    from gosplan.services.publiclog import submissions

    text = (
        sys.stdin.read()
        if path == "-"
        else Path(path).read_text(encoding="utf-8", errors="replace")
    )
    with store(db) as (settings, s):
        result = submissions.submit_cosignature(s, text, settings)
        if not result.success:
            s.rollback()
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        click.echo(result.message, err=not result.success)
    if not result.success:
        raise SystemExit(1)


@command.command("key")
@click.option(
    "--vkey",
    is_flag=True,
    help="Print the C2SP verifier key (<origin>+<id>+<key>) that witnesses pin.",
)
@db_option
@domain_errors
def key_cmd(vkey: bool, db: str | None) -> None:
    """Print the public key that verifies this log's tree heads (pin it when verifying)."""
    settings = settings_for(db)
    if vkey:
        from gosplan.core import note

        click.echo(
            str(note.Verifier.of(publiclog.log_origin(settings), publiclog.public_key(settings)))
        )
        return
    click.echo(publiclog.public_key(settings).hex())


@command.command("proof")
@click.argument("index", type=int)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the proof to a file instead of printing it.",
)
@db_option
@domain_errors
def proof_cmd(index: int, out: Path | None, db: str | None) -> None:
    """Inclusion proof of entry INDEX in a freshly signed tree head (JSON, like a receipt)."""
    with store(db, read_only=True) as (settings, s):
        data = publiclog.receipt(s, index, settings)
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"proof of entry {index} written to {out}")
    else:
        click.echo(text)


@command.command("verify-proof")
@click.argument("path", type=INPUT_FILE)
@public_key_option(
    "The log's public key (default: the key named in the proof, which shows "
    "integrity but not who signed)."
)
@domain_errors
def verify_proof_cmd(path: Path, public_key: str | None) -> None:
    """Check a proof file on its own, without the store: an inclusion proof or receipt
    (from 'gosplan log proof' or 'gosplan criticism file') or a consistency proof (from
    'gosplan log consistency')."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValidationError(f"proof {path} is not JSON: {exc.msg}") from exc
    key = read_key(public_key)
    if "consistency_proof" in data:
        try:
            ok = merkle.verify_consistency(
                int(data["first"]),
                int(data["second"]),
                bytes.fromhex(data["first_root"]),
                bytes.fromhex(data["second_root"]),
                [bytes.fromhex(p) for p in data["consistency_proof"]],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"consistency proof {path} is malformed: {exc}") from exc
        if not ok:
            raise click.ClickException(
                f"{path}: the tree of {data['first']} entries is NOT a prefix of the tree of "
                f"{data['second']}"
            )
        click.echo(
            f"{path}: the tree of {data['first']} entries (root {data['first_root']}) "
            f"is a prefix of the tree of {data['second']} (root {data['second_root']})"
        )
        return
    # with witnesses configured (GOSPLAN_WITNESSES), the head needs k of their cosignatures
    result = publiclog.verify_receipt(
        data, trusted_key=key, witnesses=witnessing.policy(Settings())
    )
    if not result.ok:
        raise click.ClickException(f"{path}: NOT verified: {result.message}")
    click.echo(
        f"{path}: entry {data['entry']['index']} ({data['entry']['kind']}) is in the "
        f"signed tree of {result.tree_size} entries, root {result.root_hash.hex()}"
        + ("" if key else " (key not pinned: pass --public-key)")
    )


@command.command("consistency")
@click.argument("first", type=int)
@click.argument("second", type=int, required=False)
@db_option
@domain_errors
def consistency_cmd(first: int, second: int | None, db: str | None) -> None:
    """Consistency proof from tree size FIRST to SECOND (default: the whole log), JSON."""
    with store(db, read_only=True) as (_, s):
        b = publiclog.tree_head(s, second)
        a = publiclog.tree_head(s, first)
        proof = publiclog.consistency_proof(s, first, b.tree_size)
    click.echo(
        json.dumps(
            {
                "first": first,
                "second": b.tree_size,
                "first_root": a.root_hash.hex(),
                "second_root": b.root_hash.hex(),
                "consistency_proof": [p.hex() for p in proof],
            },
            indent=2,
        )
    )


@command.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@db_option
@domain_errors
def export_cmd(path: Path, db: str | None) -> None:
    """Write the whole log with its signed tree heads to PATH (JSON Lines)."""
    with store(db, read_only=True) as (settings, s):
        head = publiclog.export(s, path, settings)
    click.echo(
        f"exported {head.tree_size} entries to {path}; root {head.root_hash.hex()}, "
        f"key {head.public_key.hex()}"
    )


@command.command("verify")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
@public_key_option(
    "Pin the log's public key (default: this installation's key for the "
    "store; the export's own key for a file)."
)
@click.option(
    "--head",
    "heads",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="A signed tree head (JSON) or receipt kept earlier; the log must extend it.  Repeatable.",
)
@click.option(
    "--store",
    "check_store",
    is_flag=True,
    help="Check the store (the default without PATH): the log itself, then public "
    "state (criticisms, statuses, openings, proposals, ballots, comments, "
    "tallies, alerts, approved hours, plans, fulfilment reports) recomputed from "
    "the log alone against every table row.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@db_option
@domain_errors
def verify_cmd(
    path: Path | None,
    public_key: str | None,
    heads: tuple[str, ...],
    check_store: bool,
    as_json: bool,
    db: str | None,
) -> None:
    """Check the whole log (the store, or an exported PATH): every entry, hash and head; for
    the store also every public row against the log."""
    known = []
    for h in heads:
        data = json.loads(Path(h).read_text(encoding="utf-8"))
        known.append(publiclog.SignedTreeHead.from_json(data.get("tree_head", data)))
    key = read_key(public_key)
    state: logstate.StateCheck | None = None
    if path is not None and not check_store:
        result = publiclog.verify_export(
            path, trusted_key=key, known_heads=known, witnesses=witnessing.policy(settings_for(db))
        )
        where = str(path)
    else:
        if path is not None:
            raise ValidationError("give either an exported PATH or --store, not both.")
        with store(db, read_only=True) as (settings, s):
            result = publiclog.verify_store(
                s,
                trusted_key=key or publiclog.public_key(settings),
                known_heads=known,
                witnesses=witnessing.policy(settings),
            )
            state = logstate.verify_public_state(s)
        where = "the store"
    ok = result.ok and (state is None or state.ok)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": ok,
                    "where": where,
                    "message": result.message,
                    "tree_size": result.tree_size,
                    "root_hash": result.root_hash.hex(),
                    "heads_checked": result.heads_checked,
                    "problems": result.problems,
                    "log": {
                        "ok": result.ok,
                        "tree_size": result.tree_size,
                        "root_hash": result.root_hash.hex(),
                        "heads_checked": result.heads_checked,
                        "problems": result.problems,
                    },
                    "state": state.to_json() if state is not None else None,
                },
                indent=2,
            )
        )
        if not ok:
            raise SystemExit(1)
        return
    if not result.ok:
        raise click.ClickException(f"{where}: NOT verified: {result.message}")
    if state is not None and not state.ok:
        raise click.ClickException(f"{where}: log verified, but {state.message}")
    click.echo(f"{where}: {result.message}" + (f"; {state.message}" if state else ""))


@command.command("tally")
@click.argument("proposal", type=int)
@export_option("Recompute from an exported log (verified first) instead of the store.")
@click.option("--json", "as_json", is_flag=True, help="Print the tally as JSON.")
@db_option
@domain_errors
def tally_cmd(proposal: int, export_path: Path | None, as_json: bool, db: str | None) -> None:
    """Recompute a proposal's tally from the logged ballots alone (anyone can)."""
    from gosplan.services import decisions

    if export_path is not None:
        check = publiclog.verify_export(export_path)
        if not check.ok:
            raise click.ClickException(f"{export_path}: NOT verified: {check.message}")
        entries = publiclog.read_export(export_path).entries
    else:
        with store(db) as (_, s):
            entries = [e.to_public() for e in publiclog.entries(s, kind_prefix="decision.")]
    t = decisions.recompute_from_log(entries, proposal)
    logged = [
        e["payload"]
        for e in entries
        if e.get("kind") == "decision.closed" and e["payload"].get("proposal") == proposal
    ]
    agrees = (
        None
        if not logged
        else (logged[0].get("winner"), logged[0].get("scores")) == (t.winner, t.scores)
    )
    if as_json:
        click.echo(json.dumps({**t.to_dict(), "logged_outcome_agrees": agrees}, indent=2))
        return
    click.echo(
        f"proposal {proposal}: {t.ballots} logged ballots, scores {t.scores}, winner "
        f"{t.options[t.winner] if t.winner is not None else '(none)'}"
        + (
            ""
            if agrees is None
            else "; the logged outcome " + ("agrees" if agrees else "DISAGREES")
        )
    )
