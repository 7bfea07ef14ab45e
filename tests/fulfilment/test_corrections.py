"""Corrections of reports (issue 15): a correction names the version it corrects, keeps the
lines it does not restate, and closes the alerts it settles, never the others."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from gosplan.services import escalation as esc
from gosplan.services.fulfilment import corrections
from gosplan.services.fulfilment import store as ful
from gosplan.storage import fulfilment as repo
from gosplan.storage.base import session_scope

from .test_ingest import NOW, report, setup_register

WEEKS = ["2027-01-04", "2027-01-11", "2027-01-18", "2027-01-25"]


def _history(engine: Engine, last_output: float) -> None:
    """Steel (S1) makes 10 a week from 2.5 of grain delivered by the farm F1."""
    frames = []
    for i, w in enumerate(WEEKS):
        out = last_output if i == len(WEEKS) - 1 else 10.0
        frames.append(report("S1", w, out, out * 1.5, ("input", "F1", 2.5 * out / 10)))
        frames.append(report("F1", w, 25.0, 50.0, ("delivery", "S1", 2.5 * out / 10)))
        frames.append(report("F2", w, 75.0, 150.0))
    with session_scope(engine) as s:
        ful.ingest(s, pd.concat(frames, ignore_index=True), now=NOW)


def _lines(engine: Engine, report_id: int) -> list[tuple[str, float]]:
    with session_scope(engine) as s:
        return sorted((str(k), float(q)) for _, k, _, _, q in repo.report_lines(s, [report_id]))


def test_a_correction_names_its_version_and_keeps_unstated_lines(
    engine: Engine, log_key: Path
) -> None:
    setup_register(engine)
    _history(engine, last_output=10.0)
    week = WEEKS[-1]
    fix = report("S1", week, 11.0, 16.5)  # output and hours only: the form states no lines
    with session_scope(engine) as s:
        old = ful.report_versions(s, "S1", week)[-1].id
        frame = corrections.carry_lines(s, fix)
        assert list(frame["kind"]) == ["output", "hours", "input"]
        assert frame.iloc[-1]["counterparty"] == "F1" and frame.iloc[-1]["quantity"] == 2.5
        res = ful.ingest(s, frame, now=NOW)
        assert corrections.versions_of(s, "S1")[week] == 2
        assert corrections.versions_of(s, "S1")[WEEKS[0]] == 1
    assert res.corrected == 1 and list(res.corrects.values()) == [old]
    assert _lines(engine, res.report_ids[0]) == [("input", 2.5)]
    # a line restated is not carried; a new report has nothing to carry
    with session_scope(engine) as s:
        again = report("S1", week, 11.0, 16.5, ("input", "F1", 0.0))
        assert len(corrections.carry_lines(s, again)) == 3
        fresh = report("S1", "2027-02-01", 10.0, 15.0)
        assert len(corrections.carry_lines(s, fresh)) == 2


def test_a_correction_settles_only_the_alerts_it_settles(engine: Engine, log_key: Path) -> None:
    setup_register(engine)
    _history(engine, last_output=4.0)  # the last week of steel falls short
    with session_scope(engine) as s:
        run = ful.check(s, as_of=NOW, now=NOW)
        short = [a for a in run.alerts if a.reason.startswith("shortfall") and "S1" in a.subject]
        assert len(short) == 1
        others = {a.id for a in esc.items(s, open_only=True)} - {short[0].id}
    later = NOW + dt.timedelta(hours=1)
    with session_scope(engine) as s:
        frame = corrections.carry_lines(s, report("S1", WEEKS[-1], 9.8, 14.7))
        res = ful.ingest(s, frame, now=later)
        run = ful.check(s, as_of=later, now=later)
        settled = corrections.settle(s, run, res, now=later)
        assert [x.item.id for x in settled] == [short[0].id]
        assert [settled[0].corrects] == list(res.corrects.values())
        item = esc.items(s, ids=[short[0].id])[0]
        assert item.resolved_at is not None and item.resolved_by.startswith("gosplan checks")
        assert f"corrects report {settled[0].corrects}" in (item.resolution or "")
        still = {a.id for a in esc.items(s, open_only=True)}
        assert others <= still  # nothing else was closed
        # no report corrected: nothing to settle
        none = ful.ingest(s, report("F2", WEEKS[-1], 75.0, 150.0), now=later)
        assert corrections.settle(s, run, none, now=later) == []
