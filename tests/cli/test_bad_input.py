"""A newcomer's mistakes (issue 12): every bad or odd input answered well.

Each case runs the real ``gosplan`` command on inputs made here (from the real
files in ``../shared/data`` where the case needs one) against a copy of a real
store, and asserts three things: the message names the culprit (matched on a
key phrase, whitespace-normalised so that no terminal width matters), the
exit code, and that the store's bytes (sha256) did not change.  The few odd
inputs that must be *read* (a semicolon CSV, a UTF-16 TOML, a replayed
approval) assert exit 0 and the unchanged store in the same way.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import sqlite3
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gosplan.cli import main
from tests.conftest import _data_dir

ROOT = Path(__file__).resolve().parents[2]
TOY = ROOT / "tests" / "data" / "generic" / "toy.csv"
HEADER = "enterprise,period,kind,quantity,counterparty,product,submitted_at\n"


# --------------------------------------------------------------------------- running
def _env(keys: Path) -> dict[str, str]:
    return {
        "GOSPLAN_LOG_KEY_PATH": str(keys / "log.key"),
        "GOSPLAN_COMMISSION_KEY_PATH": str(keys / "commission.key"),
        "GOSPLAN_SECRET_KEY_PATH": str(keys / "session.key"),
        "COLUMNS": "200",
    }


def _run(args: list[str], keys: Path) -> Result:
    return CliRunner().invoke(main, args, env=_env(keys), catch_exceptions=True)


def _flat(text: str) -> str:
    """Output with line wrapping undone."""
    return " ".join(text.split())


def _ok(args: list[str], keys: Path) -> Result:
    res = _run(args, keys)
    assert res.exit_code == 0, (args, res.output, res.exception)
    return res


def _settle(db: Path) -> None:
    """Fold the write-ahead log into the file, so its bytes are the store's."""
    con = sqlite3.connect(db)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def _sha(path: Path) -> str | None:
    """The store's bytes, with anything still in its write-ahead log folded in first (so a
    write that only reached the log counts as a change)."""
    if not path.exists():
        return None
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size:
        _settle(path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- stores
def _separation_of_duties() -> bool:
    """Whether the ledger's faces record per person with members, recorders and approvers
    (issue 11's separation of duties): then recording names --by, approval --as."""
    import click

    accounts = main.get_command(click.Context(main), "accounts")
    return "member" in getattr(accounts, "commands", {})


def _recorded_by() -> list[str]:
    return ["--by", "delegate"] if _separation_of_duties() else []


def _approve(key: str, db: str) -> list[str]:
    if _separation_of_duties():
        return ["accounts", "approve", "1", "--as", "planner", "--key", key, "--db", db]
    return ["accounts", "approve", "mill", "--period", "p1", "--key", key, "--db", db]


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three real stores, built once through the CLI: a ledger, a fulfilment register
    (a population simulated from the toy table) and a criticism channel."""
    root = tmp_path_factory.mktemp("templates")
    keys = root / "keys"
    keys.mkdir()
    acc = f"sqlite:///{root / 'accounts.db'}"
    _ok(["accounts", "open", "person", "ana", "bea", "--db", acc], keys)
    _ok(["accounts", "open", "enterprise", "mill", "--db", acc], keys)
    _ok(
        ["accounts", "period", "open", "p1", "--rate", "0.3", "--share", "health=1", "--db", acc],
        keys,
    )
    _ok(["accounts", "catalogue", "add", "bread", "0.5", "--stock", "10", "--db", acc], keys)
    if _separation_of_duties():
        _ok(
            ["accounts", "member", "add", "mill", "ana", "bea", "--by", "registry", "--db", acc],
            keys,
        )
    _ok(
        [
            "accounts",
            "record",
            "mill",
            "--period",
            "p1",
            "--person",
            "ana",
            "--hours",
            "5",
            "--key",
            "rec-1",
            *_recorded_by(),
            "--db",
            acc,
        ],
        keys,
    )
    _ok(_approve("ap-1", acc), keys)
    ful = f"sqlite:///{root / 'fulfilment.db'}"
    _ok(
        [
            "fulfilment",
            "simulate",
            "--source",
            str(TOY),
            "--enterprises",
            "8",
            "--periods",
            "6",
            "--store",
            "--db",
            ful,
            "--now",
            "2030-01-01",
        ],
        keys,
    )
    crit = f"sqlite:///{root / 'criticism.db'}"
    _ok(["appointments", "add-person", "HEAD", "Shop head Sidorov", "--db", crit], keys)
    _ok(
        [
            "criticism",
            "file",
            "--target",
            "HEAD",
            "--content",
            "the lathe is idle",
            "--receipt",
            str(root / "receipt-0.json"),
            "--db",
            crit,
        ],
        keys,
    )
    for name in ("accounts", "fulfilment", "criticism"):
        _settle(root / f"{name}.db")
    return root


@dataclass
class Ctx:
    """What a case builds its command line from."""

    tmp: Path
    keys: Path
    store: Path  # the store file the case must leave unchanged (may not exist)

    @property
    def db(self) -> str:
        return f"sqlite:///{self.store}"

    @property
    def data(self) -> Path:
        return _data_dir()

    def write(self, name: str, text: str, encoding: str = "utf-8") -> str:
        p = self.tmp / name
        p.write_bytes(text.encode(encoding))
        return str(p)


@dataclass
class Case:
    id: str
    args: Callable[[Ctx], list[str]]
    phrases: list[str]  # regular expressions, all of which the output must contain
    exit_code: int = 1
    store: str | None = None  # template copied to ctx.store: accounts, fulfilment, criticism
    check: Callable[[Ctx, Result], None] | None = None
    marks: list[pytest.MarkDecorator] = field(default_factory=list)


# --------------------------------------------------------------------------- inputs
def _toy(ctx: Ctx, name: str, old: str, new: str) -> str:
    text = TOY.read_text(encoding="utf-8")
    assert old in text
    return ctx.write(name, text.replace(old, new))


def _reports(ctx: Ctx, quantity: str = "1", period: str = "2024-01-08") -> str:
    return ctx.write(
        "reports.csv",
        HEADER + f"E000000,{period},output,{quantity},,,\nE000000,{period},hours,1,,,\n",
    )


def _uk_1984(ctx: Ctx, delimiter: str, encoding: str) -> str:
    """The real UK 1984 table rewritten with another delimiter or encoding."""
    src = ctx.data / "uk-1984" / "UK-1984.csv"
    rows = list(csv.reader(io.StringIO(src.read_text(encoding="utf-8-sig"))))
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    folder = ctx.tmp / f"{delimiter.encode().hex()}-{encoding}"
    folder.mkdir()
    out = folder / "UK-1984.csv"
    out.write_bytes(buf.getvalue().encode(encoding))
    return str(out)


def _truncated_sheet(ctx: Ctx) -> str:
    """The real Swedish workbook with the XML of one sheet cut in half (the zip is valid)."""
    src = ctx.data / "sweden-2008-2016" / "scb-nrio-sut-181108.xlsx"
    out = ctx.tmp / "scb-nrio-sut-truncated.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = data[: len(data) // 2]
            zout.writestr(info, data)
    return str(out)


def _plan_toml(ctx: Ctx, body: str, encoding: str = "utf-8") -> str:
    return ctx.write("plan.toml", body, encoding)


TOY_PLAN = (
    f'[economy]\nsource = "{TOY.as_posix()}"\n[plan]\nmode = "leontief"\n'
    "[population]\npopulation = 1000\n"
)


def _same_values_as_the_original(ctx: Ctx, res: Result) -> None:
    out = Path(ctx.tmp / "values.csv").read_text()
    ref = ctx.tmp / "reference.csv"
    _ok(["values", str(ctx.data / "uk-1984" / "UK-1984.csv"), "--csv", str(ref)], ctx.keys)
    assert out == ref.read_text()


def _warning_on_stderr_only(ctx: Ctx, res: Result) -> None:
    assert "xlrd" not in res.stdout and "WARNING" not in res.stdout
    assert re.search(r"warning: reading .*ioats.*xlrd says .*file size", _flat(res.stderr))
    assert "United Kingdom 2015" in res.stdout


def _nothing_written(*names: str) -> Callable[[Ctx, Result], None]:
    def check(ctx: Ctx, res: Result) -> None:
        for name in names:
            assert not (ctx.tmp / name).exists(), name

    return check


def _reference_kept(ctx: Ctx, res: Result) -> None:
    assert not list(ctx.tmp.glob("receipt-*.json"))


def _no_store_made(ctx: Ctx, res: Result) -> None:
    assert not ctx.store.exists()


# --------------------------------------------------------------------------- the cases
SHARED = [pytest.mark.shared_data]
CASES: list[Case] = [
    # ---- Bad: exit 0 on nonsense, or state changed
    *[
        Case(
            f"fulfilment ingest quantity {q}",
            lambda c, q=q: [
                "fulfilment",
                "ingest",
                _reports(c, quantity=q),
                "--db",
                c.db,
                "--now",
                "2030-01-01",
            ],
            [
                r"line 2: report of enterprise 'E000000' for period 2024-01-08, field `quantity` "
                r"\(output\): '?" + re.escape(q) + r"'? is not a (finite )?number",
                "nothing was stored",
            ],
            store="fulfilment",
        )
        for q in ("1e400", "inf", "-inf", "nan", "1e308")
    ],
    Case(
        "criticism file --receipt into a missing folder",
        lambda c: [
            "criticism",
            "file",
            "--target",
            "HEAD",
            "--content",
            "again idle",
            "--receipt",
            "/no/such/dir/r.json",
            "--db",
            c.db,
        ],
        [r"Invalid value for '--receipt'", r"folder '/no/such/dir' does not exist"],
        exit_code=2,
        store="criticism",
        check=_reference_kept,
    ),
    *[
        Case(
            f"accounts {cmd} on a mistyped store",
            lambda c, cmd=cmd: ["accounts", cmd, "--db", c.db],
            [r"there is no store at '.*typo\.db'", r"gosplan db upgrade --url sqlite:///"],
            store=None,
            check=_no_store_made,
        )
        for cmd in ("check", "list")
    ],
    *[
        Case(
            f"accounts {cmd} on a folder URL",
            lambda c, cmd=cmd: ["accounts", cmd, "--db", f"sqlite:///{c.tmp}"],
            [r"names the folder '.*', not a file"],
            store="accounts",
        )
        for cmd in ("check", "list")
    ],
    Case(
        "analyse --years backwards",
        lambda c: ["analyse", str(TOY), "--years", "2014-2000"],
        [
            r"Invalid value for '--years'",
            r"the range '2014-2000' runs backwards; write "
            r"2000-2014",
        ],
        exit_code=2,
    ),
    Case(
        "values --year the file does not hold",
        lambda c: ["values", str(TOY), "--year", "1850"],
        [r"toy\.csv': holds one table, of year 2024; it has no year 1850"],
    ),
    Case(
        "plan with a negative growth below -1",
        lambda c: [
            "plan",
            _plan_toml(c, TOY_PLAN + "[targets.growth]\npersonal = -2.0\n"),
            "--out",
            str(c.tmp / "out"),
        ],
        [
            r"\[targets.growth\] personal must be above -1 and at most 1; got -2.0",
            "would make targets zero or negative",
        ],
        check=_nothing_written("out"),
    ),
    Case(
        "plan from an empty TOML",
        lambda c: ["plan", _plan_toml(c, ""), "--out", str(c.tmp / "out")],
        [r"plan.toml: the plan configuration is empty"],
        check=_nothing_written("out"),
    ),
    Case(
        "values with a zero labour row",
        lambda c: ["values", _toy(c, "zero.csv", "labour,30,12,40", "labour,0,0,0")],
        [r"`labour` of Economy is zero for every one of the 3 products"],
    ),
    Case(
        "values with flows of 1e308",
        lambda c: ["values", _toy(c, "huge.csv", "grain,10,0,40", "grain,1e308,0,1e308")],
        [
            r"huge\.csv', row 8, column B \('grain'\): expected a flow from 'grain' to 'grain' "
            r"\(write 0 for none\), found 1e\+308, beyond 1e\+100 in magnitude"
        ],
    ),
    Case(
        "values --top -3",
        lambda c: ["values", str(TOY), "--top", "-3"],
        [r"Invalid value for '--top': -3 is not in the range x>=1"],
        exit_code=2,
    ),
    # ---- Weak: traceback or vague
    Case(
        "a truncated sheet XML inside a valid xlsx",
        lambda c: ["values", _truncated_sheet(c)],
        [r"scb-nrio-sut-truncated\.xlsx', sheet '\d{4}': the sheet's XML is damaged"],
        marks=SHARED,
    ),
    Case(
        "xlrd's warnings go to stderr",
        lambda c: ["values", _padded_xls(c), "--top", "1"],
        [r"United Kingdom 2015"],
        exit_code=0,
        check=_warning_on_stderr_only,
        marks=SHARED,
    ),
    Case(
        "values takes the --read-option its messages advise",
        lambda c: ["values", str(TOY), "--read-option", "zero_output=drop"],
        [r"Toyland 2024: 3 products"],
        exit_code=0,
    ),
    *[
        Case(
            f"a {what} CSV is read",
            lambda c, d=d, e=e: ["values", _uk_1984(c, d, e), "--csv", str(c.tmp / "values.csv")],
            [r"wrote .*values\.csv"],
            exit_code=0,
            check=_same_values_as_the_original,
            marks=SHARED,
        )
        for what, d, e in [
            ("semicolon", ";", "utf-8"),
            ("tab-delimited", "\t", "utf-8"),
            ("UTF-16", ",", "utf-16"),
        ]
    ],
    Case(
        "values with a labour row of 1e308",
        lambda c: ["values", _toy(c, "lab.csv", "labour,30,12,40", "labour,1e308,12,40")],
        [
            r"lab\.csv', row 11, column B \('grain'\): expected labour of 'grain', found "
            r"1e\+308, beyond 1e\+100"
        ],
    ),
    *[
        Case(
            f"values {opt} into a missing folder",
            lambda c, opt=opt: ["values", str(TOY), opt, str(c.tmp / "missing" / "v.out")],
            [
                f"Invalid value for '{opt}': cannot write there: the folder '.*missing' does not "
                "exist"
            ],
            exit_code=2,
        )
        for opt in ("--csv", "--parquet", "--chart")
    ],
    Case(
        "analyse --csv into a folder",
        lambda c: ["analyse", str(TOY), "--csv", str(c.tmp)],
        [r"Invalid value for '--csv': cannot write there: '.*' is a directory"],
        exit_code=2,
    ),
    Case(
        "--read-option bogus=1",
        lambda c: ["analyse", str(TOY), "--read-option", "bogus=1"],
        [
            r"unknown reader option\(s\) \['bogus'\]; the generic reader takes "
            r"\['sheet', 'zero_output'\]"
        ],
    ),
    Case(
        "values --read-option bogus=1",
        lambda c: ["values", str(TOY), "--read-option", "bogus=1"],
        [r"unknown reader option\(s\) \['bogus'\]"],
    ),
    Case(
        "a TOML starting with a UTF-16 BOM is read",
        lambda c: [
            "plan",
            _plan_toml(c, TOY_PLAN, "utf-16"),
            "--out",
            str(c.tmp / "out"),
            "--no-charts",
        ],
        [r"Toyland 2024", r"wrote .*first-year-by-purpose\.csv"],
        exit_code=0,
    ),
    Case(
        "an approval replayed with the same key says so",
        lambda c: _approve("ap-1", c.db),
        [r"replayed: key 'ap-1' .*nothing new was posted"],
        exit_code=0,
        store="accounts",
    ),
    Case(
        "record --csv reports every bad row with file and line",
        lambda c: [
            "accounts",
            "record",
            "mill",
            "--period",
            "p1",
            "--key",
            "rec-2",
            "--csv",
            c.write("hours.csv", "person,hours\nana,-1\nbea,abc\nzoe,5\n"),
            *_recorded_by(),
            "--db",
            c.db,
        ],
        [
            r"3 problem\(s\) in .*hours\.csv; nothing was recorded",
            r"hours\.csv line 2: `hours` for person 'ana' must be positive",
            r"hours\.csv line 3: `hours` for person 'bea' must be a number of hours",
            r"hours\.csv line 4: no person account 'zoe'",
        ],
        store="accounts",
    ),
    Case(
        "record --csv with the same person twice",
        lambda c: [
            "accounts",
            "record",
            "mill",
            "--period",
            "p1",
            "--key",
            "rec-3",
            "--csv",
            c.write("hours.csv", "person,hours\nana,5\nbea,6\nana,7\n"),
            *_recorded_by(),
            "--db",
            c.db,
        ],
        [r"hours\.csv line 4: person 'ana' appears again \(first at line 2\)"],
        store="accounts",
    ),
    Case(
        "catalogue price --ratio 1e308",
        lambda c: [
            "accounts",
            "catalogue",
            "price",
            "bread",
            "--ratio",
            "1e308",
            "--reason",
            "x",
            "--db",
            c.db,
        ],
        [r"Invalid value for '--ratio': must be above 0 and at most 1,000; got '1e308'"],
        exit_code=2,
        store="accounts",
    ),
    Case(
        "catalogue add pricey 1e30",
        lambda c: ["accounts", "catalogue", "add", "pricey", "1e30", "--db", c.db],
        [r"Invalid value for 'LABOUR_VALUE': must be above 0 and at most 10,000,000; got '1e30'"],
        exit_code=2,
        store="accounts",
    ),
    Case(
        "period open --rate 1e400",
        lambda c: [
            "accounts",
            "period",
            "open",
            "p2",
            "--rate",
            "1e400",
            "--share",
            "health=1",
            "--db",
            c.db,
        ],
        [r"Invalid value for '--rate': must be a finite number; got '1e400'"],
        exit_code=2,
        store="accounts",
    ),
    Case(
        "period open --share health=abc",
        lambda c: [
            "accounts",
            "period",
            "open",
            "p2",
            "--rate",
            "0.3",
            "--share",
            "health=abc",
            "--db",
            c.db,
        ],
        [r"Invalid value for --share: 'health=abc': must be a number; got 'abc'"],
        exit_code=2,
        store="accounts",
    ),
    Case(
        "deliver more units than a store can count",
        lambda c: [
            "accounts",
            "deliver",
            "bread",
            "99999999999999999999",
            "--key",
            "d-1",
            "--db",
            c.db,
        ],
        [
            r"Invalid value for 'QUANTITY': 99999999999999999999 is not in the range "
            r"1<=x<=1000000000"
        ],
        exit_code=2,
        store="accounts",
    ),
    Case(
        "analyse --years on a single-year file",
        lambda c: ["analyse", str(TOY), "--years", "2000-2014"],
        [r"Invalid value for --years: .*toy\.csv holds a single table"],
        exit_code=2,
    ),
    Case(
        "--db pointing at a text file",
        lambda c: ["accounts", "check", "--db", "sqlite:///" + c.write("notes.txt", "hi")],
        [r"notes\.txt' is not a SQLite database"],
        store="accounts",
    ),
    Case(
        "--db pointing at a truncated store",
        lambda c: ["accounts", "list", "--db", f"sqlite:///{_truncate(c, 20_000)}"],
        [
            r"is a damaged SQLite database: 20000 bytes is not a whole number of its 4096-byte "
            r"pages"
        ],
        store="accounts",
    ),
    Case(
        "--db pointing at a store cut at a page boundary",
        lambda c: ["accounts", "list", "--db", f"sqlite:///{_truncate(c, 3 * 4096)}"],
        [r"is a damaged SQLite database: 12288 bytes where its header counts \d+ pages"],
        store="accounts",
    ),
    Case(
        "--db mysql://",
        lambda c: ["accounts", "check", "--db", "mysql://u:secret@localhost/gosplan"],
        [r"'mysql' is not supported; gosplan stores in SQLite .* or PostgreSQL"],
        store="accounts",
        check=lambda c, r: _absent(r, "secret"),
    ),
    Case(
        "--db notaurl",
        lambda c: ["accounts", "list", "--db", "notaurl"],
        [r"database URL 'notaurl' is not a URL; use sqlite:///FILE"],
        store="accounts",
    ),
    Case(
        "a period written 08/01/2024",
        lambda c: [
            "fulfilment",
            "ingest",
            _reports(c, period="01/08/2024"),
            "--db",
            c.db,
            "--now",
            "2030-01-01",
        ],
        [r"field `period`: '01/08/2024' is not an ISO date \(YYYY-MM-DD"],
        store="fulfilment",
    ),
    Case(
        "--now 08/01/2030",
        lambda c: ["fulfilment", "check", "--db", c.db, "--now", "08/01/2030"],
        [r"`--now` must be an ISO date or date-time"],
        exit_code=2,
        store="fulfilment",
    ),
    Case(
        "a reports CSV with only a header",
        lambda c: [
            "fulfilment",
            "ingest",
            c.write("reports.csv", HEADER),
            "--db",
            c.db,
            "--now",
            "2030-01-01",
        ],
        [r"reports from reports\.csv hold no report \(only a header\?\); nothing was stored"],
        store="fulfilment",
    ),
]


def _padded_xls(ctx: Ctx) -> str:
    """The real ONS workbook with 100 bytes appended: xlrd warns about the file size."""
    out = ctx.tmp / "ons-detailed-ioats-2015-padded.xls"
    out.write_bytes(
        (ctx.data / "uk-2015" / "ons-detailed-ioats-2015-bb18.xls").read_bytes() + b"\0" * 100
    )
    return str(out)


def _truncate(ctx: Ctx, size: int) -> Path:
    out = ctx.tmp / "truncated.db"
    out.write_bytes(ctx.store.read_bytes()[:size])
    return out


def _absent(res: Result, text: str) -> None:
    assert text not in res.output


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_bad_input_is_answered(case: Case, templates: Path, tmp_path: Path) -> None:
    keys = templates / "keys"
    store = tmp_path / "typo.db"
    if case.store is not None:
        store = tmp_path / "store.db"
        shutil.copyfile(templates / f"{case.store}.db", store)
    ctx = Ctx(tmp=tmp_path, keys=keys, store=store)
    before = _sha(store)
    cwd = os.getcwd()
    os.chdir(tmp_path)  # anything written by default (a receipt) lands here
    try:
        res = _run(case.args(ctx), keys)
    finally:
        os.chdir(cwd)
    out = _flat(res.output)
    assert res.exit_code == case.exit_code, (res.output, res.exception)
    if case.exit_code:
        assert res.exception is None or isinstance(res.exception, SystemExit), (
            f"a traceback: {res.exception!r}"
        )
        assert "Traceback" not in res.output
    for phrase in case.phrases:
        assert re.search(phrase, out), (phrase, out)
    assert _sha(store) == before, "the store changed"
    if case.check is not None:
        case.check(ctx, res)


def test_every_case_has_a_distinct_name() -> None:
    names = [c.id for c in CASES]
    assert len(names) == len(set(names))


# --------------------------------------------------------------------------- the roots
# The faces above answer well because one place checks each kind of input; these
# hold those places to it for callers that are not the command line.
def test_the_core_refuses_a_table_that_overflows() -> None:
    import numpy as np

    from gosplan.core.economy import Economy
    from gosplan.errors import ValidationError

    Z = np.array([[1e308, 0.0], [1.0, 1.0]])
    with pytest.raises(
        ValidationError,
        match=r"`Z` of Economy.from_flows has a value beyond "
        r"1e\+100 in magnitude \(1e\+308\) at row 'a'",
    ):
        Economy.from_flows(Z, [1e308, 10.0], [1.0, 1.0], products=["a", "b"])
    with pytest.raises(
        ValidationError,
        match=r"`labour` of Economy.from_flows has values "
        r"beyond 1e\+100 in magnitude at 'b'",
    ):
        Economy.from_flows(np.eye(2), [10.0, 10.0], [1.0, 1e308], products=["a", "b"])
    with pytest.raises(
        ValidationError,
        match=r"`labour` of Economy is zero for every one of "
        r"the 2 products",
    ):
        Economy.from_flows(np.eye(2), [10.0, 10.0], [0.0, 0.0], products=["a", "b"])


@pytest.mark.parametrize("text", ["08/01/2024", "2024-1-8", "8 January 2024", "", "2024-02-30"])
def test_dates_are_iso_only(text: str) -> None:
    from gosplan.core.validation import parse_iso_date
    from gosplan.errors import ValidationError

    with pytest.raises(ValidationError, match="`period`"):
        parse_iso_date(text, name="period")


@pytest.mark.parametrize("value", ["1e400", "inf", "-inf", "nan", "abc", True, "-3"])
def test_numbers_are_finite_and_bounded(value: object) -> None:
    from gosplan.core.validation import check_number
    from gosplan.errors import ValidationError

    with pytest.raises(ValidationError, match="`top` of show"):
        check_number(value, name="top", lo=0, caller="show")


def test_reader_options_are_the_readers_own() -> None:
    from gosplan.readers.registry import reader_options

    assert reader_options("generic") == {"sheet": None, "zero_output": "error"}
    assert "hours" in reader_options("wiod") and "year" not in reader_options("wiod")


@pytest.mark.parametrize("kind", ["text", "folder", "truncated", "mysql", "notaurl", "missing"])
def test_stores_are_checked_before_anything_is_written(
    kind: str, templates: Path, tmp_path: Path
) -> None:
    from gosplan.errors import StorageError
    from gosplan.storage.base import open_store, upgrade

    path = tmp_path / "store.db"
    url = f"sqlite:///{path}"
    if kind == "text":
        path.write_text("not a database\n")
    elif kind == "folder":
        url = f"sqlite:///{tmp_path}"
    elif kind == "truncated":
        path.write_bytes((templates / "accounts.db").read_bytes()[: 5 * 4096])
    elif kind == "mysql":
        url = "mysql://user@localhost/gosplan"
    elif kind == "notaurl":
        url = "notaurl"
    before = _sha(path)
    with pytest.raises(StorageError, match="db upgrade" if kind == "missing" else "."):
        open_store(url, create=False)
    if kind != "missing":
        with pytest.raises(StorageError):
            upgrade(url)
    assert _sha(path) == before


@pytest.mark.postgres
def test_a_read_only_command_leaves_an_empty_postgres_database_empty(tmp_path: Path) -> None:
    from sqlalchemy import create_engine, inspect

    from gosplan.storage.base import normalise_url
    from tests.conftest import store_url

    for url in store_url("postgres", tmp_path):
        res = _run(["accounts", "check", "--db", url], tmp_path)
        assert res.exit_code == 1, res.output
        assert re.search(
            r"was never set up; bring it to the newest schema with `gosplan db "
            r"upgrade --url postgresql",
            _flat(res.output),
        ), res.output
        engine = create_engine(normalise_url(url))
        try:
            assert inspect(engine).get_table_names() == []
        finally:
            engine.dispose()
