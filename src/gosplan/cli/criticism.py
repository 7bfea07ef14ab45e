"""``gosplan criticism …``: file a criticism, keep its receipt, follow and verify it.

The identity a filer gives is sealed to the commission's public key and never
printed by the server; ``open`` runs offline with k members' share files and
writes a signed opening record that ``record-opening`` logs.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from gosplan.cli._common import (
    db_option,
    domain_errors,
    echo_json,
    export_option,
    json_option,
    public_key_option,
)
from gosplan.cli._params import INPUT_FILE, OutputPath, check_writable_dir
from gosplan.cli.log import read_key, store, write_csv
from gosplan.errors import ValidationError
from gosplan.services import commission, criticism


@click.group("criticism")
def command() -> None:
    """Criticism from below: public content, sealed identity, receipts, reasoned statuses."""


@command.command("file")
@click.option(
    "--target-kind",
    type=click.Choice(criticism.TARGET_KINDS),
    default="official",
    show_default=True,
    help="What is criticised.",
)
@click.option("--target", required=True, help="Id of the official, enterprise or decision.")
@click.option("--content", default=None, help="What is wrong (or use --content-file).")
@click.option(
    "--content-file",
    type=INPUT_FILE,
    default=None,
    help="Read the content from a UTF-8 text file.",
)
@click.option(
    "--attachment",
    type=INPUT_FILE,
    default=None,
    help=f"A file to attach (at most {criticism.MAX_ATTACHMENT_BYTES // 1024 // 1024} MiB).",
)
@click.option(
    "--identity",
    default=None,
    help="Who you are (optional); sealed to the control commission, never shown.",
)
@click.option(
    "--person",
    default=None,
    help="Your person id (optional), so the retaliation watch can protect you; "
    "kept only as a keyed hash and sealed.",
)
@click.option(
    "--receipt",
    "receipt_path",
    type=OutputPath(allow_dash=False),
    default=None,
    help="Where to write the receipt (default: receipt-<ref>.json); checked "
    "writable before the criticism is filed.",
)
@click.option(
    "--day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Filing date (default: today, UTC).",
)
@db_option
@domain_errors
def file_cmd(
    target_kind: str,
    target: str,
    content: str | None,
    content_file: Path | None,
    attachment: Path | None,
    identity: str | None,
    person: str | None,
    receipt_path: str | None,
    day: dt.datetime | None,
    db: str | None,
) -> None:
    """File a criticism and save its receipt."""
    if receipt_path is None:
        why = check_writable_dir(".")
        if why:
            raise click.BadParameter(
                f"the receipt cannot be saved here: {why}; give --receipt PATH.",
                param_hint="--receipt",
            )
    if content_file is not None:
        if content:
            raise ValidationError(
                "give the content either with --content or with --content-file, not both."
            )
        content = content_file.read_text(encoding="utf-8")
    data = attachment.read_bytes() if attachment is not None else None
    with store(db) as (settings, s):
        row = criticism.file(
            s,
            target_kind=target_kind,
            target=target,
            content=content or "",
            identity=identity,
            person=person,
            attachment=data,
            attachment_name=attachment.name if attachment else None,
            settings=settings,
            today=day.date() if day else None,
        )
        ref, index = row.ref, row.log_index
    with store(db) as (settings, s):  # the receipt signs committed data only
        rec = criticism.receipt(s, ref, settings)
    out = Path(receipt_path) if receipt_path else Path(f"receipt-{ref}.json")
    try:
        out.write_text(json.dumps(rec, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:  # filed all the same: the filer must still learn the reference
        raise click.ClickException(
            f"criticism {ref} was filed (public-log entry {index}) but its receipt could not "
            f"be saved to {out}: {exc.strerror or exc}. Keep the reference {ref}."
        ) from exc
    click.echo(
        f"criticism {ref} filed against {target_kind} {target}: public-log entry "
        f"{index}, in the signed tree of {rec['tree_head']['tree_size']} entries."
    )
    click.echo(
        f"receipt saved to {out}; keep it: `gosplan criticism verify-receipt {out}` "
        "proves at any time that your criticism is on record, unchanged."
    )


@command.command("status")
@click.argument("ref")
@click.argument(
    "new_status",
    required=False,
    type=click.Choice([s for s in criticism.STATUSES if s != "received"]),
)
@click.option("--reason", default=None, help="Why (required to change the status).")
@click.option("--by", "by", default=None, help="Who decides (required to change the status).")
@db_option
@domain_errors
def status_cmd(
    ref: str, new_status: str | None, reason: str | None, by: str | None, db: str | None
) -> None:
    """Show the status history of REF, or move it to NEW_STATUS with a stated --reason."""
    with store(db, read_only=True) as (_, s):
        if new_status is not None:
            row = criticism.change_status(s, ref, new_status, reason=reason or "", by=by or "")
            click.echo(
                f"criticism {ref} is now {row.status} (public-log entry "
                f"{row.log_index}): {row.reason}"
            )
            return
        for h in criticism.history(s, ref):
            click.echo(f"{h.at}  {h.status:<20} by {h.by}: {h.reason}  [log {h.log_index}]")


@command.command("show")
@click.argument("ref", required=False)
@click.option("--target", default=None, help="Only criticisms of this target.")
@click.option(
    "--status",
    default=None,
    type=click.Choice(criticism.STATUSES),
    help="Only criticisms in this status.",
)
@click.option(
    "--csv",
    "csv_path",
    default=None,
    metavar="PATH",
    help="Write CSV to PATH ('-' for standard output).",
)
@json_option
@db_option
@domain_errors
def show_cmd(
    ref: str | None,
    target: str | None,
    status: str | None,
    csv_path: str | None,
    db: str | None,
    as_json: bool = False,
) -> None:
    """Show one criticism (as JSON), or list them (content and status; never who filed)."""
    with store(db, read_only=True) as (_, s):
        if ref is not None:
            click.echo(
                json.dumps(
                    criticism.public_view(s, criticism.get(s, ref)), indent=2, ensure_ascii=False
                )
            )
            return
        views = criticism.listing(s, target=target, status=status)
    if as_json:
        echo_json({"criticisms": views, "count": len(views)})
        return
    if csv_path:
        write_csv(
            csv_path,
            ["criticism", "filed_on", "target_kind", "target", "status", "content", "log_index"],
            [
                [
                    v["criticism"],
                    v["filed_on"],
                    v["target_kind"],
                    v["target"],
                    v["status"],
                    v["content"],
                    v["log_index"],
                ]
                for v in views
            ],
        )
        return
    for v in views:
        click.echo(
            f"{v['criticism']}  {v['filed_on']}  {v['target_kind']} {v['target']}  "
            f"[{v['status']}]  {v['content']}"
        )
    click.echo(f"{len(views)} criticism{'' if len(views) == 1 else 's'}")


@command.command("verify-receipt")
@click.argument("path", type=INPUT_FILE)
@export_option("Check against an exported log instead of the store.")
@public_key_option(
    "The log's public key (required trust anchor with --export; default: the "
    "key of the export's header)."
)
@click.option(
    "--full", is_flag=True, help="Also recompute the whole stored log from its entries (slower)."
)
@db_option
@domain_errors
def verify_receipt_cmd(
    path: Path, export_path: Path | None, public_key: str | None, full: bool, db: str | None
) -> None:
    """Check a receipt: signature, inclusion, and that today's log still holds it unchanged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValidationError(f"receipt {path} is not JSON: {exc.msg}") from exc
    if export_path is not None:
        from gosplan.cli.log import settings_for
        from gosplan.services.publiclog import witnessing

        result = criticism.verify_receipt_with_export(
            data,
            export_path,
            trusted_key=read_key(public_key),
            witnesses=witnessing.policy(settings_for(db)),
        )
    else:
        with store(db, read_only=True) as (settings, s):
            result = criticism.verify_receipt(s, data, settings, full=full)
    if not result.ok:
        raise click.ClickException(result.message)
    click.echo(result.message)


