"""Decisions: proposals, discussion, votes, published tallies; enrolment of voters.

The rules of voting (shortest discussion and vote, quorum as a share of the
electorate) are configuration; a proposal that asks for a quorum, or for less
time than the rules, is refused (422, naming the field).  Votes close at their
deadline: reading a decisions page closes every vote that is due, and anyone
signed in may close one that is due.  Only the electorate votes (see
:func:`gosplan.services.users.may_vote`); registrars enrol voters.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from gosplan.errors import GosplanError
from gosplan.services import decisions, lookups, users
from gosplan.services.publiclog import state as logstate
from gosplan.storage import page_heads
from gosplan.storage.decisions import Proposal
from gosplan.web.deps import CurrentUser, Db, MaybeUser, State
from gosplan.web.i18n import translator
from gosplan.web.page_cache import cache_of
from gosplan.web.plan_words import FORM_KINDS, FormErrors, Words, proposal_from_form, words_for
from gosplan.web.render import REDIRECT, Created, Ok, render, twin, wants_json
from gosplan.web.security import check_csrf, client_key
from gosplan.web.state import AppState

router = APIRouter(tags=["decisions"])


class ProposalSummary(BaseModel):
    id: int
    title: str
    kind: str
    method: str
    phase: str
    ballots: int
    quorum: int
    voting_until: dt.datetime
    kind_words: str = ""
    method_words: str = ""
    phase_words: str = ""
    #: whether the signed-in person has voted on it (None when nobody is signed in)
    voted: bool | None = None


class ProposalFormPublic(BaseModel):
    """The typed proposal form: its kind, what was typed and the errors by field."""

    kind: str
    values: dict[str, str] = {}
    errors: dict[str, str] = {}


class RulesPublic(BaseModel):
    min_discussion_hours: float
    min_voting_hours: float
    max_hours: float
    quorum_share: float
    electorate: int
    quorum: int


class DecisionsPublic(BaseModel):
    rules: RulesPublic
    proposals: list[ProposalSummary]
    adopted: list[dict[str, Any]]
    kinds: list[str]
    methods: list[str]
    withheld: list[str] = []
    kind_words: dict[str, str] = {}
    form_kinds: list[str] = []
    form: ProposalFormPublic | None = None
    products: list[str] = []
    purposes: list[str] = []
    funds: list[str] = []


class MyBallotPublic(BaseModel):
    """The signed-in voter's own ballot, and where the public log holds it."""

    choice: list[int]
    labels: list[str]
    pseudonym: str
    log_index: int | None


class CommentPublic(BaseModel):
    author: str
    body: str
    at: dt.datetime


class ProposalPublic(BaseModel):
    id: int
    title: str
    body: str
    kind: str
    method: str
    quorum: int
    phase: str
    options: list[dict[str, Any]]
    discussion_until: dt.datetime
    voting_until: dt.datetime
    ballots: int
    comments: list[CommentPublic]
    outcome: dict[str, Any] | None
    tally: dict[str, Any] | None
    voted: bool
    rules: RulesPublic | None = None
    kind_words: str = ""
    method_words: str = ""
    method_rule: str = ""
    phase_words: str = ""
    option_words: list[str] = []
    my_ballot: MyBallotPublic | None = None
    #: a form sent back: errors by field, and what was typed
    errors: dict[str, str] = {}
    typed: dict[str, str] = {}


def _summary(p: Proposal, n: int, now: dt.datetime, w: Words) -> ProposalSummary:
    ph = decisions.phase(p, now)
    return ProposalSummary(
        id=p.id,
        title=p.title,
        kind=p.kind,
        method=p.method,
        phase=ph,
        ballots=n,
        quorum=p.quorum,
        voting_until=p.voting_until,
        kind_words=w.kind(p.kind),
        method_words=w.method(p.method),
        phase_words=w.phase(ph),
    )


def _close_due(db: Any, now: dt.datetime) -> None:
    """Votes close at their deadline: whoever reads the page after it sees them closed."""
    if decisions.close_due(db, now=now):
        db.commit()


def _rules(state: AppState, db: Any) -> RulesPublic:
    rules = decisions.Rules.from_settings(state.settings)
    voters = users.electorate(db)
    return RulesPublic(**dataclasses.asdict(rules), electorate=voters, quorum=rules.quorum(voters))


def _purposes(state: AppState) -> list[str]:
    from gosplan.planning.targets import PLAN_PURPOSES

    return list(PLAN_PURPOSES)


