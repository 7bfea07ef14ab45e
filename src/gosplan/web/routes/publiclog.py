"""The public log: browse every entry, and verify an entry's inclusion proof in the page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from gosplan.errors import GosplanError
from gosplan.services import publiclog
from gosplan.services.publiclog import submissions, witnessing
from gosplan.storage import page_heads
from gosplan.web.deps import Db, MaybeUser, State
from gosplan.web.page_cache import cache_of
from gosplan.web.render import ReceiptPublic, receipt_download, render, twin
from gosplan.web.security import client_host

router = APIRouter(tags=["public log"])
PAGE = 50


class EntryPublic(BaseModel):
    index: int
    kind: str
    time: str
    payload: dict[str, Any]


class HeadPublic(BaseModel):
    tree_size: int
    timestamp: int
    root_hash: str
    signature: str
    public_key: str


class LogPage(BaseModel):
    size: int
    kinds: dict[str, int]
    kind: str
    before: int
    older: int | None
    newer: int | None
    entries: list[EntryPublic]
    head: HeadPublic | None
    public_key: str


class CosignaturePublic(BaseModel):
    witness: str
    key_id: str
    time: str
    verified: bool


class ProofPublic(BaseModel):
    index: int
    leaf_data: str
    leaf_hash: str
    inclusion_proof: list[str]
    tree_size: int
    root_hash: str
    timestamp: int
    signature: str
    public_key: str
    origin: str | None = None
    note: str | None = None
    cosignatures: list[CosignaturePublic] = []
    witnesses_required: int = 0
    witnessed: bool = False


class EntryPage(BaseModel):
    entry: EntryPublic
    proof: ProofPublic
    size: int


def _entry(e: publiclog.LogEntry) -> EntryPublic:
    return EntryPublic(index=e.index, kind=e.kind, time=e.logged_at, payload=e.payload)


@twin(router, "/log", model=LogPage)
def browse(
    request: Request,
    db: Db,
    state: State,
    user: MaybeUser,
    kind: str = "",
    before: int | None = None,
) -> Response:
    """Entries newest first, ``PAGE`` at a time (``before`` an index; ``kind`` a prefix such
    as ``criticism.``)."""
    return cache_of(request).serve(
        request, LOG_TABLES, lambda who: _browse(request, db, state, who, kind, before), user=user
    )


#: what the log's pages read: its size (every entry, every subtree hash) and signed heads
LOG_TABLES = (page_heads.LOG, "publiclog_tree_head", "publiclog_cosignature")


def _browse(
    request: Request, db: Db, state: State, user: Any, kind: str, before: int | None
) -> Response:
    n = publiclog.size(db)
    end = n if before is None else max(0, min(before, n))
    if kind:
        rows = [e for e in publiclog.entries(db, kind_prefix=kind) if e.index < end][-PAGE:]
    else:
        rows = publiclog.entries(db, start=max(0, end - PAGE), limit=PAGE)
    rows = [e for e in rows if e.index < end]
    rows.reverse()
    head = publiclog.latest_signed_head(db)
    oldest = rows[-1].index if rows else 0
    model = LogPage(
        size=n,
        kinds=publiclog.count_by_kind(db),
        kind=kind,
        before=end,
        older=oldest if rows and oldest > 0 else None,
        newer=min(n, end + PAGE) if end < n else None,
        entries=[_entry(e) for e in rows],
        head=HeadPublic(**head.to_json()) if head else None,
        public_key=publiclog.public_key(state.settings).hex(),
    )
    return render(request, "log.html", model, user=user)


@twin(router, "/log/{index:int}", model=EntryPage)
def show_entry(index: int, request: Request, db: Db, state: State, user: MaybeUser) -> Response:
    """One entry with its inclusion proof in the latest signed tree head (verified in the
    page by a small script)."""
    return cache_of(request).serve(
        request, LOG_TABLES, lambda who: _show_entry(index, request, db, state, who), user=user
    )


def _show_entry(index: int, request: Request, db: Db, state: State, user: Any) -> Response:
    try:
        e = publiclog.entry(db, index)
    except GosplanError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    head = publiclog.latest_signed_head(db)
    if head is None or head.tree_size <= index:  # at most one new head per log size
        head = witnessing.publish_head(db, state.settings)
        db.commit()  # no write lock may outlive the route (SQLite: one writer at a time)
    proof = publiclog.inclusion_proof(db, index, head.tree_size)
    pol = witnessing.policy(state.settings)
    good = set(head.cosigned_by(pol.verifiers)) if pol else set()
    cos = [
        CosignaturePublic(
            witness=c.name,
            key_id=c.key_id.hex(),
            time=dt.datetime.fromtimestamp(c.timestamp, dt.UTC).isoformat(),
            verified=c.name in good,
        )
        for c in head.cosignatures
    ]
    model = EntryPage(
        entry=_entry(e),
        size=publiclog.size(db),
        proof=ProofPublic(
            index=index,
            leaf_data=publiclog.leaf_data(e.index, e.kind, e.payload, e.logged_at).decode("utf-8"),
            leaf_hash=bytes(e.leaf_hash).hex(),
            inclusion_proof=[p.hex() for p in proof],
            tree_size=head.tree_size,
            root_hash=head.root_hash.hex(),
            timestamp=head.timestamp,
            signature=head.signature.hex(),
            public_key=head.public_key.hex(),
            origin=head.origin,
            note=head.signed_note() if head.origin else None,
            cosignatures=cos,
            witnesses_required=pol.quorum if pol else 0,
            witnessed=bool(pol) and len(good) >= (pol.quorum if pol else 0),
        ),
    )
    return render(request, "log_entry.html", model, user=user)


@router.get("/log/{index:int}/receipt.json", response_model=ReceiptPublic)
def entry_receipt(index: int, db: Db, state: State) -> Response:
    """A receipt for any entry (checkable at ``/receipts/verify``)."""
    return receipt_download(
        db, lambda: publiclog.receipt(db, index, state.settings), f"receipt-entry-{index}.json"
    )


class CosignatureIn(BaseModel):
    note: str = Field(
        max_length=submissions.MAX_NOTE_CHARS,
        description="The checkpoint as a C2SP signed note carrying the witness's "
        "cosignature/v1 line.",
    )


class CosignatureSubmitted(BaseModel):
    ok: bool
    message: str
    witnesses: list[str]
    tree_size: int | None
    stored: int


@router.post("/log/cosignatures", response_model=CosignatureSubmitted)
def submit_cosignature(body: CosignatureIn, request: Request, db: Db, state: State) -> Response:
    """A registered witness hands in its cosignature of a checkpoint this log signed
    (no session: the signature is the witness's credential; see
    :mod:`gosplan.services.publiclog.submissions`)."""
    request.app.state.limiter.hit(
        f"ip:{client_host(request)}",
        "cosignature",
        5 * state.settings.witness_submissions_per_minute,
    )
    result = submissions.submit_cosignature(db, body.note, state.settings)
    if not result.success:
        db.rollback()
        raise HTTPException(status_code=result.status, detail=result.message)
    db.commit()
    return JSONResponse(result.to_json())
