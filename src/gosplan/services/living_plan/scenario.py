"""The living plan's scenario: what to run, from a TOML file, every key checked."""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gosplan.errors import ValidationError

__all__ = ["Scenario", "load_scenario"]


@dataclass(frozen=True)
class Scenario:
    """What to run: the economy, the population, the period count, the events and the rules.

    Every field has a default; a TOML file sets any of them (see
    ``examples/living-*.toml`` and ``docs/living-plan.md``).
    """

    name: str = "baseline"
    source: str = "default"
    year: int | None = None
    #: a synthetic economy of this many products instead of ``source`` (see
    #: :func:`gosplan.scale.synthetic_economies.synthetic_economy`), drawn with ``synthetic_seed``
    synthetic_products: int | None = None
    synthetic_seed: int = 0
    periods: int = 12
    periods_per_year: int = 12
    start: str = "2027-01"
    persons: int = 20
    cohort_size: int = 1
    enterprises: int = 5
    max_goods: int | None = None
    seed: int = 0
    unable_share: float = 0.15
    concentration: float = 300.0
    base_week: float = 1800.0 / 46.0
    # events
    taste_fraction: float = 0.0
    taste_size: float = 0.3
    taste_goods: tuple[tuple[str, float], ...] = ()
    shock_sector: str | None = None
    shock_loss: float = 0.3
    shock_at: int = 0
    shock_recovery: float = 0.05
    cheater_share: float = 0.0
    cheater_inflate: float = 0.15
    cheater_at: int = 0
    vote_at: int | None = None
    vote_max_week: float | None = None
    vote_support: float = 0.7
    vote_turnout: float = 0.9
    # rules of the planning office
    elasticity: float = 1.0
    sell_through: float = 0.9
    max_step: float = 0.25
    buffer: float = 0.11
    production_noise: float = 0.02
    capacity_growth: float = 0.05
    capital_output: float = 1.0
    open_loop: bool = True

    def __post_init__(self) -> None:
        def need(ok: bool, name: str, what: str) -> None:
            if not ok:
                raise ValidationError(
                    f"scenario `{name}` must be {what}; got {getattr(self, name)!r}."
                )

        need(1 <= self.periods <= 1000, "periods", "a whole number from 1 to 1000")
        need(self.periods_per_year in (1, 4, 12, 52), "periods_per_year", "1, 4, 12 or 52")
        need(1 <= self.persons <= 10_000_000, "persons", "from 1 to 10 000 000")
        need(1 <= self.cohort_size <= self.persons, "cohort_size", "from 1 to `persons`")
        need(1 <= self.enterprises <= 100_000, "enterprises", "from 1 to 100 000")
        need(self.max_goods is None or self.max_goods >= 1, "max_goods", "at least 1")
        need(
            self.synthetic_products is None or 10 <= self.synthetic_products <= 1_000_000,
            "synthetic_products",
            "from 10 to 1 000 000 products",
        )
        need(
            self.synthetic_products is None or self.source in ("default", "synthetic"),
            "source",
            "left out (or `synthetic`) when [economy] synthetic is given",
        )
        for name in ("vote_support", "vote_turnout"):
            need(0 <= getattr(self, name) <= 1, name, "a share in [0, 1]")
        for name in ("unable_share", "taste_fraction", "shock_loss", "cheater_share"):
            need(0 <= getattr(self, name) < 1, name, "in [0, 1)")
        for name in (
            "taste_size",
            "shock_recovery",
            "cheater_inflate",
            "production_noise",
            "buffer",
            "capacity_growth",
        ):
            need(0 <= getattr(self, name) <= 1, name, "in [0, 1]")
        need(
            math.isfinite(self.concentration) and self.concentration > 0,
            "concentration",
            "a positive number",
        )
        need(
            math.isfinite(self.base_week) and 0 < self.base_week <= 100,
            "base_week",
            "hours in (0, 100]",
        )
        need(0 < self.elasticity <= 10, "elasticity", "in (0, 10]")
        need(0 <= self.capital_output <= 20, "capital_output", "years of output in [0, 20]")
        need(0 < self.sell_through <= 1, "sell_through", "in (0, 1]")
        need(0 < self.max_step <= 1, "max_step", "in (0, 1]")
        need(
            0 <= self.shock_at < max(self.periods, 1) or self.shock_sector is None,
            "shock_at",
            "a period of the run",
        )
        need(0 <= self.cheater_at < self.periods, "cheater_at", "a period of the run")
        need(
            self.vote_at is None or 0 <= self.vote_at < self.periods,
            "vote_at",
            "a period of the run",
        )
        need(
            self.vote_max_week is None or 0 < self.vote_max_week <= 100,
            "vote_max_week",
            "hours in (0, 100]",
        )
        need(
            (self.vote_at is None) == (self.vote_max_week is None),
            "vote_at",
            "given together with `vote_max_week`",
        )
        try:
            y, m = self.start.split("-")
            ok = 1900 <= int(y) <= 2200 and 1 <= int(m) <= 12
        except ValueError:
            ok = False
        need(ok, "start", "a month YYYY-MM")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()


