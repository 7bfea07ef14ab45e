"""The control commission's pages: retaliation warnings and appointment checks.

Only the commission sees them (a retaliation warning points at a critic).  Nobody
reviews what concerns themselves: a commission member is on the control register as
the person whose id is their username (or their labour account's code, with or
without ``person:``); a warning about an event on them, decided by them or about a
criticism of them, and an appointment in which they appoint, sit on the panel, are
appointed or lie on the path of ties, is shown without its detail and cannot be
resolved or checked by them: another member does it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from gosplan.errors import GosplanError
from gosplan.services import appointments as appt
from gosplan.services import lookups, retaliation
from gosplan.storage.control import Criticism, PersonnelEvent, Position
from gosplan.storage.users import User
from gosplan.web import i18n
from gosplan.web.deps import Db, require_role
from gosplan.web.forms import FormState, reshow
from gosplan.web.i18n import N_
from gosplan.web.render import REDIRECT, render, twin
from gosplan.web.security import check_csrf

router = APIRouter(tags=["commission"])

Commission = Annotated[User, require_role("commission")]

#: a personnel event's kind in words
EVENT_WORDS = {
    "dismissal": N_("dismissal"),
    "demotion": N_("demotion"),
    "transfer": N_("transfer"),
    "hours_cut": N_("cut in hours"),
    "poor_evaluation": N_("poor evaluation"),
}
#: a tie's kind in words
TIE_WORDS = {
    "family": N_("family"),
    "colleague": N_("former colleagues"),
    "friendship": N_("friendship"),
    "hometown": N_("same hometown"),
}
SOURCE_WORDS = {"declared": N_("declared"), "found": N_("found in records")}
ROLE_WORDS = {"appointer": N_("appointer"), "panel": N_("panel member")}
LEVEL_WORDS = {
    "control commission officer": N_("control commission officer"),
    "control commission": N_("control commission"),
    "regional council": N_("regional council"),
    "national congress of councils": N_("national congress of councils"),
}


class PersonPublic(BaseModel):
    id: str
    name: str


class TiePublic(BaseModel):
    kind: str
    source: str
    town: str | None = None
    words: str


class StepPublic(BaseModel):
    """One step along the path of ties: from a person to the next, and how they are tied."""

    from_person: PersonPublic
    to_person: PersonPublic
    ties: list[TiePublic]


class FindingPublic(BaseModel):
    decider: PersonPublic
    role: str
    role_words: str
    distance: float
    path: list[StepPublic]


class AppointmentPublic(BaseModel):
    id: int
    position: str
    position_title: str
    appointee: PersonPublic | None
    appointer: PersonPublic | None
    panel: list[PersonPublic]
    day: str
    log_index: int
    findings: list[FindingPublic]
    #: it concerns the member who asks: shown without detail, reviewed by another member
    concerns_you: bool = False


class WarningPublic(BaseModel):
    alert: int
    level: int
    level_words: str
    owner: str
    opened: str
    deadline: str | None
    resolved: str | None
    resolution: str | None = None
    concerns_you: bool = False
    #: the detail below is withheld (None) from a member whom the warning concerns
    event_kind: str | None = None
    event_words: str | None = None
    event_day: str | None = None
    person: PersonPublic | None = None
    actor: PersonPublic | None = None
    criticism: str | None = None
    criticised: str | None = None
    criticised_on: str | None = None
    why: str | None = None
    why_words: str | None = None


class CheckPublic(BaseModel):
    """A proposed appointment checked for ties (nothing is written)."""

    appointee: str = ""
    appointer: str = ""
    panel: list[str] = []
    k: float = appt.DEFAULT_K
    checked: bool = False
    flagged: bool = False
    findings: list[FindingPublic] = []


class CommissionPage(BaseModel):
    you: list[str]
    warnings: list[WarningPublic]
    open_warnings: int
    appointments: list[AppointmentPublic]
    people: list[PersonPublic]
    check: CheckPublic
    message: str = ""


# --------------------------------------------------------------------------- helpers


def own_ids(user: User) -> set[str]:
    """The ids under which ``user`` may be on the control register."""
    ids = {user.username}
    if user.account:
        ids |= {user.account, user.account.removeprefix("person:")}
    return ids


class _Names:
    def __init__(self, db: Session) -> None:
        self.names = {n.id: n.name for n in lookups.criticism_targets(db)["official"]}

    def __call__(self, pid: str | None) -> PersonPublic | None:
        if pid is None:
            return None
        return PersonPublic(id=pid, name=self.names.get(pid, pid))

    def one(self, pid: str) -> PersonPublic:
        return PersonPublic(id=pid, name=self.names.get(pid, pid))


_TIE = re.compile(r"^(?P<kind>[a-z]+)(?: (?P<town>.+?))? \((?P<source>[a-z]+)\)$")


def _ties(text: str, _: Callable[..., str]) -> list[TiePublic]:
    out = []
    for part in (p.strip() for p in text.split(", ") if p.strip()):
        m = _TIE.match(part)
        if m is None:
            out.append(TiePublic(kind="other", source="", words=part))
            continue
        kind, source, town = m["kind"], m["source"], m["town"]
        words = _(TIE_WORDS.get(kind, kind))
        if town:
            words = _("%(tie)s: %(town)s", tie=words, town=town)
        words = _("%(tie)s (%(source)s)", tie=words, source=_(SOURCE_WORDS.get(source, source)))
        out.append(TiePublic(kind=kind, source=source, town=town, words=words))
    return out


def _finding(f: dict[str, object], names: _Names, _: Callable[..., str]) -> FindingPublic:
    path = f.get("path") or []
    assert isinstance(path, list)
    role = str(f.get("role", ""))
    return FindingPublic(
        decider=names.one(str(f.get("decider", ""))),
        role=role,
        role_words=_(ROLE_WORDS.get(role, role)),
        distance=float(f.get("distance", 0.0)),  # type: ignore[arg-type]
        path=[
            StepPublic(
                from_person=names.one(str(s["from"])),
                to_person=names.one(str(s["to"])),
                ties=_ties(str(s["tie"]), _),
            )
            for s in path
        ],
    )


def _path_people(findings: Iterable[dict[str, object]]) -> set[str]:
    out: set[str] = set()
    for f in findings:
        for s in f.get("path") or []:  # type: ignore[attr-defined]
            out |= {str(s["from"]), str(s["to"])}
    return out


def _why(db: Session, ev: PersonnelEvent, c: Criticism) -> str | None:
    """Which of the watch's reasons holds (see :mod:`gosplan.services.retaliation`)."""
    if c.target_kind == "official":
        if ev.actor is not None and ev.actor == c.target:
            return "decided_by_criticised"
        for day in (c.filed_on, ev.day):
            if c.target in retaliation.chain_of_authority(db, ev.person_id, day):
                return "chain_of_authority"
    elif c.target_kind == "enterprise":
        return "workplace"
    return None