def _decisions_model(
    request: Request,
    db: Any,
    state: AppState,
    form: ProposalFormPublic,
    user: Any = None,
    voted: frozenset[int] | None = None,
) -> DecisionsPublic:
    now = state.clock()
    _close_due(db, now)
    if user is not None and voted is None:
        voted = lookups.voted_in(db, user.id)
    w = words_for(request)
    # the public log is the record: a proposal whose rows differ from it is not listed
    listed, withheld = [], []
    every = lookups.proposals(db)
    for p, n in every:
        diffs = logstate.check_proposal(db, p.id)
        if diffs:
            withheld += [str(d) for d in diffs]
        else:
            listed.append((p, n))
    hidden = {p.id for p, _ in every} - {p.id for p, _ in listed}
    return DecisionsPublic(
        rules=_rules(state, db),
        proposals=[
            _summary(p, n, now, w).model_copy(
                update={"voted": None if voted is None else p.id in voted}
            )
            for p, n in listed
        ],
        adopted=[a for a in decisions.adopted_effects(db) if a.get("proposal") not in hidden],
        withheld=withheld,
        kinds=list(decisions.KINDS),
        methods=list(decisions.VOTING_METHODS),
        kind_words={k: w.kind(k) for k in decisions.KINDS},
        form_kinds=list(FORM_KINDS),
        form=form,
        products=[str(x) for x in state.economy.products],
        purposes=_purposes(state),
        funds=list(decisions.FUNDS),
    )


@twin(router, "/decisions", model=DecisionsPublic)
def list_decisions(
    request: Request,
    db: Db,
    state: State,
    user: MaybeUser,
    kind: Annotated[
        str | None, Query(max_length=40, description="the proposal form's kind")
    ] = None,
) -> Response:
    form = ProposalFormPublic(kind=kind if kind in FORM_KINDS else "working_week")
    # one page for each kind of person and set of proposals they voted on
    voted = None if user is None else lookups.voted_in(db, user.id)

    def build(who: Any) -> Response:
        model = _decisions_model(request, db, state, form, who, voted)
        return render(request, "decisions.html", model, user=who, w=words_for(request))

    return cache_of(request).serve(
        request, DECISIONS_TABLES, build, user=user, clock=state.clock, vary=voted
    )


#: what the list of decisions reads: proposals, ballots, comments, the log they are checked
#: against, who may vote (an enrolment changes a row of web_user, counted apart)
DECISIONS_TABLES: tuple[str, ...] = ("decision_proposal", "decision_ballot", "decision_comment")
DECISIONS_TABLES += ("web_user", page_heads.ADOPTED, page_heads.ELECTORATE, page_heads.LOG)


def _get(db: Any, pid: int) -> Proposal:
    p = db.get(Proposal, pid)
    if p is None:
        raise HTTPException(status_code=404, detail=f"no proposal {pid}")
    return p


@twin(router, "/decisions/{pid:int}", model=ProposalPublic)
def show_decision(pid: int, request: Request, db: Db, state: State, user: MaybeUser) -> Response:
    return _proposal_page(pid, request, db, state, user)


