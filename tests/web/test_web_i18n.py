"""The pages in Brazilian Portuguese and English: chosen by Accept-Language or the switch."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gosplan.web import i18n
from gosplan.web.app import create_app

from .conftest import csrf, login, make_settings, small_economy_dir


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    app = create_app(
        make_settings(f"sqlite:///{tmp_path / 'i.db'}", tmp_path, small_economy_dir(tmp_path))
    )
    return TestClient(app)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("pt-BR,pt;q=0.9,en;q=0.8", "pt_BR"),
        ("pt", "pt_BR"),
        ("pt-PT", "pt_BR"),
        ("en-US,en;q=0.9", "en"),
        ("de-DE", "en"),
        ("", "en"),
        ("fr;q=0.9, pt-BR;q=0.5", "pt_BR"),
        ("en;q=0.2, pt-BR;q=0.9", "pt_BR"),
    ],
)
def test_accept_language_picks_the_nearest_supported_locale(header: str, expected: str) -> None:
    assert i18n.negotiate(header) == expected


def test_a_page_follows_accept_language_and_the_switch(client: TestClient) -> None:
    page = client.get("/", headers={"Accept-Language": "pt-BR"})
    assert page.status_code == 200
    assert '<html lang="pt-BR">' in page.text
    assert ">Economia</a>" in page.text
    english = client.get("/", headers={"Accept-Language": "en"})
    assert ">Economy</a>" in english.text
    # the switch sets a cookie that wins over the header, and goes back where it was
    r = client.get(
        "/lang/en?next=/plan", headers={"Accept-Language": "pt-BR"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/plan"
    again = client.get("/", headers={"Accept-Language": "pt-BR"})
    assert ">Economy</a>" in again.text


def test_the_switch_refuses_unknown_languages_and_foreign_targets(client: TestClient) -> None:
    r = client.get("/lang/xx.json")
    assert r.status_code == 404
    assert "code" in r.json()["error"]
    r = client.get("/lang/pt_BR?next=//evil.example/", follow_redirects=False)
    assert r.headers["location"] == "/"


def test_numbers_are_written_the_locale_s_way() -> None:
    assert i18n.format_number("en", 1234.5, 2) == "1,234.50"
    assert i18n.format_number("pt_BR", 1234.5, 2) == "1.234,50"


def test_every_catalog_entry_is_a_marked_message_and_none_is_fuzzy() -> None:
    cat = i18n.catalog("pt_BR")
    assert cat, "the Portuguese catalog is empty"
    assert all(v.strip() for v in cat.values())


# --------------------------------------------------------------------------- catalogs

ROOT = Path(__file__).resolve().parents[2]


def _i18n_script() -> Any:
    """``scripts/i18n.py``: extraction with Babel's API and ``babel.cfg``'s method map."""
    spec = importlib.util.spec_from_file_location("gosplan_i18n_script", ROOT / "scripts/i18n.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def marked() -> dict[str, list[str]]:
    """Every message marked in ``src/gosplan/web`` (templates and Python) → where it is used."""
    from babel.messages.extract import extract_from_dir

    methods, options = _i18n_script().method_map(ROOT / "babel.cfg")
    web = ROOT / "src/gosplan/web"
    out: dict[str, list[str]] = {}
    for filename, lineno, message, _c, context in extract_from_dir(str(web), methods, options):
        msgid = message[0] if isinstance(message, tuple) else message
        out.setdefault(i18n.key(msgid, context), []).append(f"{filename}:{lineno}")
    return out


def test_the_extraction_finds_the_pages_messages(marked: dict[str, list[str]]) -> None:
    # one message of a template and one of Python code: the method map reaches both
    assert any(w.startswith("templates/base.html") for w in marked["Public log"])
    assert any(w.startswith("routes/") for ws in marked.values() for w in ws)
    assert len(marked) > 50


def test_every_marked_message_has_a_portuguese_translation(marked: dict[str, list[str]]) -> None:
    cat = i18n.load("pt_BR")
    missing = {
        m: where
        for m, where in marked.items()
        if not cat.messages.get(m, "").strip() and m not in cat.plurals
    }
    assert not missing, (
        f"{len(missing)} messages have no pt_BR translation "
        "(python scripts/i18n.py todo pt_BR -o todo.po lists them): "
        + "; ".join(f"{m!r} at {', '.join(w)}" for m, w in list(missing.items())[:20])
    )


def test_no_catalog_entry_is_orphaned_or_translated_twice_differently(
    marked: dict[str, list[str]],
) -> None:
    script = _i18n_script()
    for loc in script.locales():
        entries = list(script.po_entries(loc))
        orphaned = {e.msgid: e.po.name for e in entries if e.msgid not in marked}
        assert not orphaned, f"{loc}: catalog entries no page uses any more: {orphaned}"
        fuzzy = [e.msgid for e in entries if e.fuzzy]
        assert not fuzzy, f"{loc}: fuzzy entries are not shown: {fuzzy}"
        rep = script.check(loc)
        assert not rep.conflicting, f"{loc}: one message, two translations: {rep.conflicting}"


_SLOTS = re.compile(r"%\((\w+)\)s|\{(\w+)\}")


def test_translations_keep_the_placeholders_and_format(marked: dict[str, list[str]]) -> None:
    """A translation with a lost or misspelt ``%(name)s`` would break its page (a 500):
    each has the same slots as the English, and formats wherever the English does."""
    for msgid, msgstr in i18n.catalog("pt_BR").items():
        names = sorted(a or b for a, b in _SLOTS.findall(msgid))
        assert sorted(a or b for a, b in _SLOTS.findall(msgstr)) == names, (msgid, msgstr)
        values = {n: "x" for n in names}
        try:
            msgid % values
        except (KeyError, ValueError, TypeError):
            continue  # a message never formatted (Python without variables)
        msgstr % values  # raises if the translation breaks the format (a lone %)


def test_the_script_writes_a_template_and_lists_what_each_locale_lacks(tmp_path: Path) -> None:
    script = _i18n_script()
    pot = tmp_path / "messages.pot"
    assert script.main(["extract", "-o", str(pot)]) == 0
    from babel.messages.pofile import read_po

    with pot.open("rb") as fh:
        template = read_po(fh)
    assert "Public log" in template and "The public log" in template
    assert script.main(["check"]) == 0
    todo = tmp_path / "todo.po"
    assert script.main(["todo", "pt_BR", "-o", str(todo)]) == 0
    with todo.open("rb") as fh:
        assert [m.id for m in read_po(fh) if m.id] == []
    # a message nobody translated yet is listed, with where it is used
    with pot.open("rb") as fh:
        fake = read_po(fh)
    fake.add("A message nobody translated", locations=[("templates/x.html", 3)])
    rep = script.check("pt_BR", fake)
    assert rep.untranslated == {"A message nobody translated": ["templates/x.html:3"]}


# --------------------------------------------------------------------------- the public pages

PT = {"Accept-Language": "pt-BR,pt;q=0.9"}
EN = {"Accept-Language": "en-US,en;q=0.9"}
#: a day as Portuguese writes it ("6 de dez. de 2026"), and as English does ("Dec 6, 2026")
PT_DAY = re.compile(r"\b\d{1,2} de [a-zç]{3,4}\.? de \d{4}\b")
EN_DAY = re.compile(r"\b[A-Z][a-z]{2} \d{1,2}, \d{4}\b")


def _main(html: str) -> str:
    """The words of the page's ``<main>``, tags and runs of spaces removed."""
    body = re.split(r"<main[^>]*>", html, maxsplit=1)[1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_the_public_pages_speak_portuguese_and_english(client: TestClient) -> None:
    ref = client.get("/criticism.json").json()["criticisms"][0]["criticism"]
    org = client.get("/integrity.json").json()["rows"][0]["org"]
    pages = {
        "/": ("Uma economia planejada, às claras", "A planned economy, in the open"),
        "/log": ("O registro público", "The public log"),
        "/log/1": ("Prova de inclusão", "Inclusion proof"),
        "/receipts/verify": ("Conferir um recibo", "Check a receipt"),
        "/criticism": ("Crítica de baixo para cima", "Criticism from below"),
        f"/criticism/{ref}": ("Aberturas da identidade lacrada", "Openings of the sealed identity"),
        "/integrity": ("Registros de integridade", "Integrity records"),
        f"/integrity/{org}": ("Críticas julgadas procedentes", "Criticisms upheld"),
        "/runs": ("O plano vivo: rodadas", "The living plan: runs"),
    }
    for path, (pt, en) in pages.items():
        page = client.get(path, headers=PT)
        assert page.status_code == 200, (path, page.text[:300])
        assert '<html lang="pt-BR">' in page.text, path
        assert pt in _main(page.text) and en not in _main(page.text), path
        english = client.get(path, headers=EN)
        assert '<html lang="en">' in english.text, path
        assert en in _main(english.text) and pt not in _main(english.text), path
    # dates and numbers are written the reader's way
    log = _main(client.get("/log", headers=PT).text)
    assert PT_DAY.search(log) and not EN_DAY.search(log)
    assert EN_DAY.search(_main(client.get("/log", headers=EN).text))
    crit = _main(client.get("/criticism", headers=PT).text)
    assert PT_DAY.search(crit) and "recebida" in crit
    integ = _main(client.get("/integrity", headers=PT).text)
    assert re.search(r"\d,\d–\d{1,3}(\.\d{3})*,\d", integ), integ  # 0,0–30.504,2
    assert re.search(r"\d\.\d–\d{1,3}(,\d{3})*\.\d", _main(client.get("/integrity").text))
    # the words built in Python follow the reader too: a chart's title, an error
    org_page = client.get(f"/integrity/{org}", headers=PT).text
    assert "<title>críticas julgadas procedentes por mil anos-trabalhador</title>" in org_page
    assert client.get(f"/integrity/{org}.json", headers=PT).json()["kinds"][0]["words"] == (
        "criticisms upheld"  # the JSON twin keeps its English words for programs
    )
    missing = client.get("/runs/nope.json", headers=PT)
    assert missing.status_code == 404 and missing.json()["error"].startswith("run: não há rodada")


def test_a_receipt_check_answers_in_the_reader_s_language(client: TestClient) -> None:
    tok = csrf(client)
    ref = client.get("/criticism.json").json()["criticisms"][0]["criticism"]
    receipt = client.get(f"/criticism/{ref}/receipt.json").content
    pt = client.post(
        "/receipts/verify",
        data={"receipt": receipt.decode(), "csrf_token": tok},
        headers=PT,
    )
    assert pt.status_code == 200 and 'class="ok"' in pt.text
    assert f"o recibo da crítica {ref}" in pt.text and " confere: " in pt.text
    en = client.post(
        "/receipts/verify", data={"receipt": receipt.decode(), "csrf_token": tok}, headers=EN
    )
    assert f"receipt for criticism {ref}" in en.text and "verifies" in en.text
    bad = json.loads(receipt)
    bad["entry"]["payload"]["content"] = "Nada está errado."
    r = client.post(
        "/receipts/verify", data={"receipt": json.dumps(bad), "csrf_token": tok}, headers=PT
    )
    assert 'class="error"' in r.text and "NÃO confere" in r.text
    # the JSON answer is for programs: the service's English message, whatever the header
    js = client.post(
        "/receipts/verify",
        data={"receipt": receipt.decode(), "csrf_token": tok},
        headers={**PT, "accept": "application/json"},
    )
    assert js.json()["valid"] is True and "verifies" in js.json()["message"]


def test_the_people_page_names_roles_in_portuguese(client: TestClient) -> None:
    from sqlalchemy.orm import Session

    from gosplan.services import users

    with Session(client.app.state.gosplan.engine) as s:  # type: ignore[attr-defined]
        _, token = users.bootstrap_admin(s, "root")
        users.redeem_setup_token(s, token, "root-password")
        s.commit()
    login(client, "root", "root-password")
    page = client.get("/users", headers=PT)
    assert page.status_code == 200 and "Pessoas e funções" in page.text
    text = _main(page.text)
    assert "comissão de controle" in text and "Código de uso único" in text
    # the form still sends the role's code, whatever its label
    assert '<option value="commission"' in page.text


def test_a_page_that_speaks_portuguese_leaves_no_word_unmarked(tmp_path: Path) -> None:
    """Every template that marks its words marks all of them: no literal English is left in
    its HTML (text or shown attributes) beside ``_()`` (``scripts/i18n.py unmarked``)."""
    script = _i18n_script()
    templates = sorted((ROOT / "src/gosplan/web/templates").glob("**/*.html"))
    speaking = [t for t in templates if "_(" in t.read_text(encoding="utf-8")]
    assert any(t.name == "base.html" for t in speaking)
    left = {t.name: script.unmarked(t) for t in speaking}
    assert not any(left.values()), {k: v for k, v in left.items() if v}
    # the check can fail: a template with a literal sentence beside a marked one
    probe = tmp_path / "probe.html"
    probe.write_text('<p>{{ _("Marked") }}</p>\n<p title="Left out">Also {{ x }} left out</p>')
    assert script.unmarked(probe) == [(2, "Left out"), (2, "Also left out")]


# --------------------------------------------------------------------------- plurals, contexts


def _request(lang: str) -> Any:
    from starlette.requests import Request

    return Request({"type": "http", "headers": [(b"accept-language", lang.encode())]})


def test_plural_forms_follow_each_locale_s_rule() -> None:
    """English says "0 days", Portuguese "0 dia" (Plural-Forms: plural=(n > 1))."""
    one, many = "%(num)s day to put it right", "%(num)s days to put it right"
    assert [i18n.ngettext("en", one, many, n) for n in (0, 1, 3)] == [
        "0 days to put it right",
        "1 day to put it right",
        "3 days to put it right",
    ]
    assert [i18n.ngettext("pt_BR", one, many, n) for n in (0, 1, 3)] == [
        "0 dia para corrigir",
        "1 dia para corrigir",
        "3 dias para corrigir",
    ]


def test_a_context_lets_one_english_word_take_two_portuguese_ones() -> None:
    # a criticism found without ground is "improcedente"; without the context the word
    # stays as written (no other page marks it bare)
    assert i18n.pgettext("pt_BR", "criticism", "rejected") == "improcedente"
    assert i18n.pgettext("pt_BR", "criticism", "upheld") == "procedente"
    assert i18n.pgettext("en", "criticism", "rejected") == "rejected"
    assert i18n.key("rejected", "criticism") not in {i18n.key("rejected")}


def test_templates_choose_plural_forms_and_contexts_for_the_request() -> None:
    from gosplan.web.render import TEMPLATES

    tpl = TEMPLATES.env.from_string(
        '{{ ngettext("%(num)s day to put it right", "%(num)s days to put it right", n) }}|'
        '{{ pgettext("criticism", "rejected") }}'
    )
    assert tpl.render(request=_request("pt-BR"), n=1) == "1 dia para corrigir|improcedente"
    assert tpl.render(request=_request("pt-BR"), n=2) == "2 dias para corrigir|improcedente"
    assert tpl.render(request=_request("en"), n=2) == "2 days to put it right|rejected"


def test_every_plural_translation_keeps_its_placeholders() -> None:
    cat = i18n.load("pt_BR")
    assert cat.plurals, "the catalog holds no plural message"
    for singular, forms in cat.plurals.items():
        names = sorted(a or b for a, b in _SLOTS.findall(singular.split(i18n.CONTEXT_SEP)[-1]))
        for form in forms:
            assert sorted(a or b for a, b in _SLOTS.findall(form)) == names, (singular, form)
