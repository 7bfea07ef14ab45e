"""Running plan configurations: the files and sources around the maths.

:mod:`gosplan.planning.plan_config` holds the schema, the validation and the
planning itself, on objects.  This module does the I/O a run needs: it reads
the TOML configuration, the market-feedback CSV beside it and the economy's
source (:func:`gosplan.read.source`), then plans.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pandas as pd

from gosplan.core.economy import Economy
from gosplan.errors import ValidationError
from gosplan.planning.plan_config import (
    PlanConfig,
    PlanRun,
    apply_feedback,
    default_plan_config,
    plan_from_config,
    validate_config,
)
from gosplan.readers.registry import open_source

__all__ = [
    "apply_feedback_file",
    "default_five_year_plan",
    "load_config",
    "read_feedback",
    "run_config",
]


def load_config(path: str | Path) -> PlanConfig:
    """Read and validate a TOML plan configuration (UTF-8, or UTF-16 with a byte order mark).

    An empty file is refused: running the default plan in its place would
    answer a question nobody asked.
    """
    from gosplan.core.validation import decode_text

    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ValidationError(f"plan configuration {str(p)!r} does not exist.") from None
    except IsADirectoryError:
        raise ValidationError(f"plan configuration {str(p)!r} is a folder, not a file.") from None
    except OSError as exc:
        raise ValidationError(f"plan configuration {str(p)!r} cannot be read: {exc}.") from None
    text = decode_text(data, what=f"plan configuration {str(p)!r}")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{p}: not valid TOML: {exc}") from None
    if not raw:
        raise ValidationError(
            f"{p}: the plan configuration is empty (no section, no key); a plan needs at "
            f"least [economy] source. Start from examples/plan-default.toml."
        )
    return validate_config(raw, path=str(p))


def read_feedback(path: str | Path) -> pd.DataFrame:
    """Read the CSV ``gosplan accounts feedback PERIOD --source … --csv FILE`` writes."""
    p = Path(path)
    try:
        return pd.read_csv(p)
    except FileNotFoundError:
        raise ValidationError(f"[targets] feedback: file {str(p)!r} does not exist.") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValidationError(f"[targets] feedback: {p} is not a readable CSV: {exc}") from None


def apply_feedback_file(bundles: pd.DataFrame, path: str | Path) -> pd.DataFrame:
    """:func:`~gosplan.planning.plan_config.apply_feedback` with the table read from ``path``."""
    return apply_feedback(bundles, read_feedback(path), source=str(path))


def _beside(name: str, config_path: str) -> Path:
    """``name`` as given if absolute, else relative to the configuration's folder."""
    p = Path(name)
    if p.is_absolute() or config_path.startswith("<"):
        return p
    return Path(config_path).parent / p


def run_config(cfg: PlanConfig, *, economy: Economy | None = None) -> PlanRun:
    """Run a validated configuration: a Leontief plan for the first year and, unless
    ``mode = "leontief"``, the multi-year (or receding-horizon) plan.

    ``economy`` defaults to the configuration's ``[economy] source`` (and
    ``year``); ``[targets] feedback`` is read relative to the configuration's
    folder.
    """
    if economy is None:
        source = cfg.get("economy", "source", "default")
        economy = open_source(source, year=cfg.get("economy", "year"))
    feedback = cfg.get("targets", "feedback")
    table = None
    where = "feedback"
    if feedback is not None:
        path = _beside(feedback, cfg.path)
        table, where = read_feedback(path), str(path)
    return plan_from_config(cfg, economy, feedback=table, feedback_source=where)


def default_five_year_plan(economy: Economy | None = None, **overrides: Any) -> PlanRun:
    """Plan the embedded default economy (Brazil, IBGE), or ``economy``, for five years
    with free health and education for all.  ``overrides`` are ``section={key: value}``
    updates of :data:`~gosplan.planning.plan_config.DEFAULT_PLAN` (see
    :func:`~gosplan.planning.plan_config.default_plan_config`).
    Returns a :class:`PlanRun`: ``.plan.working_week`` by year,
    ``.first_year.labour_by_purpose`` and ``.plan.deduction_shares()``.
    """
    cfg = default_plan_config(economy, **overrides)
    return run_config(cfg, economy=economy)