def _why_words(
    why: str | None,
    ev: PersonnelEvent,
    c: Criticism,
    criticised: str,
    _: Callable[..., str],
    when: Callable[[dt.date], str],
) -> str:
    kind = _(EVENT_WORDS.get(ev.kind, ev.kind))
    if why == "decided_by_criticised":
        return _(
            "the %(kind)s was decided by %(official)s, whom the critic criticised on %(day)s",
            kind=kind,
            official=criticised,
            day=when(c.filed_on),
        )
    if why == "chain_of_authority":
        return _(
            "%(official)s, criticised on %(day)s, is above the critic in the chain of authority",
            official=criticised,
            day=when(c.filed_on),
        )
    if why == "workplace":
        return _(
            "the critic worked in %(unit)s, which they criticised on %(day)s",
            unit=criticised,
            day=when(c.filed_on),
        )
    return _("a criticism by this person shortly before the event")


def _warnings(
    db: Session,
    mine: set[str],
    names: _Names,
    _: Callable[..., str],
    when: Callable[[dt.date], str],
) -> list[WarningPublic]:
    out = []
    for a in retaliation.alerts(db):
        v = retaliation.alert_view(db, a, commission=True)
        it = retaliation.item(db, a)
        ev = db.get(PersonnelEvent, a.event_id)
        c = db.get(Criticism, a.criticism_id)
        w = WarningPublic(
            alert=a.id,
            level=int(v["level"]),
            level_words=_(LEVEL_WORDS.get(str(v["owner"]), str(v["owner"]))),
            owner=str(v["owner"]),
            opened=str(v["opened"]),
            deadline=v["deadline"],
            resolved=v["resolved"],
            resolution=it.resolution,
        )
        if ev is None or c is None:
            out.append(w)
            continue
        concerned = {ev.person_id, ev.actor, c.target if c.target_kind == "official" else None}
        if concerned & mine:
            w.concerns_you = True
            out.append(w)
            continue
        why = _why(db, ev, c)
        if c.target_kind == "official":
            criticised = names.one(c.target).name
        else:
            criticised = lookups.unit_name(db, c.target) or c.target
        w.event_kind = ev.kind
        w.event_words = _(EVENT_WORDS.get(ev.kind, ev.kind))
        w.event_day = ev.day.isoformat()
        w.person = names(ev.person_id)
        w.actor = names(ev.actor)
        w.criticism = c.ref
        w.criticised = criticised
        w.criticised_on = c.filed_on.isoformat()
        w.why = why
        w.why_words = _why_words(why, ev, c, criticised, _, when)
        out.append(w)
    out.sort(key=lambda w: (w.resolved is not None, -w.level, w.alert))
    return out


