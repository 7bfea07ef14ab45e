"""Decisions and plan changes in words, and the typed forms that make them.

Pages never show an effect as JSON or a kind as a code: :class:`Words` says them in the
request's language.  :func:`proposal_from_form` and :func:`draft_from_form` read the typed
forms (one per kind of decision; the planner's workbench) into the effects the decisions
service checks, with an error per field, in words.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gosplan.services.decisions import FUNDS, KINDS
from gosplan.web.i18n import N_

#: options a typed proposal form offers (rows left blank are skipped)
OPTION_ROWS = 4
#: product rows on the workbench
PRODUCT_ROWS = 3
#: the kinds a proposal form is offered for (a ``plan_change`` comes from the workbench)
FORM_KINDS = ("working_week", "fund_split", "purpose_target", "sector_target", "other")


KIND_WORDS = {
    "fund_split": N_("how the social funds are split"),
    "sector_target": N_("the target of one product"),
    "purpose_target": N_("the targets of one purpose"),
    "working_week": N_("the working week"),
    "plan_change": N_("a change to the plan, from the planner's workbench"),
    "other": N_("other (binds nothing in the plan)"),
}
METHOD_WORDS = {
    "approval": N_("approval vote"),
    "schulze": N_("ranked vote (Schulze method)"),
}
METHOD_RULES = {
    "approval": N_(
        "Each voter approves any options she can accept; the option with most approvals wins."
    ),
    "schulze": N_(
        "Each voter ranks every option, best first; the option that beats every other one, "
        "by the strongest chain of majorities, wins (Schulze method)."
    ),
}
PHASE_WORDS = {
    "discussion": N_("open for discussion"),
    "voting": N_("voting"),
    "awaiting close": N_("voting ended, to be counted"),
    "closed": N_("closed"),
}
PURPOSE_WORDS = {
    "personal": N_("personal consumption"),
    "health": N_("health care"),
    "education": N_("education"),
    "care": N_("care for those who cannot work"),
    "culture": N_("culture"),
    "social": N_("public administration and other social consumption"),
    "investment": N_("investment"),
    "exports": N_("exports"),
    "reserves": N_("reserves"),
    "other": N_("other"),
}
FUND_WORDS = {
    "health": N_("health care"),
    "education": N_("education"),
    "care": N_("care for those who cannot work"),
    "culture": N_("culture"),
    "investment": N_("investment"),
    "reserves": N_("reserves"),
    "administration": N_("public administration"),
}


@dataclass
class Words:
    """Codes said in words, in one language (``_`` translates, ``num`` formats)."""

    _: Callable[..., str]
    num: Callable[[float, int | None], str]

    def kind(self, code: str) -> str:
        return self._(KIND_WORDS.get(code, code))

    def method(self, code: str) -> str:
        return self._(METHOD_WORDS.get(code, code))

    def method_rule(self, code: str) -> str:
        return self._(METHOD_RULES.get(code, code))

    def phase(self, code: str) -> str:
        return self._(PHASE_WORDS.get(code, code))

    def purpose(self, code: str) -> str:
        return self._(PURPOSE_WORDS.get(code, code))

    def fund(self, code: str) -> str:
        return self._(FUND_WORDS.get(code, code))

    def change(self, factor: float) -> str:
        """A factor as a change: ``+20 %``, ``−10 %``, ``unchanged``."""
        pct = round((float(factor) - 1.0) * 100.0, 1)
        if abs(pct) < 0.05:
            return self._("unchanged")
        sign = "+" if pct > 0 else "−"
        return f"{sign}{self.num(abs(pct), None)} %"

    def effect(self, kind: str, effect: Mapping[str, Any] | None) -> str:
        """What an option's effect does to the plan, in a sentence."""
        e = dict(effect or {})
        if kind == "working_week":
            return self._(
                "a working week of at most %(h)s hours",
                h=self.num(round(float(e["hours"]), 2), None),
            )
        if kind == "fund_split":
            parts = ", ".join(
                f"{self.fund(f)} {self.num(round(float(s) * 100, 1), None)} %"
                for f, s in e.get("shares", {}).items()
            )
            return self._("the social funds split: %(parts)s", parts=parts)
        if kind == "sector_target":
            return self._(
                "the target of %(product)s %(change)s",
                product=e["product"],
                change=self.change(e["factor"]),
            )
        if kind == "purpose_target":
            return self._(
                "the targets for %(purpose)s %(change)s",
                purpose=self.purpose(e["purpose"]),
                change=self.change(e["factor"]),
            )
        if kind == "plan_change":
            said = [self.effect(c["kind"], c["effect"]) for c in e.get("changes", [])]
            return "; ".join(said) if said else self._("the plan as it is")
        return self._("binds nothing in the plan")