_SECTIONS = {
    "scenario": {
        "name",
        "source",
        "year",
        "periods",
        "periods_per_year",
        "start",
        "seed",
        "open_loop",
    },
    "economy": {"synthetic"},
    "population": {
        "persons": "persons",
        "cohort_size": "cohort_size",
        "unable_share": "unable_share",
        "concentration": "concentration",
        "base_week": "base_week",
    },
    "enterprises": {
        "count": "enterprises",
        "production_noise": "production_noise",
        "max_goods": "max_goods",
        "capacity_growth": "capacity_growth",
        "capital_output": "capital_output",
    },
    "tastes": {"fraction": "taste_fraction", "size": "taste_size", "goods": "taste_goods"},
    "shock": {
        "sector": "shock_sector",
        "loss": "shock_loss",
        "at": "shock_at",
        "recovery": "shock_recovery",
    },
    "cheaters": {"share": "cheater_share", "inflate": "cheater_inflate", "at": "cheater_at"},
    "vote": {
        "at": "vote_at",
        "max_week": "vote_max_week",
        "support": "vote_support",
        "turnout": "vote_turnout",
    },
    "rules": {
        "elasticity": "elasticity",
        "sell_through": "sell_through",
        "max_step": "max_step",
        "buffer": "buffer",
    },
}


def _synthetic(p: Path, value: Any) -> dict[str, Any]:
    """``[economy] synthetic = {products = N, seed = S}`` as the scenario's two fields."""
    if not isinstance(value, dict) or not set(value) <= {"products", "seed"}:
        raise ValidationError(
            f"{p}: [economy] synthetic must be a table {{products = N, seed = S}}; got {value!r}."
        )
    out: dict[str, Any] = {}
    for key, field in (("products", "synthetic_products"), ("seed", "synthetic_seed")):
        if key in value:
            v = value[key]
            if not isinstance(v, int) or isinstance(v, bool):
                raise ValidationError(
                    f"{p}: [economy] synthetic.{key} must be a whole number; got {v!r}."
                )
            out[field] = v
    if "synthetic_products" not in out:
        raise ValidationError(f"{p}: [economy] synthetic needs `products` (how many).")
    return out


def load_scenario(path: str | Path) -> Scenario:
    """A :class:`Scenario` from a TOML file; unknown sections or keys are errors naming them."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ValidationError(f"{p}: cannot read the scenario ({exc.strerror}).") from None
    try:
        text = raw.decode("utf-8-sig")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise ValidationError(f"{p}: the scenario is not UTF-8 text.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{p}: not valid TOML: {exc}.") from None
    if not data:
        raise ValidationError(f"{p}: the scenario is empty; give at least [scenario] name.")
    kwargs: dict[str, Any] = {}
    for section, body in data.items():
        if section not in _SECTIONS:
            raise ValidationError(
                f"{p}: unknown section [{section}]; known: {', '.join(sorted(_SECTIONS))}."
            )
        if not isinstance(body, dict):
            raise ValidationError(f"{p}: [{section}] must be a table of keys.")
        keys = _SECTIONS[section]
        for key, value in body.items():
            if key not in keys:
                raise ValidationError(
                    f"{p}: unknown key `{key}` in [{section}]; known: {', '.join(sorted(keys))}."
                )
            target = keys[key] if isinstance(keys, dict) else key
            kwargs[target] = value
    if "synthetic" in kwargs:
        kwargs.update(_synthetic(p, kwargs.pop("synthetic")))
    if "taste_goods" in kwargs:
        tg = kwargs["taste_goods"]
        if not isinstance(tg, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 10
            for v in tg.values()
        ):
            raise ValidationError(
                f"{p}: [tastes] goods must be a table of good = factor "
                f"(0 < factor <= 10); got {tg!r}."
            )
        kwargs["taste_goods"] = tuple((str(k), float(v)) for k, v in tg.items())
    fields = Scenario.__dataclass_fields__
    for name, value in kwargs.items():
        if name == "taste_goods":
            continue
        kind = str(fields[name].type)
        if ("int" in kind and "float" not in kind and not isinstance(value, int)) or (
            isinstance(value, bool) and "bool" not in kind
        ):
            raise ValidationError(f"{p}: `{name}` must be a whole number; got {value!r}.")
        if "float" in kind and not isinstance(value, int | float):
            raise ValidationError(f"{p}: `{name}` must be a number; got {value!r}.")
    try:
        return Scenario(**kwargs)
    except ValidationError as exc:
        raise ValidationError(f"{p}: {exc}") from None