def _appointments(
    db: Session, mine: set[str], names: _Names, _: Callable[..., str]
) -> list[AppointmentPublic]:
    out = []
    for a in reversed(appt.appointments(db, flagged_only=True)):
        pos = db.get(Position, a.position_id)
        involved = {a.appointee, a.appointer, *a.panel} | _path_people(a.findings)
        concerns = bool(involved & mine)
        out.append(
            AppointmentPublic(
                id=a.id,
                position=a.position_id,
                position_title=pos.title if pos is not None else a.position_id,
                appointee=names(a.appointee),
                appointer=names(a.appointer),
                panel=[names.one(p) for p in a.panel],
                day=a.day.isoformat(),
                log_index=a.log_index,
                findings=[] if concerns else [_finding(f, names, _) for f in a.findings],
                concerns_you=concerns,
            )
        )
    return out


def _page(
    request: Request,
    db: Session,
    user: User,
    check: CheckPublic | None = None,
    *,
    form: FormState | None = None,
    status_code: int = 200,
) -> Response:
    _ = i18n.translator(request)
    names = _Names(db)
    mine = own_ids(user)
    loc = i18n.locale_of(request)
    warnings = _warnings(db, mine, names, _, lambda d: i18n.format_when(loc, d))
    model = CommissionPage(
        you=sorted(mine & set(names.names)),
        warnings=warnings,
        open_warnings=sum(1 for w in warnings if w.resolved is None),
        appointments=_appointments(db, mine, names, _),
        people=[PersonPublic(id=i, name=n) for i, n in sorted(names.names.items())],
        check=check or CheckPublic(),
    )
    extra = {"form": form} if form is not None else {}
    return render(request, "commission.html", model, user=user, status_code=status_code, **extra)


# --------------------------------------------------------------------------- routes


@twin(router, "/commission", model=CommissionPage)
def commission_page(request: Request, db: Db, user: Commission) -> Response:
    """Retaliation warnings (worst first) and flagged appointments with their path of ties,
    and the form to check a proposed appointment: the control commission only."""
    return _page(request, db, user)


_FIELD_OF_ROLE = {"appointee": "appointee", "appointer": "appointer", "panel member": "panel"}


