"""The WIOD Socio-Economic Accounts: hours, persons and money by industry, for
:func:`gosplan.readers.wiod.read_wiod`.

``sea.csv`` has one line per country, industry (``code``) and year; the reader takes
hours worked (``H_EMPE``, scaled by ``EMP/EMPE`` to count the self-employed),
persons engaged (``EMP``), and, after checking the currency against the table's
gross output (``GO``, ``NOMEXCH``), compensation, surplus and capital stock.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from gosplan.core.economy import EconomyMeta
from gosplan.errors import ReaderError
from gosplan.readers._excel import check_exists

HoursMode = Literal["persons", "employees"]

_SEA_NEEDED = ("country", "code", "year", "H_EMPE", "EMP", "EMPE")


def read_sea(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The Socio-Economic Accounts CSV as a DataFrame (cached by file stamp; do not mutate)."""
    p = check_exists(path)
    st = p.stat()
    return _read_sea_cached(str(p.resolve()), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=4)
def _read_sea_cached(path: str, _mtime: int, _size: int) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype={"country": str, "code": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ReaderError(
            path, f"cannot be read as the WIOD Socio-Economic Accounts CSV: {exc}"
        ) from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in _SEA_NEEDED if c not in df.columns]
    if missing:
        raise ReaderError(
            path,
            f"the Socio-Economic Accounts lack the column(s) {missing}; found {list(df.columns)}",
            row=1,
        )
    df["line"] = np.arange(2, len(df) + 2)  # the file's line number, for messages
    df["country"] = df["country"].str.strip().str.upper()
    df["code"] = df["code"].str.strip()
    df["year"] = pd.to_numeric(df["year"], errors="coerce")
    return df


def sea_labour(
    path: Path,
    country: str,
    year: int,
    codes: list[str],
    x: np.ndarray,
    hours: HoursMode,
    meta: EconomyMeta,
) -> dict[str, np.ndarray]:
    """Hours, persons and (where the currency checks out) money figures of ``country``'s
    industries ``codes`` in ``year``, from the Socio-Economic Accounts at ``path``; ``x``
    is the table's gross output (an industry with output must have hours)."""
    by_code = _country_year(path, country, year)
    col = _Columns(path, country, year, codes, by_code)
    active = x > 0
    lacking = [c for j, c in enumerate(codes) if active[j] and c not in by_code.index]
    if lacking:
        one = len(lacking) == 1
        raise ReaderError(
            path,
            f"no hours for industr{'y' if one else 'ies'} "
            f"{lacking} of {country} in {year}: the Socio-Economic Accounts "
            f"have no row for {'it' if one else 'them'}, but "
            f"the table gives {'it' if one else 'them'} "
            f"output",
            column="code",
        )
    h = col("H_EMPE", needed_for=active)
    emp = col("EMP", needed_for=active)
    empe = col("EMPE", needed_for=active)
    _check_labour(col, x, h, emp, empe)
    out: dict[str, np.ndarray] = {"persons": emp}
    if hours == "persons":
        factor = np.where(empe > 0, emp / np.where(empe > 0, empe, 1.0), 1.0)
        out["hours"] = h * factor
        meta.note(
            f"labour: SEA H_EMPE (million hours of employees) scaled by EMP/EMPE to cover "
            f"the self-employed (factor {factor[active].min():.3g}–{factor[active].max():.3g}); "
            f"total {out['hours'][active].sum():,.0f} million hours"
        )
    else:
        out["hours"] = h
        meta.note(
            f"labour: SEA H_EMPE, million hours of employees only (self-employed not "
            f"counted); total {h[active].sum():,.0f} million hours"
        )
    meta.note("persons: SEA EMP, thousands of persons engaged")
    _money(col, x, active, hours, meta, out)
    return out


def _country_year(path: Path, country: str, year: int) -> pd.DataFrame:
    """The accounts' rows of ``country`` in ``year``, by industry code (each once)."""
    df = read_sea(path)
    sel = df[(df["country"] == country) & (df["year"] == year)]
    if sel.empty:
        have = sorted(df["country"].dropna().unique())
        yrs = df.loc[df["country"] == country, "year"].dropna()
        span = f"years {int(yrs.min())}–{int(yrs.max())}" if len(yrs) else "no years"
        raise ReaderError(
            path,
            f"no Socio-Economic Accounts rows for {country} in {year} "
            f"(countries present: {have}; {country} has {span})",
        )
    dup = sel["code"][sel["code"].duplicated()]
    if len(dup):
        lines = sel.loc[sel["code"] == dup.iloc[0], "line"].tolist()
        raise ReaderError(
            path,
            f"industry {dup.iloc[0]!r} of {country} {year} appears more than once (lines {lines})",
            row=lines[1],
        )
    return sel.set_index("code")


