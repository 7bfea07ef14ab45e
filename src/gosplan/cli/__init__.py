"""The ``gosplan`` command-line tool: thin over the core and services.

Each capability registers its own click group/command from a module in this
package; :data:`COMMAND_MODULES` lists them.
"""

from __future__ import annotations

import importlib

import click

from gosplan import __version__

#: modules under gosplan.cli that define a ``command`` (click command or group)
COMMAND_MODULES = ["values", "db", "serve", "sources", "accounts", "plan", "demo", "analyse",
                   "log", "criticism", "appointments", "fulfilment", "scale", "witness"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gosplan")
def main() -> None:
    """gosplan: labour values, plans, labour-time accounts, fulfilment and control from below.

    Run `gosplan demo` for a tour on the embedded default economy (Brazil, IBGE).
    """


for _name in COMMAND_MODULES:
    _mod = importlib.import_module(f"gosplan.cli.{_name}")
    for _cmd in getattr(_mod, "COMMANDS", [getattr(_mod, "command", None)]):
        if _cmd is not None:
            main.add_command(_cmd)