def _passphrase(file: Path | None) -> str | None:
    if file is None:
        return None
    return file.read_text(encoding="utf-8").rstrip("\n")


@command.command("keygen")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the share files (run offline; hand each file to its member).",
)
@click.option(
    "--member",
    "members",
    multiple=True,
    required=True,
    help="A commission member's name; one share each (repeat, at least 2).",
)
@click.option(
    "--threshold",
    "-k",
    default=2,
    show_default=True,
    help="How many members' shares open an identity.",
)
@click.option(
    "--public",
    "public_path",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the public roster for the server (default: OUT/commission.pub).",
)
@click.option(
    "--passphrase-file",
    "passphrase_files",
    multiple=True,
    type=INPUT_FILE,
    help="One file per member, in --member order, holding that member's passphrase.",
)
@click.option(
    "--from-key",
    "from_key",
    default=None,
    type=INPUT_FILE,
    help="Split an older store's commission private key (PEM) instead of making a "
    "new one, so identities sealed to it stay openable; destroy it afterwards.",
)
@domain_errors
def keygen_cmd(
    out_dir: Path,
    members: tuple[str, ...],
    threshold: int,
    public_path: Path | None,
    passphrase_files: tuple[Path, ...],
    from_key: Path | None,
) -> None:
    """Make the commission's key as k-of-n shares; only the public roster goes to the server."""
    phrases = [_passphrase(f) for f in passphrase_files] if passphrase_files else None
    existing = commission.read_private_pem(from_key) if from_key is not None else None
    res = commission.keygen(
        out_dir,
        list(members),
        threshold=threshold,
        passphrases=phrases,
        public_path=public_path,
        existing=existing,
    )
    for p in res.share_paths:
        click.echo(f"share       {p}")
    click.echo(
        f"public      {res.public_path}  (install on the server as GOSPLAN_COMMISSION_KEY_PATH)"
    )
    click.echo(
        f"{res.threshold} of {len(res.share_paths)} shares open an identity; the "
        "private key was not written anywhere.  On the server, log the roster: "
        "`gosplan criticism register-roster`."
    )