@twin(router, "/commission/check", model=CommissionPage)
def check_appointment(
    request: Request,
    db: Db,
    user: Commission,
    appointee: Annotated[str, Query(max_length=64)] = "",
    appointer: Annotated[str, Query(max_length=64)] = "",
    panel: Annotated[list[str] | None, Query(max_length=20)] = None,
    k: Annotated[float, Query(ge=0, le=10)] = appt.DEFAULT_K,
) -> Response:
    """Check a proposed appointment: every decider within ``k`` ties of the appointee, with
    the path of ties (nothing is written)."""
    members = [p for p in dict.fromkeys(panel or []) if p]
    if not appointee:
        raise HTTPException(422, detail="appointee: choose the person to be appointed")
    if not appointer:
        raise HTTPException(422, detail="appointer: choose who appoints")
    mine = own_ids(user)
    for field, ids in (("appointee", [appointee]), ("appointer", [appointer]), ("panel", members)):
        if set(ids) & mine:
            raise HTTPException(
                403,
                detail=f"{field}: this appointment concerns you; another member of the "
                "commission checks it",
            )
    try:
        found = appt.check(db, appointee, appointer, members, k)
    except GosplanError as exc:
        msg = str(exc)
        field = next((f for r, f in _FIELD_OF_ROLE.items() if msg.startswith(r)), "appointee")
        raise HTTPException(422, detail=f"{field}: {msg}") from exc
    _ = i18n.translator(request)
    names = _Names(db)
    findings = [_finding(f.to_json(), names, _) for f in found]
    if _path_people(f.to_json() for f in found) & mine:
        raise HTTPException(
            403,
            detail="appointee: you are on the path of ties of this appointment; another "
            "member of the commission checks it",
        )
    check = CheckPublic(
        appointee=appointee,
        appointer=appointer,
        panel=members,
        k=k,
        checked=True,
        flagged=bool(found),
        findings=findings,
    )
    return _page(request, db, user, check)


@reshow("/commission/check", method="GET")
def _check_again(request: Request, form: FormState) -> Response | None:
    from gosplan.web.deps import get_state, get_user

    state = get_state(request)
    user = get_user(request, state)
    if user is None or user.role != "commission":
        return None
    with Session(state.engine) as db:
        return _page(request, db, user, form=form, status_code=form.status)


@router.post(
    "/commission/warnings/{alert}/resolve",
    dependencies=[Depends(check_csrf)],
    response_class=RedirectResponse,
    status_code=303,
    responses=REDIRECT,
)
def resolve_warning(
    request: Request,
    db: Db,
    user: Commission,
    alert: int,
    resolution: Annotated[str, Form(max_length=2000)],
) -> Response:
    """Close a retaliation warning with a stated resolution (logged); never one that
    concerns the member resolving it."""
    mine = own_ids(user)
    a = next((x for x in retaliation.alerts(db) if x.id == alert), None)
    if a is None:
        raise HTTPException(404, detail=f"alert: there is no retaliation warning {alert}")
    ev = db.get(PersonnelEvent, a.event_id)
    c = db.get(Criticism, a.criticism_id)
    concerned = {
        ev.person_id if ev else None,
        ev.actor if ev else None,
        c.target if c is not None and c.target_kind == "official" else None,
    }
    if concerned & mine:
        raise HTTPException(
            403,
            detail="resolution: this warning concerns you; another member of the commission "
            "resolves it",
        )
    if not resolution.strip():
        raise HTTPException(422, detail="resolution: say how the warning was settled")
    try:
        retaliation.resolve(
            db,
            alert,
            resolution=resolution,
            by=f"{user.display_name} ({user.username})",
            today=dt.datetime.now(dt.UTC).date(),
        )
        db.commit()
    except GosplanError as exc:
        db.rollback()
        raise HTTPException(422, detail=f"resolution: {exc}") from exc
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"ok": True, "alert": alert, "resolved": True})
    return RedirectResponse(f"/commission#warning-{alert}", status_code=303)


@reshow("/commission/warnings/{alert}/resolve")
def _resolve_again(request: Request, form: FormState) -> Response | None:
    from gosplan.web.deps import get_state, get_user

    state = get_state(request)
    user = get_user(request, state)
    if user is None or user.role != "commission":
        return None
    form.values["alert"] = str(request.path_params.get("alert", ""))
    with Session(state.engine) as db:
        return _page(request, db, user, form=form, status_code=form.status)
