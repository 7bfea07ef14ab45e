"""``gosplan sources``: what SOURCE arguments are understood, and which real files are at hand."""

from __future__ import annotations

from pathlib import Path

import click

from gosplan.cli._common import console, data_on_stdout, echo_json, json_option
from gosplan.config import Settings
from gosplan.errors import ReaderError
from gosplan.readers.registry import (
    auxiliary,
    available_years,
    describe_sources,
    source_kind,
)


@click.command("sources")
@click.option(
    "--data",
    "data_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder of publishers' files to list (default: GOSPLAN_DATA_DIR).",
)
@json_option
def command(data_dir: str | None, as_json: bool = False) -> None:
    """List the kinds of SOURCE gosplan reads, and the files found in the data folder."""
    data_on_stdout(as_json)
    console.print(describe_sources())
    folder = Path(data_dir or Settings().data_dir)
    found: list[dict[str, object]] = []
    if not folder.is_dir():
        console.print(f"(no data folder at {folder})")
        if as_json:
            echo_json({"folder": str(folder), "exists": False, "files": found})
        return
    console.print(f"Files in {folder}:")
    for f in sorted(folder.rglob("*")):
        if not f.is_file() or f.name.lower().startswith("readme"):
            continue
        try:
            kind = source_kind(str(f))
        except ReaderError:
            continue
        if kind == "aux":
            aux = auxiliary(str(f))
            console.print(f"  {kind:<8} {f} ({aux.accompanies if aux else ''})", markup=False)
            found.append(
                {"kind": kind, "path": str(f), "accompanies": aux.accompanies if aux else None}
            )
            continue
        years = available_years(str(f))
        span = f" years {years[0]}–{years[-1]}" if years else ""
        console.print(f"  {kind:<8} {f}{span}", markup=False)
        found.append({"kind": kind, "path": str(f), "years": years})
    if as_json:
        echo_json({"folder": str(folder), "exists": True, "files": found})
