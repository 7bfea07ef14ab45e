"""``gosplan witness …``: an independent witness that cosigns a log's checkpoints.

Run it on another machine, by other people, with its own key and state file.
It cosigns a checkpoint only after checking that it extends the last one it
cosigned (C2SP tlog-witness), so it never cosigns two histories of one log.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gosplan.cli._common import domain_errors
from gosplan.services import witness

KEY = click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The witness's private key file (keep it on the witness's machine).",
)
STATE = click.option(
    "--state",
    "state_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The witness's state file: the last checkpoint cosigned per log.",
)


@click.group("witness")
def command() -> None:
    """A witness against split views: cosigns checkpoints that extend what it saw."""


@command.command("keygen")
@click.option("--name", required=True, help="The witness's key name, e.g. witness.example.org.")
@KEY
@domain_errors
def keygen_cmd(name: str, key_path: Path) -> None:
    """Make the witness key; prints its cosignature verifier key (give it to log users)."""
    click.echo(witness.keygen(name, key_path))


@command.command("add-log")
@STATE
@click.option("--origin", required=True, help="The log's checkpoint origin.")
@click.option("--vkey", required=True, help="The log's verifier key ('gosplan log key --vkey').")
@domain_errors
def add_log_cmd(state_path: Path, origin: str, vkey: str) -> None:
    """Start witnessing a log."""
    w = witness.Witness(Path("/nonexistent"), state_path)
    w.add_log(origin, vkey)
    click.echo(f"witnessing {origin}")


@command.command("add-checkpoint")
@KEY
@STATE
@domain_errors
def add_checkpoint_cmd(key_path: Path, state_path: Path) -> None:
    """Answer one tlog-witness add-checkpoint request read from standard input."""
    reply = witness.Witness(key_path, state_path).add_checkpoint(sys.stdin.buffer.read())
    sys.stdout.buffer.write(reply.body)
    if reply.status != 200:
        raise SystemExit(1 if reply.status != 409 else 9)


@command.command("serve")
@KEY
@STATE
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=7380, show_default=True, type=int)
@domain_errors
def serve_cmd(key_path: Path, state_path: Path, host: str, port: int) -> None:
    """Serve POST /add-checkpoint (C2SP tlog-witness) until interrupted."""
    witness.load_signer(key_path)  # fail now, not on the first request
    click.echo(f"witness listening on http://{host}:{port}/add-checkpoint", err=True)
    witness.serve(witness.Witness(key_path, state_path), host, port)
