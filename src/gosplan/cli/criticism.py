"""``gosplan criticism …``: file a criticism, keep its receipt, follow and verify it.

The identity a filer gives is sealed and never printed (``reveal-identity``,
for the control commission, is the one exception, and it is logged first).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from gosplan.cli._common import domain_errors, echo_json, json_option
from gosplan.cli._params import OutputPath, check_writable_dir
from gosplan.cli.log import db_option, read_key, store, write_csv
from gosplan.errors import ValidationError
from gosplan.services import criticism


@click.group("criticism")
def command() -> None:
    """Criticism from below: public content, sealed identity, receipts, reasoned statuses."""


@command.command("file")
@click.option("--target-kind", type=click.Choice(criticism.TARGET_KINDS), default="official",
              show_default=True, help="What is criticised.")
@click.option("--target", required=True, help="Id of the official, enterprise or decision.")
@click.option("--content", default=None, help="What is wrong (or use --content-file).")
@click.option("--content-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Read the content from a UTF-8 text file.")
@click.option("--attachment", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help=f"A file to attach (at most "
                                 f"{criticism.MAX_ATTACHMENT_BYTES // 1024 // 1024} MiB).")
@click.option("--identity", default=None,
              help="Who you are (optional); sealed to the control commission, never shown.")
@click.option("--person", default=None,
              help="Your person id (optional), so the retaliation watch can protect you; "
                   "kept only as a keyed hash and sealed.")
@click.option("--receipt", "receipt_path", type=OutputPath(allow_dash=False), default=None,
              help="Where to write the receipt (default: receipt-<ref>.json); checked "
                   "writable before the criticism is filed.")
@click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Filing date (default: today, UTC).")
@db_option
@domain_errors
def file_cmd(target_kind: str, target: str, content: str | None, content_file: Path | None,
             attachment: Path | None, identity: str | None, person: str | None,
             receipt_path: str | None, day: dt.datetime | None, db: str | None) -> None:
    """File a criticism and save its receipt."""
    if receipt_path is None:
        why = check_writable_dir(".")
        if why:
            raise click.BadParameter(f"the receipt cannot be saved here: {why}; give "
                                     f"--receipt PATH.", param_hint="--receipt")
    if content_file is not None:
        if content:
            raise ValidationError("give the content either with --content or with "
                                  "--content-file, not both.")
        content = content_file.read_text(encoding="utf-8")
    data = attachment.read_bytes() if attachment is not None else None
    with store(db) as (settings, s):
        row = criticism.file(s, target_kind=target_kind, target=target, content=content or "",
                             identity=identity, person=person, attachment=data,
                             attachment_name=attachment.name if attachment else None,
                             settings=settings, today=day.date() if day else None)
        ref, index = row.ref, row.log_index
    with store(db) as (settings, s):  # the receipt signs committed data only
        rec = criticism.receipt(s, ref, settings)
    out = Path(receipt_path) if receipt_path else Path(f"receipt-{ref}.json")
    try:
        out.write_text(json.dumps(rec, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:  # filed all the same: the filer must still learn the reference
        raise click.ClickException(
            f"criticism {ref} was filed (public-log entry {index}) but its receipt could not "
            f"be saved to {out}: {exc.strerror or exc}. Keep the reference {ref}.") from exc
    click.echo(f"criticism {ref} filed against {target_kind} {target}: public-log entry "
               f"{index}, in the signed tree of {rec['tree_head']['tree_size']} entries.")
    click.echo(f"receipt saved to {out}; keep it: `gosplan criticism verify-receipt {out}` "
               "proves at any time that your criticism is on record, unchanged.")


@command.command("status")
@click.argument("ref")
@click.argument("new_status", required=False,
                type=click.Choice([s for s in criticism.STATUSES if s != "received"]))
@click.option("--reason", default=None, help="Why (required to change the status).")
@click.option("--by", "by", default=None, help="Who decides (required to change the status).")
@db_option
@domain_errors
def status_cmd(ref: str, new_status: str | None, reason: str | None, by: str | None,
               db: str | None) -> None:
    """Show the status history of REF, or move it to NEW_STATUS with a stated --reason."""
    with store(db, read_only=True) as (_, s):
        if new_status is not None:
            row = criticism.change_status(s, ref, new_status, reason=reason or "", by=by or "")
            click.echo(f"criticism {ref} is now {row.status} (public-log entry "
                       f"{row.log_index}): {row.reason}")
            return
        for h in criticism.history(s, ref):
            click.echo(f"{h.at}  {h.status:<20} by {h.by}: {h.reason}  [log {h.log_index}]")


@command.command("show")
@click.argument("ref", required=False)
@click.option("--target", default=None, help="Only criticisms of this target.")
@click.option("--status", default=None, type=click.Choice(criticism.STATUSES),
              help="Only criticisms in this status.")
@click.option("--csv", "csv_path", default=None, metavar="PATH",
              help="Write CSV to PATH ('-' for standard output).")
@json_option
@db_option
@domain_errors
def show_cmd(ref: str | None, target: str | None, status: str | None, csv_path: str | None,
             db: str | None, as_json: bool = False) -> None:
    """Show one criticism (as JSON), or list them (content and status; never who filed)."""
    with store(db, read_only=True) as (_, s):
        if ref is not None:
            click.echo(json.dumps(criticism.public_view(s, criticism.get(s, ref)), indent=2,
                                  ensure_ascii=False))
            return
        views = criticism.listing(s, target=target, status=status)
    if as_json:
        echo_json({"criticisms": views, "count": len(views)})
        return
    if csv_path:
        write_csv(csv_path, ["criticism", "filed_on", "target_kind", "target", "status",
                             "content", "log_index"],
                  [[v["criticism"], v["filed_on"], v["target_kind"], v["target"], v["status"],
                    v["content"], v["log_index"]] for v in views])
        return
    for v in views:
        click.echo(f"{v['criticism']}  {v['filed_on']}  {v['target_kind']} {v['target']}  "
                   f"[{v['status']}]  {v['content']}")
    click.echo(f"{len(views)} criticism{'' if len(views) == 1 else 's'}")


@command.command("verify-receipt")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--export", "export_path", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Check against an exported log instead of the store.")
@click.option("--public-key", default=None, metavar="HEX|FILE",
              help="The log's public key (required trust anchor with --export; default: the "
                   "key of the export's header).")
@click.option("--full", is_flag=True,
              help="Also recompute the whole stored log from its entries (slower).")
@db_option
@domain_errors
def verify_receipt_cmd(path: Path, export_path: Path | None, public_key: str | None,
                       full: bool, db: str | None) -> None:
    """Check a receipt: signature, inclusion, and that today's log still holds it unchanged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValidationError(f"receipt {path} is not JSON: {exc.msg}") from exc
    if export_path is not None:
        result = criticism.verify_receipt_with_export(data, export_path,
                                                      trusted_key=read_key(public_key))
    else:
        with store(db, read_only=True) as (settings, s):
            result = criticism.verify_receipt(s, data, settings, full=full)
    if not result.ok:
        raise click.ClickException(result.message)
    click.echo(result.message)


@command.command("reveal-identity")
@click.argument("ref")
@click.option("--accessor", required=True, help="Who opens it (published).")
@click.option("--reason", required=True, help="Why (published).")
@db_option
@domain_errors
def reveal_cmd(ref: str, accessor: str, reason: str, db: str | None) -> None:
    """Control commission only: open the sealed identity behind REF (the access is logged)."""
    with store(db, read_only=True) as (settings, s):
        data = criticism.reveal_identity(s, ref, accessor=accessor, reason=reason,
                                         settings=settings)
    click.echo(f"identity: {data.get('identity') or '(none given)'}")
    click.echo(f"person:   {data.get('person') or '(none given)'}")
    click.echo("this access is recorded in the public log.")
