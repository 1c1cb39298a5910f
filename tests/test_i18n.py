"""The Indonesian UI: language choice, a complete catalog, and locale-aware figures."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from babel.dates import format_date
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.support import Translations

from conftest import Client, World, batch_input
from registry.catalog import services

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "registry" / "translations"
ID_PO = TRANSLATIONS / "id" / "LC_MESSAGES" / "messages.po"
ID_MO = TRANSLATIONS / "id" / "LC_MESSAGES" / "messages.mo"
POT = TRANSLATIONS / "messages.pot"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")


def _read(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh)


def _messages(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id]


def _html_lang(html: str) -> str | None:
    match = re.search(r'<html lang="([^"]+)"', html)
    return match.group(1) if match else None


# ---------------------------------------------------------------- choosing the language


def test_login_page_in_indonesian_from_accept_language(client: Client) -> None:
    html = client.get("/login", headers={"Accept-Language": "id-ID,id;q=0.9"}).get_data(
        as_text=True)
    assert _html_lang(html) == "id"
    assert "<h1>Masuk</h1>" in html
    assert "Surel" in html and "Kata sandi" in html
    assert "Sign in" not in html and "Password" not in html


def test_login_page_in_english_from_accept_language(client: Client) -> None:
    html = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(
        as_text=True)
    assert _html_lang(html) == "en"
    assert "<h1>Sign in</h1>" in html
    assert "Password" in html
    assert "Kata sandi" not in html


def test_unsupported_language_falls_back_to_english(client: Client) -> None:
    html = client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert _html_lang(html) == "en"


def test_lang_switch_persists_in_the_session(client: Client, world: World) -> None:
    english = {"Accept-Language": "en"}
    assert "<h1>Masuk</h1>" in client.get("/login?lang=id", headers=english).get_data(
        as_text=True)
    # No ?lang= any more, and the browser still prefers English: the choice sticks.
    assert "<h1>Masuk</h1>" in client.get("/login", headers=english).get_data(as_text=True)
    # Signing in starts a fresh session but keeps the chosen language.
    client.login("a@test.id")
    dashboard = client.get("/batches", headers=english).get_data(as_text=True)
    assert _html_lang(dashboard) == "id"
    assert "Batch saya" in dashboard and "Keluar" in dashboard
    # Switching back is just as sticky.
    client.get("/batches?lang=en", headers=english)
    assert "My batches" in client.get("/batches", headers={"Accept-Language": "id"}).get_data(
        as_text=True)


def test_lazy_login_message_is_translated(client: Client) -> None:
    response = client.get("/batches", headers={"Accept-Language": "id"}, follow_redirects=True)
    assert "Silakan masuk untuk melihat halaman ini." in response.get_data(as_text=True)


def test_wrong_password_message_in_indonesian(client: Client, world: World) -> None:
    client.get("/login?lang=id")
    response = client.post("/login", {"email": "a@test.id", "password": "wrong-password-123"},
                           token_from="/login")
    assert "Surel atau kata sandi salah." in response.get_data(as_text=True)


# ---------------------------------------------------------------- the catalog


def _source_messages() -> set[str]:
    """What `make extract-messages` would find in the code today."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)
    return {message if isinstance(message, str) else message[0]
            for _file, _line, message, _comments, _context in found}


def test_every_ui_string_in_the_code_is_in_the_catalog() -> None:
    """A new _() string without an Indonesian translation fails here: run
    `make extract-messages`, translate it in id/LC_MESSAGES/messages.po, `make translations`."""
    catalog = {str(m.id) for m in _messages(_read(ID_PO))}
    missing = _source_messages() - catalog
    assert not missing, f"not yet in the id catalog: {sorted(missing)}"


def test_indonesian_catalog_covers_the_template() -> None:
    template = {m.id for m in _messages(_read(POT))}
    catalog = {m.id for m in _messages(_read(ID_PO))}
    assert template, "messages.pot is empty: run `make extract-messages`"
    assert template <= catalog, f"not in the id catalog: {sorted(map(str, template - catalog))}"


def test_every_indonesian_message_is_translated() -> None:
    catalog = _read(ID_PO)
    assert str(catalog.locale) == "id"
    messages = _messages(catalog)
    assert len(messages) > 100
    untranslated = [m.id for m in messages if not m.string or not str(m.string).strip()]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert not untranslated, f"empty msgstr: {untranslated}"
    assert not fuzzy, f"fuzzy entries: {fuzzy}"


def test_placeholders_are_preserved() -> None:
    wrong = {
        str(m.id): str(m.string) for m in _messages(_read(ID_PO))
        if set(PLACEHOLDER.findall(str(m.id))) != set(PLACEHOLDER.findall(str(m.string)))
    }
    assert not wrong, f"placeholders differ: {wrong}"
    with_placeholders = [m for m in _messages(_read(ID_PO)) if PLACEHOLDER.search(str(m.id))]
    assert with_placeholders and all(m.python_format for m in with_placeholders)


def test_compiled_catalog_matches_the_po_file() -> None:
    assert ID_MO.exists(), "run `make translations` to compile the catalogs"
    with ID_MO.open("rb") as fh:
        compiled = Translations(fh)
    stale = [m.id for m in _messages(_read(ID_PO)) if compiled.gettext(str(m.id)) != m.string]
    assert not stale, f"messages.mo is out of date for: {stale}; run `make translations`"


# ---------------------------------------------------------------- figures in the reader's locale


@pytest.mark.parametrize(
    ("lang", "money", "quantity", "status", "heading"),
    [
        ("id", "Rp 540.000.000", "1.200 kg", "Draf", "Nilai ekspor yang dilaporkan"),
        ("en", "Rp 540,000,000", "1,200 kg", "Draft", "Declared export value"),
    ],
)
def test_batch_page_figures_follow_the_locale(client: Client, world: World, lang: str,
                                              money: str, quantity: str, status: str,
                                              heading: str) -> None:
    client.login("a@test.id")
    html = client.get(f"/batches/{world.batch_a.id}?lang={lang}").get_data(as_text=True)
    assert _html_lang(html) == lang
    assert money in html
    assert quantity in html
    assert f">{status}</span>" in html
    assert heading in html
    produced = world.batch_a.production_date
    assert format_date(produced, "medium", locale=lang) in html
    other = "en" if lang == "id" else "id"
    assert format_date(produced, "medium", locale=other) not in html


def test_quantity_units_and_decimals_in_indonesian(client: Client, world: World) -> None:
    batch = services.create_batch(world.session, world.exporter_a, batch_input(
        world.product_a, "A-LOT-T", "52.04", quantity=Decimal("2.5"), unit="t"))
    world.session.commit()
    client.login("a@test.id")
    indonesian = client.get(f"/batches/{batch.id}?lang=id").get_data(as_text=True)
    english = client.get(f"/batches/{batch.id}?lang=en").get_data(as_text=True)
    assert "2,5 ton" in indonesian
    assert "2.5 tonnes" in english


def test_form_validator_messages_are_indonesian(client: Client, world: World) -> None:
    """WTForms ships no Indonesian catalogue; the registry's own one covers its messages."""
    client.login("a@test.id")
    response = client.post("/batches/new?lang=id", {"product_id": str(world.product_a.id)})
    page = response.get_data(as_text=True)
    assert "Isian ini wajib diisi." in page
    assert "This field is required." not in page