def _proposal_page(
    pid: int,
    request: Request,
    db: Any,
    state: AppState,
    user: Any,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    """The proposal page; with ``errors`` (by field: ``choice``, ``body``) it is a form sent
    back (422) with what was typed."""
    _close_due(db, state.clock())
    diffs = logstate.check_proposal(db, pid)
    if diffs:  # the public log is the record: a row that differs from it is not shown
        raise HTTPException(
            status_code=409,
            detail=(
                f"proposal {pid} is not shown: its rows differ from the public log ("
                + "; ".join(str(d) for d in diffs)
                + ")"
            ),
        )
    p = _get(db, pid)
    comments = lookups.comments(db, pid)
    ballots = lookups.ballots(db, pid)
    ph = decisions.phase(p, state.clock())
    running = (
        decisions.tally(
            p.method, [o["label"] for o in p.options], list(ballots), p.quorum
        ).to_dict()
        if ph in ("voting", "awaiting close", "closed")
        else None
    )
    voted = user is not None and lookups.has_voted(db, pid, user.id)
    w = words_for(request)
    labels = [str(o["label"]) for o in p.options]
    mine = None
    if voted and user is not None:
        b = decisions.ballot_of(db, p, user, secret=state.secret)
        if b is not None:
            mine = MyBallotPublic(
                choice=b.choice,
                labels=[labels[i] for i in b.choice if 0 <= i < len(labels)],
                pseudonym=b.pseudonym,
                log_index=b.log_index,
            )
    model = ProposalPublic(
        id=p.id,
        title=p.title,
        body=p.body,
        kind=p.kind,
        method=p.method,
        quorum=p.quorum,
        phase=ph,
        options=p.options,
        discussion_until=p.discussion_until,
        voting_until=p.voting_until,
        ballots=len(ballots),
        comments=[CommentPublic(author=name, body=c.body, at=c.created_at) for c, name in comments],
        outcome=p.outcome,
        tally=running,
        voted=voted,
        rules=_rules(state, db),
        kind_words=w.kind(p.kind),
        method_words=w.method(p.method),
        method_rule=w.method_rule(p.method),
        phase_words=w.phase(ph),
        option_words=[w.effect(p.kind, o.get("effect")) for o in p.options],
        my_ballot=mine,
        errors=errors or {},
        typed=typed or {},
    )
    status = 422 if errors else 200
    return render(request, "proposal.html", model, user=user, w=w, status_code=status)


async def _form(request: Request) -> dict[str, Any]:
    """Every field of a posted form (typed proposal forms have a field per option)."""
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return {}
    data = await request.form()
    return {k: v for k, v in data.multi_items() if isinstance(v, str)}


FormFields = Annotated[dict[str, Any], Depends(_form)]

#: fields a rule of voting may name in its refusal
_RULE_FIELDS = ("discussion_hours", "voting_hours", "method", "title")


def _field_of(message: str) -> str:
    for f in _RULE_FIELDS:
        if f"`{f}`" in message or message.startswith(f):
            return f
    return "options"


def _refuse_form(
    request: Request,
    db: Any,
    state: AppState,
    user: Any,
    kind: str,
    values: dict[str, Any],
    errors: dict[str, str],
) -> Response:
    """A refused proposal: JSON ``{"ok": false, "error": "field: why"}`` for clients; for a
    browser, the form again with what was typed and each error next to its field (422)."""
    field, why = next(iter(errors.items()))
    if "application/json" in request.headers.get("accept", ""):
        raise HTTPException(status_code=422, detail=f"{field}: {why}")
    db.rollback()
    form = ProposalFormPublic(
        kind=kind if kind in FORM_KINDS else "working_week",
        values={k: str(v)[:2000] for k, v in values.items() if k != "csrf_token"},
        errors=errors,
    )
    model = _decisions_model(request, db, state, form, user)
    return render(
        request, "decisions.html", model, user=user, w=words_for(request), status_code=422
    )


#: the answer to a proposal that sends its own quorum
QUORUM_IS_CONFIGURATION = (
    "quorum: the quorum is a rule of configuration (a share of the electorate, at "
    "least two ballots), not set per proposal; leave the field out"
)


def _json_options(options: str, state: Any) -> list[Any]:
    """The options a JSON client sent: a list of ``{"label": text, "effect": object}``."""
    from gosplan.web.deps import load_json

    opts = load_json(options, "options", max_depth=state.settings.max_json_depth)
    if not isinstance(opts, list) or not all(
        isinstance(o, dict)
        and isinstance(o.get("label"), str)
        and isinstance(o.get("effect", {}), dict)
        for o in opts
    ):
        raise HTTPException(
            status_code=422,
            detail='options: must be a JSON list of objects {"label": text, "effect": object}',
        )
    return opts


@router.post(
    "/decisions",
    dependencies=[Depends(check_csrf)],
    response_model=Created,
    status_code=201,
    responses=REDIRECT,
)
def create_decision(
    request: Request,
    db: Db,
    state: State,
    user: CurrentUser,
    fields: FormFields,
    title: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    options: Annotated[
        str | None,
        Form(
            description=(
                "JSON list of {label, effect}, for clients; a browser sends the typed form "
                "instead: label_N and, by kind, hours_N (working_week), share_N_FUND in per "
                "cent (fund_split), product_N or purpose_N with change_N in per cent"
            )
        ),
    ] = None,
    body: Annotated[str, Form()] = "",
    method: Annotated[str, Form()] = "approval",
    quorum: Annotated[str | None, Form(description="refused: the quorum is configuration")] = None,
    discussion_hours: Annotated[str | None, Form(max_length=40)] = None,
    voting_hours: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    """Make a proposal.  Discussion and voting last at least the configured minimum hours
    (a proposer may ask for longer); the quorum is configuration and may not be sent.

    Options come as JSON (``options``, for clients) or as the typed form of the kind."""
    if user.role not in ("planner", "delegate"):
        raise HTTPException(
            status_code=403,
            detail="proposals are made by planners and delegates; workers discuss and vote",
        )
    _ = translator(request)
    if quorum is not None:
        raise HTTPException(status_code=422, detail=QUORUM_IS_CONFIGURATION)
    products = [str(x) for x in state.economy.products]
    if options is not None:  # the JSON API
        opts = _json_options(options, state)
    else:
        try:
            kind, opts = proposal_from_form(
                fields,
                _,
                products=products,
                purposes=_purposes(state),
                words=words_for(request),
            )
        except FormErrors as exc:
            return _refuse_form(request, db, state, user, kind, fields, exc.errors)
    try:
        p = decisions.create_proposal(
            db,
            user,
            title=title,
            body=body,
            kind=kind,
            options=opts,
            method=method,
            rules=decisions.Rules.from_settings(state.settings),
            now=state.clock(),
            discussion_hours=discussion_hours or None,
            voting_hours=voting_hours or None,
            products=products,
        )
        db.commit()  # no write lock may outlive the route (SQLite: one writer at a time)
    except GosplanError as exc:
        if options is None:
            return _refuse_form(
                request, db, state, user, kind, fields, {_field_of(str(exc)): str(exc)}
            )
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    if wants_json(request) or "application/json" in request.headers.get("accept", ""):
        return Response(
            Created(id=p.id).model_dump_json(), media_type="application/json", status_code=201
        )
    return RedirectResponse(f"/decisions/{p.id}", status_code=303)


@router.post(
    "/decisions/{pid:int}/comments",
    dependencies=[Depends(check_csrf)],
    response_class=RedirectResponse,
    status_code=303,
)
def add_comment(
    pid: int,
    request: Request,
    db: Db,
    state: State,
    user: CurrentUser,
    body: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    p = _get(db, pid)
    _ = translator(request)
    if not body.strip():
        if "application/json" in request.headers.get("accept", ""):
            raise HTTPException(status_code=422, detail="body: a comment cannot be empty")
        return _proposal_page(
            pid, request, db, state, user, {"body": _("write something to comment")}
        )
    try:
        decisions.comment(db, p, user, body, now=state.clock())
        db.commit()
    except GosplanError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    return RedirectResponse(f"/decisions/{pid}", status_code=303)


@router.post(
    "/decisions/{pid:int}/vote",
    dependencies=[Depends(check_csrf)],
    response_model=Ok,
    responses=REDIRECT,
)
def vote(
    pid: int,
    request: Request,
    db: Db,
    state: State,
    user: CurrentUser,
    choice: Annotated[list[int], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    request.app.state.limiter.hit(client_key(request), "voting", state.settings.rate_limit_voting)
    p = _get(db, pid)
    _ = translator(request)
    try:
        decisions.cast_vote(db, p, user, choice, secret=state.secret, now=state.clock())
        db.commit()
    except users.NotEnrolled as exc:
        raise HTTPException(status_code=403, detail=f"choice: {exc}") from exc
    except GosplanError as exc:
        code = 409 if "already voted" in str(exc) or "not open" in str(exc) else 422
        if code == 422 and "application/json" not in request.headers.get("accept", ""):
            db.rollback()
            why = (
                _("approve at least one option")
                if not choice
                else _("rank each option once, every option")
                if p.method == "schulze"
                else _("choose among the options listed")
            )
            return _proposal_page(pid, request, db, state, user, {"choice": why})
        raise HTTPException(status_code=code, detail=f"choice: {exc}") from exc
    if "application/json" in request.headers.get("accept", ""):
        return Response(Ok().model_dump_json(), media_type="application/json")
    return RedirectResponse(f"/decisions/{pid}", status_code=303)


@router.post(
    "/decisions/{pid:int}/close",
    dependencies=[Depends(check_csrf)],
    response_class=RedirectResponse,
    status_code=303,
)
def close_decision(pid: int, db: Db, state: State, user: CurrentUser) -> Response:
    """Close a vote whose deadline has passed: anyone signed in may; nobody may before."""
    p = _get(db, pid)
    try:
        decisions.close(db, p, now=state.clock())
        db.commit()
    except GosplanError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    return RedirectResponse(f"/decisions/{pid}", status_code=303)


class Enrolled(BaseModel):
    ok: bool = True
    username: str
    enrolled_by: str | None
    electorate: int


@router.post(
    "/people/{username}/enrol",
    dependencies=[Depends(check_csrf)],
    response_model=Enrolled,
    responses=REDIRECT,
)
def enrol(
    username: Annotated[str, Path(max_length=64)], request: Request, db: Db, user: CurrentUser
) -> Response:
    """A registrar enrols a person as a voter (public; nobody enrols themselves)."""
    try:
        person = users.enrol(db, user, username)
        db.commit()
    except users.PermissionDenied as exc:
        raise HTTPException(status_code=403, detail=f"username: {exc}") from exc
    except GosplanError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    model = Enrolled(
        username=person.username, enrolled_by=person.enrolled_by, electorate=users.electorate(db)
    )
    if "application/json" in request.headers.get("accept", ""):
        return Response(model.model_dump_json(), media_type="application/json")
    return RedirectResponse("/decisions", status_code=303)
