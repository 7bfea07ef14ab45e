"""Fulfilment reports are caches of the log: rows rewritten behind it are named.

An operator with the database (there are no triggers on reports to drop) lowers a
report's hours, changes an input line, backdates a report's receipt to remove its
late flag, deletes one report and slips in another; ``log verify --store``
recomputes every batch's digest from the rows and names each one.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from gosplan.cli import main
from gosplan.config import Settings
from gosplan.core.economy import Economy
from gosplan.services.fulfilment import store as ful
from gosplan.services.publiclog import state
from gosplan.services.publiclog.state_reports import batch_ids_field, report_digest
from gosplan.storage.base import session_scope
from tests.conftest import STORE_KINDS

NOW = dt.datetime(2027, 2, 1, 12, 0)
START = "2027-01-04"


def _report(ent: str, period: str, output: float, hours: float, *lines: tuple) -> list[dict]:
    rows = [
        {"enterprise": ent, "period": period, "kind": "output", "quantity": output},
        {"enterprise": ent, "period": period, "kind": "hours", "quantity": hours},
    ]
    rows += [
        {"enterprise": ent, "period": period, "kind": k, "counterparty": c, "quantity": q}
        for k, c, q in lines
    ]
    return rows


def _store_reports(engine: Engine) -> dict[str, int]:
    """A register of three enterprises and two batches of reports; report ids by name."""
    eco = Economy.from_coefficients(
        np.array([[0.1, 0.3], [0.2, 0.1]]),
        [2.0, 1.0],
        products=["grain", "steel"],
        output=[100.0, 200.0],
    )
    with session_scope(engine) as s:
        ful.register_sectors(s, eco)
        ful.register_enterprise(s, "F1", sector="grain", capacity=1.0, now=NOW)
        ful.register_enterprise(s, "F2", sector="grain", capacity=3.0, now=NOW)
        ful.register_enterprise(s, "S1", sector="steel", capacity=1.0, now=NOW)
        ful.adopt_plan(
            s,
            name="2027",
            freq="week",
            start=START,
            periods=8,
            sector_output={"grain": 800.0, "steel": 80.0},
            now=NOW,
        )
    first = pd.DataFrame(
        _report("S1", START, 10.0, 15.0, ("input", "F1", 2.5), ("delivery", "F2", 4.0))
        + _report("F1", START, 25.0, 50.0, ("delivery", "S1", 2.5))
        + _report("F2", START, 70.0, 140.0)
    )
    second = pd.DataFrame(
        _report("S1", "2027-01-11", 0.1, 30.0, ("input", "F1", 1e-7))
        + _report("S1", START, 11.0, 15.0, ("input", "F1", 2.5))  # a correction
    )
    with session_scope(engine) as s:
        a = ful.ingest(s, first, now=NOW)
        b = ful.ingest(s, second, now=NOW + dt.timedelta(days=1))
    assert (a.new, b.new, b.corrected) == (3, 1, 1)
    with session_scope(engine) as s:
        ids = {
            f"{v.enterprise_id}/{v.period}/{v.version}": v.id
            for code in ("F1", "F2", "S1")
            for day in (START, "2027-01-11")
            for v in ful.report_versions(s, code, day)
        }
        eid = {c: ful.report_versions(s, c, START)[0].enterprise_id for c in ("F1", "F2", "S1")}
    s1, f1, f2 = (f"{eid[c]}/2027-01-04" for c in ("S1", "F1", "F2"))
    return {
        "s1": ids[f"{s1}/1"],
        "f1": ids[f"{f1}/1"],
        "f2": ids[f"{f2}/1"],
        "s1w2": ids[f"{eid['S1']}/2027-01-11/1"],
        "s1v2": ids[f"{s1}/2"],
    }


def _differences(engine: Engine) -> list[state.Difference]:
    with session_scope(engine) as s:
        return state.verify_public_state(s).differences


def _verify_cli(settings: Settings) -> tuple[int, dict]:
    env = {
        "GOSPLAN_LOG_KEY_PATH": settings.log_key_path,
        "GOSPLAN_COMMISSION_KEY_PATH": settings.commission_key_path,
        "GOSPLAN_WATCH_KEY_PATH": settings.watch_key_path,
    }
    res = CliRunner().invoke(
        main, ["log", "verify", "--store", "--json", "--db", settings.database_url], env=env
    )
    return res.exit_code, json.loads(res.output)


def test_report_digest_is_the_one_ingestion_stored(engine: Engine, settings: Settings) -> None:
    """The digest recomputed from the rows equals the one ingestion computed from the
    batch (this pins the recomputation to the ingestion's text, repr of floats included)."""
    ids = _store_reports(engine)
    from gosplan.storage.fulfilment import FulReport

    with session_scope(engine) as s:
        stored = s.get(FulReport, ids["s1w2"])
        assert stored is not None
        # F1 is register position 0, grain sector position 0
        assert stored.digest == report_digest(0.1, 30.0, [("input", 0, 0, 1e-7)])
    assert batch_ids_field([4, 5, 6]) == {}
    assert batch_ids_field([4, 6, 5, 9]) == {"report_ids": [4, 5, 6, 9]}


@pytest.mark.parametrize("database_url", STORE_KINDS, indirect=True)
def test_untampered_reports_pass(engine: Engine, settings: Settings) -> None:
    _store_reports(engine)
    assert _differences(engine) == []
    code, out = _verify_cli(settings)
    assert code == 0, out
    assert out["state"]["checked"]["fulfilment reports"] == 5


@pytest.mark.parametrize("database_url", STORE_KINDS, indirect=True)
def test_reports_rewritten_behind_the_log_are_named(engine: Engine, settings: Settings) -> None:
    ids = _store_reports(engine)
    with engine.begin() as conn:
        # hours lowered, to pass the hours-per-output check
        conn.execute(text("UPDATE ful_report SET hours = 5 WHERE id = :i"), {"i": ids["f1"]})
        # an input line lowered, to pass the input-norm check
        conn.execute(
            text("UPDATE ful_report_line SET quantity = 0.5 WHERE report_id = :i"),
            {"i": ids["s1v2"]},
        )
        # a late report backdated, to remove its late flag
        conn.execute(
            text("UPDATE ful_report SET received_at = :t WHERE id = :i"),
            {"t": dt.datetime(2027, 1, 10), "i": ids["f2"]},
        )
        # one report deleted, another slipped in
        conn.execute(text("DELETE FROM ful_report_line WHERE report_id = :i"), {"i": ids["s1w2"]})
        conn.execute(text("DELETE FROM ful_report WHERE id = :i"), {"i": ids["s1w2"]})
        conn.execute(
            text(
                "INSERT INTO ful_report (id, enterprise_id, period, version, digest, output, "
                "hours, submitted_at, received_at, source) SELECT :n, enterprise_id, "
                "'2027-01-18', 1, digest, output, hours, submitted_at, received_at, source "
                "FROM ful_report WHERE id = :i"
            ),
            {"n": ids["s1v2"] + 10, "i": ids["f2"]},
        )
    diffs = _differences(engine)
    names = [str(d) for d in diffs]
    by_key = {(d.table, d.key): d.problem for d in diffs}
    assert "changed" in by_key[("ful_report", str(ids["f1"]))], names
    assert "changed" in by_key[("ful_report", str(ids["s1v2"]))], names
    assert "received at 2027-01-10" in by_key[("ful_report", str(ids["f2"]))], names
    assert "deleted" in by_key[("ful_report", str(ids["s1w2"]))], names
    assert "inserted" in by_key[("ful_report", str(ids["s1v2"] + 10))], names
    code, out = _verify_cli(settings)
    assert code != 0
    assert {(d["table"], d["key"]) for d in out["state"]["differences"]} >= {
        ("ful_report", str(ids["f1"])),
        ("ful_report", str(ids["s1w2"])),
    }


def test_a_rewrite_that_keeps_each_digest_is_named_by_its_batch(
    engine: Engine, settings: Settings
) -> None:
    """An operator who rewrites a report and its stored digest together still breaks the
    batch's logged digest: the batch's reports are named."""
    ids = _store_reports(engine)
    forged = report_digest(10.0, 1.0, [("delivery", 1, 1, 4.0), ("input", 0, 0, 2.5)])
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE ful_report SET hours = 1, digest = :d WHERE id = :i"),
            {"d": forged, "i": ids["s1"]},
        )
    diffs = _differences(engine)
    first, last = min(ids["s1"], ids["f1"], ids["f2"]), max(ids["s1"], ids["f1"], ids["f2"])
    assert [(d.table, d.key) for d in diffs] == [("ful_report", f"{first}..{last}")], diffs
    assert "log entry" in diffs[0].problem


def test_line_order_does_not_change_the_digest() -> None:
    """``report_digest`` sorts the lines itself: order of the rows does not matter."""
    a = report_digest(1.0, 2.0, [("input", 1, 0, 2.0), ("delivery", 0, 1, 3.0)])
    b = report_digest(1.0, 2.0, [("delivery", 0, 1, 3.0), ("input", 1, 0, 2.0)])
    assert a == b
    assert a != report_digest(1.0, 2.0, [("delivery", 0, 1, 3.0)])


def test_a_negative_zero_survives_the_store(engine: Engine, settings: Settings) -> None:
    """ "-0" is a valid quantity; SQLite stores it as 0.0, so ingestion digests 0.0 and
    a delegate cannot make the verifier cry wolf with it."""
    ids = _store_reports(engine)
    frame = pd.DataFrame(_report("F1", "2027-01-11", "-0.0", "8", ("input", "S1", "-0.0")))
    with session_scope(engine) as s:
        assert ful.ingest(s, frame, now=NOW + dt.timedelta(days=2)).new == 1
    assert _differences(engine) == []
    assert ids
