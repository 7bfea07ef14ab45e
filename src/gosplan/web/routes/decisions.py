"""Decisions: proposals, discussion, votes, published tallies."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from gosplan.errors import GosplanError
from gosplan.services import decisions, directory
from gosplan.storage.web import Proposal, utcnow
from gosplan.web.deps import CurrentUser, Db, MaybeUser, State
from gosplan.web.render import render, twin, wants_json
from gosplan.web.security import check_csrf, client_key

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


class DecisionsPublic(BaseModel):
    proposals: list[ProposalSummary]
    adopted: list[dict[str, Any]]
    kinds: list[str]
    methods: list[str]


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


def _summary(p: Proposal, n: int) -> ProposalSummary:
    return ProposalSummary(id=p.id, title=p.title, kind=p.kind, method=p.method,
                           phase=decisions.phase(p), ballots=n, quorum=p.quorum,
                           voting_until=p.voting_until)


@twin(router, "/decisions")
def list_decisions(request: Request, db: Db, user: MaybeUser) -> Response:
    model = DecisionsPublic(proposals=[_summary(p, n) for p, n in directory.proposals(db)],
                            adopted=decisions.adopted_effects(db), kinds=list(decisions.KINDS),
                            methods=list(decisions.METHODS))
    return render(request, "decisions.html", model, user=user)


def _get(db: Any, pid: int) -> Proposal:
    p = db.get(Proposal, pid)
    if p is None:
        raise HTTPException(status_code=404, detail=f"no proposal {pid}")
    return p


@twin(router, "/decisions/{pid:int}")
def show_decision(pid: int, request: Request, db: Db, user: MaybeUser) -> Response:
    p = _get(db, pid)
    comments = directory.comments(db, pid)
    ballots = directory.ballots(db, pid)
    ph = decisions.phase(p)
    running = decisions.tally(p.method, [o["label"] for o in p.options], list(ballots),
                              p.quorum).to_dict() if ph in ("voting", "awaiting close",
                                                             "closed") else None
    voted = user is not None and directory.has_voted(db, pid, user.id)
    model = ProposalPublic(
        id=p.id, title=p.title, body=p.body, kind=p.kind, method=p.method, quorum=p.quorum,
        phase=ph, options=p.options, discussion_until=p.discussion_until,
        voting_until=p.voting_until, ballots=len(ballots),
        comments=[CommentPublic(author=name, body=c.body, at=c.created_at)
                  for c, name in comments],
        outcome=p.outcome, tally=running, voted=voted)
    return render(request, "proposal.html", model, user=user)


@router.post("/decisions", dependencies=[Depends(check_csrf)])
def create_decision(
    request: Request, db: Db, state: State, user: CurrentUser,
    title: Annotated[str, Form()], kind: Annotated[str, Form()],
    options: Annotated[str, Form(description="JSON list of {label, effect}")],
    body: Annotated[str, Form()] = "", method: Annotated[str, Form()] = "approval",
    quorum: Annotated[int, Form(ge=1, le=1_000_000_000)] = 1,
    discussion_hours: Annotated[float, Form(ge=0, le=24 * 366 * 10)] = 24.0,
    voting_hours: Annotated[float, Form(ge=0, le=24 * 366 * 10)] = 48.0,
) -> Response:
    if user.role not in ("planner", "delegate"):
        raise HTTPException(status_code=403, detail="proposals are made by planners and "
                            "delegates; workers discuss and vote")
    from gosplan.web.deps import load_json

    opts = load_json(options, "options", max_depth=state.settings.max_json_depth)
    if not isinstance(opts, list) or not all(
            isinstance(o, dict) and isinstance(o.get("label"), str)
            and isinstance(o.get("effect", {}), dict) for o in opts):
        raise HTTPException(status_code=422, detail="options: must be a JSON list of objects "
                            '{"label": text, "effect": object}')
    now = utcnow()
    try:
        p = decisions.create_proposal(
            db, user, title=title, body=body, kind=kind, options=opts, method=method,
            quorum=quorum, discussion_until=now + dt.timedelta(hours=discussion_hours),
            voting_until=now + dt.timedelta(hours=discussion_hours + voting_hours),
            products=[str(x) for x in state.economy.products])
        db.commit()  # no write lock may outlive the route (SQLite: one writer at a time)
    except GosplanError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    if wants_json(request) or "application/json" in request.headers.get("accept", ""):
        return Response(json.dumps({"ok": True, "id": p.id}), media_type="application/json",
                        status_code=201)
    return RedirectResponse(f"/decisions/{p.id}", status_code=303)


@router.post("/decisions/{pid:int}/comments", dependencies=[Depends(check_csrf)])
def add_comment(pid: int, db: Db, user: CurrentUser, body: Annotated[str, Form()]) -> Response:
    p = _get(db, pid)
    try:
        decisions.comment(db, p, user, body)
        db.commit()
    except GosplanError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    return RedirectResponse(f"/decisions/{pid}", status_code=303)


@router.post("/decisions/{pid:int}/vote", dependencies=[Depends(check_csrf)])
def vote(pid: int, request: Request, db: Db, state: State, user: CurrentUser,
         choice: Annotated[list[int], Form()]) -> Response:
    request.app.state.limiter.hit(client_key(request), "voting",
                                  state.settings.rate_limit_voting)
    p = _get(db, pid)
    try:
        decisions.cast_vote(db, p, user, choice, secret=state.secret)
        db.commit()
    except GosplanError as exc:
        code = 409 if "already voted" in str(exc) or "not open" in str(exc) else 422
        raise HTTPException(status_code=code, detail=str(exc)) from exc
    if "application/json" in request.headers.get("accept", ""):
        return Response(json.dumps({"ok": True}), media_type="application/json")
    return RedirectResponse(f"/decisions/{pid}", status_code=303)


@router.post("/decisions/{pid:int}/close", dependencies=[Depends(check_csrf)])
def close_decision(pid: int, db: Db, user: CurrentUser) -> Response:
    if user.role not in ("planner", "commission"):
        raise HTTPException(status_code=403, detail="only planners or the control commission "
                            "close a vote")
    p = _get(db, pid)
    try:
        decisions.close(db, p)
        db.commit()
    except GosplanError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    return RedirectResponse(f"/decisions/{pid}", status_code=303)
