"""The one model of an economy: products, technology, labour and what is known besides.

``Economy`` is a plain container over numpy/scipy.sparse/pandas.  It knows no
files, databases or screens: readers build it, solvers consume it.  Parquet
folders are :mod:`gosplan.readers.parquet` (``gosplan.read.parquet``,
``gosplan.write.parquet``); pymrio's ``IOSystem`` is
:mod:`gosplan.readers.iosystem` (``gosplan.read.pymrio``, ``gosplan.write.pymrio``).

Conventions
-----------
* ``A[i, j]`` is the input of product ``i`` used per unit of product ``j``
  (a column is a recipe).  Stored as ``scipy.sparse.csr_array``, or as
  ``csc_array`` when given in that (column-major) form: labour values read
  ``A`` by columns, so a CSC ``A`` needs no transpose to be built, which at
  10⁷ products saves the time and memory of a second copy of the matrix.
* ``labour[j]`` is direct labour per unit of gross output of ``j``, in
  ``labour_unit`` per ``output_unit``.  When a table only gives money wages,
  ``labour_unit`` says so (e.g. ``"GBP million of wages"``) and
  ``labour_kind == "wages"``.
* Money quantities (gross output, final demand, compensation, operating
  surplus) are in ``money_unit``.  For a money-valued table one unit of output
  is one money unit, so ``prices`` defaults to ones.
* ``imports[i, j]`` is the imported input ``i`` per unit of ``j`` (the imported
  use block of the table), kept apart from the domestic ``A``.
* ``capital_stock[j]`` is the total fixed capital stock (money) of sector ``j``
  when only totals are known (e.g. WIOD SEA ``K``); ``persons[j]`` persons engaged.
* ``capital[i, j]`` is the stock of capital good ``i`` tied up per unit of
  output of ``j``; ``depreciation[i]`` the yearly rate at which good ``i`` wears.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from gosplan.core.flows import coefficients_from_flows, shape_of
from gosplan.core.purposes import PURPOSES, guess_purpose
from gosplan.core.validation import check_labels, check_matrix, check_vector
from gosplan.errors import NotProductive, ValidationError

LabourKind = Literal["hours", "persons", "wages"]
ZeroOutput = Literal["error", "drop"]


@dataclass
class EconomyMeta:
    """Provenance: where the data came from and what was done to it."""

    source: str = ""
    history: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.history.append(text)


class Economy:
    """An economy described by an input–output table.

    Build one with :meth:`from_flows` or :meth:`from_coefficients` (or a reader
    in :mod:`gosplan.read`).  Construction validates shapes, labels, finiteness
    and signs, and refuses a technology that cannot reproduce itself.
    """

    def __init__(
        self,
        A: Any,
        labour: Any,
        *,
        products: Sequence[str] | pd.Index | None = None,
        labour_unit: str = "hours",
        labour_kind: LabourKind = "hours",
        money_unit: str = "",
        output_unit: str | None = None,
        output: Any = None,
        final_demand: pd.DataFrame | None = None,
        purposes: Mapping[str, str] | None = None,
        imports: Any = None,
        capital: Any = None,
        depreciation: Any = None,
        compensation: Any = None,
        surplus: Any = None,
        prices: Any = None,
        persons: Any = None,
        capital_stock: Any = None,
        name: str = "",
        year: int | None = None,
        kind: Literal["product", "industry"] = "product",
        meta: EconomyMeta | None = None,
        check_productive: bool = True,
    ) -> None:
        """Long because every field is validated here, at the one entry point of the core's
        model (shape, labels, NaN, sign), with messages naming the field;
        ``from_coefficients`` and ``from_flows`` come through it.
        """
        caller = "Economy"
        if isinstance(A, pd.DataFrame) and products is None:
            products = list(A.columns)
        shape = shape_of(A, "A", caller)
        n = shape[0]
        if shape != (n, n):
            raise ValidationError(f"`A` of Economy must be square; got shape {shape}.")
        self.products: pd.Index = check_labels(products, n=n, caller=caller)
        labels = list(self.products)
        fmt = "csc" if sp.issparse(A) and A.format == "csc" else "csr"
        Am = check_matrix(A, name="A", caller=caller, labels=labels, fmt=fmt)
        self.A: sp.csr_array | sp.csc_array = Am
        self.labour: np.ndarray = check_vector(
            labour, name="labour", n=n, caller=caller, labels=labels
        )
        if n and not self.labour.any():
            raise ValidationError(
                f"`labour` of {caller} is zero for every one of the {n} products: every labour "
                f"value would be 0 and every direct share undefined. Check the table's labour "
                f"row (hours, persons or wages of each sector): it is empty or all zeros."
            )
        self.labour_unit = labour_unit
        self.labour_kind: LabourKind = labour_kind
        self.money_unit = money_unit
        self.output_unit = output_unit or money_unit or "unit"
        self.output = self._opt_vec(output, "output", n, labels)
        self.compensation = self._opt_vec(compensation, "compensation", n, labels)
        self.surplus = self._opt_vec(surplus, "surplus", n, labels, allow_negative=True)
        self.persons = self._opt_vec(persons, "persons", n, labels)
        self.capital_stock = self._opt_vec(capital_stock, "capital_stock", n, labels)
        self.prices = (
            np.ones(n)
            if prices is None
            else check_vector(prices, name="prices", n=n, caller=caller, labels=labels)
        )
        self.depreciation = self._opt_vec(depreciation, "depreciation", n, labels)
        self.imports = (
            None
            if imports is None
            else check_matrix(imports, name="imports", shape=(n, n), caller=caller, labels=labels)
        )
        self.capital = (
            None
            if capital is None
            else check_matrix(capital, name="capital", shape=(n, n), caller=caller, labels=labels)
        )
        self.final_demand = self._check_final_demand(final_demand, labels)
        self.purposes: dict[str, str] = dict(purposes or {})
        if self.final_demand is not None:
            for col in self.final_demand.columns:
                self.purposes.setdefault(str(col), guess_purpose(str(col)))
            bad = {c: p for c, p in self.purposes.items() if p not in PURPOSES}
            if bad:
                raise ValidationError(
                    f"`purposes` of Economy maps final-demand columns to unknown purposes "
                    f"{bad}; allowed: {PURPOSES}."
                )
        self.name = name
        self.year = year
        self.kind = kind
        self.meta = meta or EconomyMeta()
        if check_productive:
            self.check_productive()

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_coefficients(
        cls,
        A: Any,
        labour: Any,
        *,
        products: Sequence[str] | pd.Index | None = None,
        **kwargs: Any,
    ) -> Economy:
        """Build from technical coefficients ``A`` and labour per unit ``labour``."""
        return cls(A, labour, products=products, **kwargs)

    @classmethod
    def from_flows(
        cls,
        Z: Any,
        output: Any,
        labour: Any,
        *,
        products: Sequence[str] | pd.Index | None = None,
        final_demand: pd.DataFrame | None = None,
        imports: Any = None,
        capital: Any = None,
        compensation: Any = None,
        surplus: Any = None,
        persons: Any = None,
        zero_output: ZeroOutput = "error",
        **kwargs: Any,
    ) -> Economy:
        """Build from inter-industry flows ``Z`` (money), gross ``output`` and total ``labour``.

        ``labour[j]`` is the total labour of sector ``j`` (hours, persons or wages);
        it is divided by output to give labour per unit.  ``imports`` is the
        imported-use flow matrix and ``capital`` the capital stock by good and
        using sector, both in money; they are divided by output likewise.

        Sectors with zero gross output cannot have coefficients.  With
        ``zero_output="error"`` (default) they raise, naming the sectors; with
        ``"drop"`` they are removed from every table and the removal is noted
        in ``meta.history``.

        The arithmetic is :func:`gosplan.core.flows.coefficients_from_flows`.
        """
        meta = kwargs.pop("meta", None) or EconomyMeta()
        return cls(
            **coefficients_from_flows(
                Z,
                output,
                labour,
                products=products,
                final_demand=final_demand,
                imports=imports,
                capital=capital,
                compensation=compensation,
                surplus=surplus,
                persons=persons,
                zero_output=zero_output,
                meta=meta,
                extra=kwargs,
            )
        )

    # ------------------------------------------------------------------ helpers
    def _opt_vec(
        self, v: Any, name: str, n: int, labels: list[str], allow_negative: bool = False
    ) -> np.ndarray | None:
        if v is None:
            return None
        return check_vector(
            v, name=name, n=n, caller="Economy", labels=labels, allow_negative=allow_negative
        )

    def _check_final_demand(self, fd: Any, labels: list[str]) -> pd.DataFrame | None:
        if fd is None:
            return None
        if isinstance(fd, pd.Series):
            fd = fd.to_frame(name=fd.name or "final demand")
        if not isinstance(fd, pd.DataFrame):
            arr = np.asarray(fd, dtype=np.float64)
            if arr.ndim == 1:
                arr = arr[:, None]
            fd = pd.DataFrame(arr, columns=[f"fd{i}" for i in range(arr.shape[1])])
        if fd.shape[0] != len(labels):
            raise ValidationError(
                f"`final_demand` of Economy has {fd.shape[0]} rows but there are "
                f"{len(labels)} products."
            )
        try:
            vals = fd.to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"`final_demand` of Economy must be numeric: {exc}") from None
        bad = ~np.isfinite(vals)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ValidationError(
                f"`final_demand` of Economy has a NaN or infinite value for product "
                f"{labels[i]!r}, category {fd.columns[j]!r}."
            )
        out = pd.DataFrame(vals, index=self.products, columns=[str(c) for c in fd.columns])
        out.columns.name = "category"
        return out

    # ------------------------------------------------------------------ properties
    @property
    def n(self) -> int:
        """Number of products (or industries)."""
        return int(self.A.shape[0])

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        what = f"{self.name} {self.year}" if self.year else self.name
        return (
            f"<Economy {what!s}: {self.n} {self.kind}s, nnz(A)={self.A.nnz}, "
            f"labour in {self.labour_unit}>"
        )

    @property
    def l(self) -> pd.Series:  # noqa: E743 - the textbook name
        """Direct labour per unit of output, labelled."""
        return pd.Series(self.labour, index=self.products, name=f"labour ({self.labour_unit})")

    @property
    def Z(self) -> sp.csr_array:
        """Inter-industry flows ``A diag(x)`` (needs ``output``)."""
        x = self._need("output")
        return sp.csr_array(self.A @ sp.diags_array(x))

    @property
    def total_labour(self) -> float:
        """Total direct labour, ``l · x`` (needs ``output``)."""
        return float(self.labour @ self._need("output"))

    @property
    def imports_per_unit(self) -> np.ndarray:
        """Imported inputs (money) per unit of each product's output."""
        if self.imports is None:
            return np.zeros(self.n)
        return np.asarray(self.imports.sum(axis=0)).ravel()

    @property
    def depreciation_coefficients(self) -> sp.csr_array | None:
        """``diag(depreciation) @ capital``: capital used up per unit of output."""
        if self.capital is None or self.depreciation is None:
            return None
        return sp.csr_array(sp.diags_array(self.depreciation) @ self.capital)

    def net_output(self) -> np.ndarray:
        """Final demand implied by gross output, ``(I - A) x``."""
        x = self._need("output")
        return np.asarray(x - self.A @ x)

    def final_demand_by_purpose(self) -> pd.DataFrame:
        """Final demand summed into the standard purposes of :data:`PURPOSES`."""
        fd = self._need_frame()
        cols = {
            p: fd[[c for c in fd.columns if self.purposes.get(c) == p]].sum(axis=1)
            for p in PURPOSES
        }
        return pd.DataFrame(cols, index=self.products)

    def _need(self, attr: str) -> np.ndarray:
        v = getattr(self, attr)
        if v is None:
            raise ValidationError(
                f"This economy ({self.name or 'unnamed'}) has no `{attr}`; "
                f"build it with `{attr}=` or from flows."
            )
        return np.asarray(v)

    def _need_frame(self) -> pd.DataFrame:
        if self.final_demand is None:
            raise ValidationError(
                f"This economy ({self.name or 'unnamed'}) has no final demand table."
            )
        return self.final_demand

    # ------------------------------------------------------------------ checks
    def spectral_radius(self) -> float:
        """Spectral (Perron) radius of ``A``; below one means the technology is productive."""
        return _perron(self.A)[0]

    def check_productive(self) -> None:
        """Raise :class:`NotProductive` unless the spectral radius of ``A`` is below one.

        Cheap when every column sum is below one (then the radius is too); otherwise
        the Perron root is computed and the sectors carrying the dominant
        eigenvector are named.
        """
        colsum = np.asarray(self.A.sum(axis=0)).ravel()
        if self.n == 0 or colsum.max() < 1.0:
            return
        rho, vec = _perron(self.A)
        if rho < 1.0 - 1e-12:
            return
        order = np.argsort(-np.abs(vec))
        heavy = [str(self.products[i]) for i in order[: min(5, self.n)] if abs(vec[i]) > 1e-12]
        over = [str(self.products[i]) for i in np.flatnonzero(colsum >= 1.0)][:10]
        raise NotProductive(
            f"The technology is not productive: the spectral radius of A is {rho:.6g} >= 1, "
            f"so no positive output can cover its own inputs. Sectors at the heart of the "
            f"problem (largest Perron-vector weight): {heavy}; sectors whose inputs per unit "
            f"add up to one or more: {over}.",
            spectral_radius=rho,
            sectors=heavy,
        )

    # ------------------------------------------------------------------ derived economies
    def take(self, products: Iterable[str]) -> Economy:
        """A sub-economy restricted to ``products`` (inputs from the rest are dropped)."""
        wanted = list(products)
        missing = [p for p in wanted if p not in self.products]
        if missing:
            raise ValidationError(f"Unknown products: {missing[:10]}.")
        idx = self.products.get_indexer(pd.Index(wanted))
        return self._subset(idx, f"restricted to {len(idx)} products")

    def drop(self, products: Iterable[str]) -> Economy:
        """A copy without ``products``."""
        gone = set(products)
        missing = [p for p in gone if p not in self.products]
        if missing:
            raise ValidationError(f"Unknown products: {sorted(missing)[:10]}.")
        idx = np.array([i for i, p in enumerate(self.products) if p not in gone], dtype=int)
        return self._subset(idx, f"dropped {sorted(gone)}")

    def _subset(self, idx: np.ndarray, note: str) -> Economy:
        meta = copy.deepcopy(self.meta)
        meta.note(note)

        def sq(M: sp.csr_array | None) -> sp.csr_array | None:
            if M is None:
                return None
            sub = M[idx][:, idx]
            return sp.csc_array(sub) if M.format == "csc" else sp.csr_array(sub)

        def vec(v: np.ndarray | None) -> np.ndarray | None:
            return None if v is None else v[idx]

        return Economy(
            sq(self.A),
            self.labour[idx],
            products=self.products[idx],
            labour_unit=self.labour_unit,
            labour_kind=self.labour_kind,
            money_unit=self.money_unit,
            output_unit=self.output_unit,
            output=vec(self.output),
            final_demand=None if self.final_demand is None else self.final_demand.iloc[idx],
            purposes=self.purposes,
            imports=sq(self.imports),
            capital=sq(self.capital),
            depreciation=vec(self.depreciation),
            compensation=vec(self.compensation),
            surplus=vec(self.surplus),
            prices=self.prices[idx],
            persons=vec(self.persons),
            capital_stock=vec(self.capital_stock),
            name=self.name,
            year=self.year,
            kind=self.kind,
            meta=meta,
        )

    # ------------------------------------------------------------------ conversions
    def to_frames(self) -> dict[str, pd.DataFrame]:
        """Labelled pandas tables: ``A``, ``sectors`` (vectors), and what else is known.

        Matrices come back dense; use only for published-table sizes.
        """
        idx = self.products
        frames: dict[str, pd.DataFrame] = {
            "A": pd.DataFrame(self.A.toarray(), index=idx, columns=idx),
        }
        sectors = self.to_sectors_frame()
        if self.imports is not None:
            sectors["imports_per_unit"] = self.imports_per_unit
            frames["imports"] = pd.DataFrame(self.imports.toarray(), index=idx, columns=idx)
        if self.capital is not None:
            frames["capital"] = pd.DataFrame(self.capital.toarray(), index=idx, columns=idx)
        frames["sectors"] = sectors
        if self.final_demand is not None:
            frames["final_demand"] = self.final_demand.copy()
        return frames

    def to_sectors_frame(self) -> pd.DataFrame:
        cols: dict[str, Any] = {"labour": self.labour, "prices": self.prices}
        for key in (
            "output",
            "compensation",
            "surplus",
            "depreciation",
            "persons",
            "capital_stock",
        ):
            v = getattr(self, key)
            if v is not None:
                cols[key] = v
        return pd.DataFrame(cols, index=self.products)

    def summary(self) -> str:
        """A few readable lines about this economy."""
        lines = [repr(self)]
        if self.meta.source:
            lines.append(f"  source: {self.meta.source}")
        lines.append(f"  spectral radius of A: {self.spectral_radius():.4f}")
        if self.output is not None:
            lines.append(
                f"  gross output: {self.output.sum():,.0f} {self.money_unit}; "
                f"total labour: {self.total_labour:,.1f} {self.labour_unit.split(' per ')[0]}"
            )
        return "\n".join(lines)


def _perron(A: sp.csr_array) -> tuple[float, np.ndarray]:
    """Perron root and (left) vector of a non-negative sparse matrix."""
    n = A.shape[0]
    if n == 0:
        return 0.0, np.zeros(0)
    if n <= 600:
        w, V = np.linalg.eig(A.toarray().T)
        k = int(np.argmax(np.abs(w)))
        return float(abs(w[k])), np.real(V[:, k])
    try:
        w, V = spla.eigs(sp.csr_array(A.T), k=1, which="LM", tol=1e-8, maxiter=5000)
        return float(abs(w[0])), np.real(V[:, 0])
    except spla.ArpackNoConvergence:
        # fall back to a bound from power iteration on the column sums
        x = np.ones(n)
        rho = 0.0
        for _ in range(2000):
            y = A.T @ x
            nrm = float(np.linalg.norm(y))
            if nrm == 0:
                return 0.0, x
            rho, x = nrm / float(np.linalg.norm(x)), y / nrm
        return rho, x


__all__ = ["PURPOSES", "Economy", "EconomyMeta", "LabourKind", "ZeroOutput"]