@command.command("register-roster")
@db_option
@domain_errors
def register_roster_cmd(db: str | None) -> None:
    """Log the installed commission roster; identities sealed to any other key are then
    named by 'gosplan log verify --store'."""
    with store(db) as (settings, s):
        idx = criticism.register_roster(s, settings)
    click.echo(f"commission roster logged as public-log entry {idx}")


@command.command("export-sealed")
@click.argument("ref")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the sealed box (to carry to the offline machine).",
)
@db_option
@domain_errors
def export_sealed_cmd(ref: str, out: Path, db: str | None) -> None:
    """Write REF's sealed identity box (ciphertext and its logged digest) to a file."""
    with store(db) as (_, s):
        data = criticism.export_sealed(s, ref)
    out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    click.echo(f"sealed box of {ref} written to {out}")


@command.command("open")
@click.argument("sealed", type=INPUT_FILE)
@click.option(
    "--share",
    "shares",
    multiple=True,
    required=True,
    type=INPUT_FILE,
    help="A member's share file (repeat: k of them).",
)
@click.option(
    "--passphrase-file",
    "passphrase_files",
    multiple=True,
    type=INPUT_FILE,
    help="Passphrase of the share at the same position (for protected shares).",
)
@click.option("--reason", required=True, help="Why (published with the opening).")
@click.option(
    "--record",
    "record_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the signed opening record (to log on the server).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the identity as JSON.")
@domain_errors
def open_cmd(
    sealed: Path,
    shares: tuple[Path, ...],
    passphrase_files: tuple[Path, ...],
    reason: str,
    record_path: Path,
    as_json: bool,
) -> None:
    """OFFLINE, for the commission: open SEALED with k members' shares.

    Writes an opening record signed by every participating member; log it on the
    server with 'gosplan criticism record-opening'.
    """
    phrases = [_passphrase(f) for f in passphrase_files]
    loaded = [
        commission.read_share(p, phrases[i] if i < len(phrases) else None)
        for i, p in enumerate(shares)
    ]
    try:
        box = json.loads(sealed.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValidationError(f"sealed box {sealed} is not JSON: {exc.msg}") from exc
    identity, record = commission.open_sealed(box, loaded, reason=reason)
    record_path.write_text(
        json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    if as_json:
        click.echo(json.dumps({"identity": identity, "record": str(record_path)}))
        return
    click.echo(f"identity: {identity.get('identity') or '(none given)'}")
    click.echo(f"person:   {identity.get('person') or '(none given)'}")
    click.echo(
        f"opening record signed by {', '.join(record['members'])} written to "
        f"{record_path}; log it: `gosplan criticism record-opening {record_path}`"
    )


@command.command("record-opening")
@click.argument("record", type=INPUT_FILE)
@db_option
@domain_errors
def record_opening_cmd(record: Path, db: str | None) -> None:
    """Log an opening record (checked: k members' signatures, the box's digest)."""
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValidationError(f"opening record {record} is not JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise ValidationError(f"opening record {record} is not a JSON object.")
    with store(db) as (settings, s):
        row = criticism.record_opening(s, data, settings)
        ref, idx, who = data["criticism"], row.log_index, row.accessor
    click.echo(f"opening of {ref} by {who} logged as public-log entry {idx}")