# ------------------------------------------------------------------------ reading forms


class FormErrors(Exception):
    """Errors of a form, by field name, in words (already translated)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)

    def first(self) -> str:
        k, v = next(iter(self.errors.items()))
        return f"{k}: {v}"


def _text(form: Mapping[str, Any], name: str) -> str:
    v = form.get(name)
    if isinstance(v, list):
        v = v[0] if v else ""
    return "" if v is None else str(v).strip()


def _number(
    form: Mapping[str, Any],
    name: str,
    errors: dict[str, str],
    _: Callable[..., str],
    *,
    low: float,
    high: float,
    what: str,
) -> float | None:
    """A number typed in ``name`` (blank: None), between ``low`` and ``high``."""
    raw = _text(form, name).replace(",", ".").replace("%", "").strip()
    if not raw:
        return None
    try:
        x = float(raw)
    except ValueError:
        errors[name] = _("%(what)s must be a number; you typed “%(raw)s”", what=what, raw=raw[:40])
        return None
    if not math.isfinite(x) or not low <= x <= high:
        errors[name] = _(
            "%(what)s must be between %(low)s and %(high)s; you typed %(raw)s",
            what=what,
            low=f"{low:g}",
            high=f"{high:g}",
            raw=raw[:40],
        )
        return None
    return x


def _shares(
    form: Mapping[str, Any], prefix: str, errors: dict[str, str], _: Callable[..., str]
) -> dict[str, float] | None:
    """Fund shares typed in percent (``<prefix><fund>``); None when all are blank."""
    pct: dict[str, float] = {}
    for f in FUNDS:
        x = _number(form, f"{prefix}{f}", errors, _, low=0, high=100, what=_("a share"))
        if x is not None:
            pct[f] = x
    if not pct or any(k.startswith(prefix) for k in errors):
        return None
    total = sum(pct.values())
    if abs(total - 100.0) > 0.05:
        errors[f"{prefix}{next(iter(pct))}"] = _(
            "the shares must add up to 100 %%; they add up to %(total)s %%", total=f"{total:g}"
        )
        return None
    return {f: v / total for f, v in pct.items() if v > 0}


def _factor(
    form: Mapping[str, Any], name: str, errors: dict[str, str], _: Callable[..., str]
) -> float | None:
    pct = _number(form, name, errors, _, low=-99, high=900, what=_("a change in per cent"))
    return None if pct is None else 1.0 + pct / 100.0


@dataclass
class ProposalForm:
    """What a typed proposal form holds: values as typed, and errors by field."""

    kind: str = "working_week"
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def proposal_from_form(
    form: Mapping[str, Any],
    _: Callable[..., str],
    *,
    products: Sequence[str],
    purposes: Sequence[str],
    words: Words,
) -> tuple[str, list[dict[str, Any]]]:
    """(kind, options) from a typed proposal form, or :class:`FormErrors` by field."""
    kind = _text(form, "kind")
    errors: dict[str, str] = {}
    if kind not in FORM_KINDS:
        raise FormErrors({"kind": _("choose what the proposal is about")})
    if not _text(form, "title"):
        errors["title"] = _("give the proposal a title")
    options: list[dict[str, Any]] = []
    for i in range(OPTION_ROWS):
        label = _text(form, f"label_{i}")
        effect: dict[str, Any] | None = None
        typed = bool(label)
        if kind == "working_week":
            typed |= bool(_text(form, f"hours_{i}"))
            h = _number(form, f"hours_{i}", errors, _, low=1, high=80, what=_("a working week"))
            if typed and h is None and f"hours_{i}" not in errors:
                errors[f"hours_{i}"] = _("say how many hours a week this option means")
            effect = None if h is None else {"hours": h}
        elif kind == "fund_split":
            typed |= any(_text(form, f"share_{i}_{f}") for f in FUNDS)
            shares = _shares(form, f"share_{i}_", errors, _)
            if typed and shares is None and not any(k.startswith(f"share_{i}_") for k in errors):
                errors[f"share_{i}_health"] = _("give each fund its share, in per cent")
            effect = None if shares is None else {"shares": shares}
        elif kind in ("sector_target", "purpose_target"):
            key, allowed = (
                ("product", products) if kind == "sector_target" else ("purpose", purposes)
            )
            name = _text(form, f"{key}_{i}")
            typed |= bool(name) or bool(_text(form, f"change_{i}"))
            f = _factor(form, f"change_{i}", errors, _)
            if typed and name not in allowed:
                errors[f"{key}_{i}"] = (
                    _("choose a product of the economy")
                    if key == "product"
                    else _("choose a purpose of the plan")
                )
            elif typed and f is None and f"change_{i}" not in errors:
                errors[f"change_{i}"] = _("say by how many per cent the target changes")
            effect = None if f is None or name not in allowed else {key: name, "factor": f}
        else:
            effect = {}
        if not typed:
            continue
        if effect is not None and not label:
            label = words.effect(kind, effect) if kind != "other" else ""
        if not label and effect is not None:  # else the value's own error says it
            errors[f"label_{i}"] = _("give the option a name")
        if effect is not None and label:
            options.append({"label": label[:200], "effect": effect})
    if not errors and len(options) < 2:
        errors["label_1" if options else "label_0"] = _(
            "a proposal needs at least two options to choose between"
        )
    if errors:
        raise FormErrors(errors)
    return kind, options


@dataclass
class Draft:
    """A planner's draft change (the workbench), as typed and as an effect."""

    values: dict[str, str]
    effect: dict[str, Any]
    errors: dict[str, str]

    @property
    def empty(self) -> bool:
        return not self.effect.get("changes")

    @property
    def digest(self) -> str:
        """What a proposal made from this draft must carry, exactly (SHA-256, 16 hex)."""
        text = json.dumps(self.effect, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def draft_fields(purposes: Sequence[str]) -> list[str]:
    return [
        "week",
        *(f"share_{f}" for f in FUNDS),
        *(f"purpose_{p}" for p in purposes),
        *(f"product_{j}" for j in range(PRODUCT_ROWS)),
        *(f"change_{j}" for j in range(PRODUCT_ROWS)),
    ]


def draft_from_form(
    form: Mapping[str, Any],
    _: Callable[..., str],
    *,
    products: Sequence[str],
    purposes: Sequence[str],
) -> Draft:
    """The workbench's fields as one ``plan_change`` effect; errors by field (never raised:
    the page shows them next to the fields, with what was typed)."""
    values = {k: _text(form, k) for k in draft_fields(purposes) if _text(form, k)}
    errors: dict[str, str] = {}
    changes: list[dict[str, Any]] = []
    shares = _shares(form, "share_", errors, _)
    if shares is not None:
        changes.append({"kind": "fund_split", "effect": {"shares": shares}})
    for p in purposes:
        f = _factor(form, f"purpose_{p}", errors, _)
        if f is not None and abs(f - 1.0) > 1e-12:
            changes.append({"kind": "purpose_target", "effect": {"purpose": p, "factor": f}})
    seen: set[str] = set()
    for j in range(PRODUCT_ROWS):
        name = _text(form, f"product_{j}")
        f = _factor(form, f"change_{j}", errors, _)
        if not name and f is None:
            continue
        if name not in products:
            errors[f"product_{j}"] = _("choose a product of the economy")
        elif name in seen:
            errors[f"product_{j}"] = _("this product is already changed above")
        elif f is None:
            if f"change_{j}" not in errors:
                errors[f"change_{j}"] = _("say by how many per cent the target changes")
        elif abs(f - 1.0) > 1e-12:
            seen.add(name)
            changes.append({"kind": "sector_target", "effect": {"product": name, "factor": f}})
    week = _number(form, "week", errors, _, low=1, high=80, what=_("a working week"))
    if week is not None:
        changes.append({"kind": "working_week", "effect": {"hours": week}})
    return Draft(values=values, effect={"changes": changes}, errors=errors)


__all__ = [
    "FORM_KINDS",
    "KINDS",
    "Draft",
    "FormErrors",
    "ProposalForm",
    "Words",
    "draft_from_form",
    "proposal_from_form",
    "words_for",
]


def words_for(request: Any) -> Words:
    """:class:`Words` in the language of ``request``."""
    from gosplan.web import i18n

    loc = i18n.locale_of(request)

    def num(x: float, digits: int | None = None) -> str:
        return i18n.format_number(loc, float(x), digits)

    return Words(_=i18n.translator(request), num=num)
