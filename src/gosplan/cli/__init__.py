"""The ``gosplan`` command-line tool: thin over the core and services.

Each capability registers its own click group/command in a module of this
package.  :data:`COMMANDS` names, for every top-level command, the module and
attribute that define it and the one line ``gosplan --help`` shows; the module
is imported only when its command runs (or its own ``--help`` is asked for),
so ``gosplan --help`` imports neither pandas nor scipy, numba, dask or
matplotlib.  ``tests/cli/test_startup.py`` checks the lines against the
commands' own help.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from gosplan import __version__

#: command name -> (module under gosplan.cli, attribute, the line ``gosplan --help`` shows)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "accounts": (
        "accounts",
        "command",
        "Labour-time accounts: hours in (less the social funds' deduction), goods out.",
    ),
    "analyse": (
        "analyse",
        "command",
        "Labour values against market prices, the rate of surplus value and the "
        "value rate of profit of SOURCE.",
    ),
    "appointments": ("appointments", "command", "Appointment integrity and the retaliation watch."),
    "criticism": (
        "criticism",
        "command",
        "Criticism from below: public content, sealed identity, receipts, reasoned statuses.",
    ),
    "db": (
        "db",
        "command",
        "The store: SQLite file by default, PostgreSQL via GOSPLAN_DATABASE_URL.",
    ),
    "demo": (
        "demo",
        "command",
        "Labour values, value–price analysis and a five-year plan on the default economy.",
    ),
    "fulfilment": (
        "fulfilment",
        "command",
        "Verification of fulfilment: reports against plan, norms, each other and over time.",
    ),
    "get": ("serve", "get", "Render one page in-process (no server), e.g. gosplan get /plan."),
    "log": (
        "log",
        "command",
        "The public log: every decision and observation, tamper-evident (RFC 9162).",
    ),
    "plan": (
        "plan",
        "command",
        "Plan the economy named in CONFIG (TOML; see examples/plan-default.toml).",
    ),
    "serve": (
        "serve",
        "serve",
        "Start the web application (SQLite file by default; demo population seeded).",
    ),
    "sources": (
        "sources",
        "command",
        "List the kinds of SOURCE gosplan reads, and the files found in the data folder.",
    ),
    "synth": (
        "scale",
        "synth",
        "Write a synthetic economy of N products to a .npz file (see "
        "gosplan.scale.synthetic_economies).",
    ),
    "synth-values": (
        "scale",
        "synth_values",
        "Labour values of the synthetic economy in PATH, on this machine or on Dask.",
    ),
    "users": (
        "serve",
        "users_group",
        "People who sign in: the first administrator, one-time tokens, ending sessions.",
    ),
    "values": (
        "values",
        "command",
        "Labour values of every product of SOURCE (a publisher's file or 'default').",
    ),
    "integrity": (
        "integrity",
        "command",
        "Integrity records: established events per 1 000 worker-years, over time, from the log.",
    ),
    "witness": (
        "witness",
        "command",
        "A witness against split views: cosigns checkpoints that extend what it saw.",
    ),
    "run": (
        "run",
        "command",
        "Run the living plan of SCENARIO (TOML) with its open-loop twin; write the report.",
    ),
}

#: an optional dependency -> the extra of gosplan that installs it
EXTRAS = {
    "dask": "distributed",
    "distributed": "distributed",
    "cupy": "gpu",
    "cupyx": "gpu",
    "torch": "gpu",
    "psycopg": "postgres",
    "playwright": "test",
    "httpx": "test",
    "pytest": "test",
}


def missing_extra_message(exc: ModuleNotFoundError) -> str | None:
    """The advice for an optional module that is not installed, or ``None``."""
    top = (exc.name or "").split(".")[0]
    extra = EXTRAS.get(top)
    if extra is None:
        return None
    return (
        f"this needs {top}, which the default install leaves out; install it with "
        f"pip install 'gosplan[{extra}]' (or pip install -e '.[{extra}]' in a checkout)"
    )


class LazyGroup(click.Group):
    """A group whose commands' modules are imported when the command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        module = importlib.import_module(f"gosplan.cli.{spec[0]}")
        cmd: click.Command = getattr(module, spec[1])
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from :data:`COMMANDS`, without importing any command."""
        rows = [
            (
                name,
                COMMANDS[name][2]
                if name in COMMANDS
                else self.commands[name].get_short_help_str(formatter.width),
            )
            for name in self.list_commands(ctx)
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as exc:
            message = missing_extra_message(exc)
            if message is None:
                raise
            raise click.ClickException(message) from exc


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gosplan")
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print only results asked for (--json, --csv -, data); no notes, no progress.",
)
@click.pass_context
def main(ctx: click.Context, quiet: bool) -> None:
    """gosplan: labour values, plans, labour-time accounts, fulfilment and control from below.

    Run 'gosplan demo' for a tour on the embedded default economy (Brazil, IBGE).
    Human output wraps at the terminal's width; piped, it is plain text and tables are
    tab-separated. Commands that list or report take --json.
    """
    from gosplan.cli._common import QUIET_KEY

    ctx.meta[QUIET_KEY] = quiet
