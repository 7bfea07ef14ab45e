"""The pages in Brazilian Portuguese and English: chosen by Accept-Language or the switch."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gosplan.web import i18n
from gosplan.web.app import create_app

from .conftest import make_settings, small_economy_dir


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