class _Columns:
    """A column of the accounts as a vector over the table's industries (0 where an
    industry has no row); a missing number is refused where ``needed_for`` is true."""

    def __init__(
        self, path: Path, country: str, year: int, codes: list[str], by_code: pd.DataFrame
    ) -> None:
        self.path, self.country, self.year, self.codes = path, country, year, codes
        self.by_code = by_code
        self.cols = set(by_code.columns)
        self.lines = {str(k): int(v) for k, v in by_code["line"].items()}

    def __call__(self, col: str, *, needed_for: np.ndarray) -> np.ndarray:
        out = np.zeros(len(self.codes))
        numeric = pd.to_numeric(self.by_code[col], errors="coerce").astype(float)
        for j, code in enumerate(self.codes):
            if code not in self.lines:
                continue
            v = float(numeric[code])
            if not np.isfinite(v):
                if not needed_for[j]:
                    continue
                raise ReaderError(
                    self.path,
                    f"{col} of industry {code!r} ({self.country} {self.year}) is "
                    f"missing or not a number: "
                    f"{self.by_code.at[code, col]!r}",
                    row=self.lines[code],
                    column=col,
                )
            out[j] = float(v)
        return out


def _check_labour(
    col: _Columns, x: np.ndarray, h: np.ndarray, emp: np.ndarray, empe: np.ndarray
) -> None:
    """Every industry with output has hours, and ``0 < EMPE <= EMP``."""
    where = f"{col.country} {col.year}"
    for j, code in enumerate(col.codes):
        if not x[j] > 0:
            continue
        line = col.lines[code]
        if h[j] <= 0:
            raise ReaderError(
                col.path,
                f"industry {code!r} of {where} has gross output "
                f"{x[j]:.6g} USD million but H_EMPE (hours of "
                f"employees) is {h[j]:g}: its labour is missing",
                row=line,
                column="H_EMPE",
            )
        if empe[j] <= 0 or emp[j] < empe[j]:
            raise ReaderError(
                col.path,
                f"industry {code!r} of {where} has EMP={emp[j]:g} "
                f"persons engaged and EMPE={empe[j]:g} employees; expected "
                f"0 < EMPE <= EMP",
                row=line,
                column="EMPE" if empe[j] <= 0 else "EMP",
            )


def _money(
    column: _Columns,
    x: np.ndarray,
    active: np.ndarray,
    hours: HoursMode,
    meta: EconomyMeta,
    out: dict[str, np.ndarray],
) -> None:
    """Compensation, surplus and capital stock in USD million (checked currency)."""
    path, country, year, by_code = column.path, column.country, column.year, column.by_code
    cols = column.cols
    if "GO" not in cols:
        meta.note(
            "SEA has no GO column, so its currency cannot be checked: compensation, "
            "surplus and capital stock left out"
        )
        return
    go = column("GO", needed_for=np.zeros(len(active), dtype=bool))
    ok = active & (go > 0)
    if not ok.any():
        meta.note("SEA GO is zero for every industry: money figures left out")
        return
    ratio = float(np.median(go[ok] / x[ok]))
    rate = None
    if "NOMEXCH" in cols:
        rates = pd.to_numeric(by_code["NOMEXCH"], errors="coerce").dropna().unique()
        if len(rates):
            rate = float(np.median(rates))
    if rate is not None and abs(ratio / rate - 1) < 0.05:
        divisor = rate
        meta.note(
            f"SEA money in national currency: converted to USD at NOMEXCH {rate:.6g} "
            f"per USD (SEA GO / NOMEXCH is {ratio / rate:.4f} x the table's GO)"
        )
    elif abs(ratio - 1) < 0.05:
        divisor = 1.0
        meta.note(f"SEA money taken as USD already (SEA GO is {ratio:.4f} x the table's GO)")
    else:
        raise ReaderError(
            path,
            f"the SEA gross output of {country} {year} is {ratio:.4g} times "
            f"the table's, neither 1 (US dollars) nor the exchange rate "
            f"NOMEXCH {rate if rate is not None else '(absent)'} (national "
            f"currency): the two files do not describe the same economy",
            column="GO",
        )
    none = np.zeros(len(active), dtype=bool)
    if hours == "persons" and {"LAB", "CAP"} <= cols:
        out["compensation"] = column("LAB", needed_for=active) / divisor
        out["surplus"] = column("CAP", needed_for=none) / divisor
        meta.note(
            "compensation: SEA LAB (labour compensation, self-employed included); "
            "surplus: SEA CAP (capital compensation); USD million"
        )
    elif {"COMP", "VA"} <= cols:
        comp = column("COMP", needed_for=active)
        out["compensation"] = comp / divisor
        out["surplus"] = (column("VA", needed_for=none) - comp) / divisor
        meta.note(
            "compensation: SEA COMP (compensation of employees); surplus: SEA VA - COMP; "
            "USD million"
        )
    if "K" in cols:
        out["capital_stock"] = column("K", needed_for=none) / divisor
        meta.note("capital_stock: SEA K (nominal fixed capital stock), USD million")


__all__ = ["HoursMode", "read_sea", "sea_labour"]
