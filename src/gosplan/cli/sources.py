"""``gosplan sources``: what SOURCE arguments are understood, and which real files are at hand."""

from __future__ import annotations

from pathlib import Path

import click

from gosplan.cli._common import console
from gosplan.config import Settings
from gosplan.errors import ReaderError
from gosplan.readers.registry import (
    auxiliary,
    available_years,
    describe_sources,
    source_kind,
)


@click.command("sources")
@click.option("--data", "data_dir", default=None, type=click.Path(file_okay=False),
              help="Folder of publishers' files to list (default: GOSPLAN_DATA_DIR).")
def command(data_dir: str | None) -> None:
    """List the kinds of SOURCE gosplan reads, and the files found in the data folder."""
    console.print(describe_sources())
    folder = Path(data_dir or Settings().data_dir)
    if not folder.is_dir():
        console.print(f"(no data folder at {folder})")
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
            continue
        years = available_years(str(f))
        span = f" years {years[0]}–{years[-1]}" if years else ""
        console.print(f"  {kind:<8} {f}{span}")
