"""Language selection: explicit choice (``?lang=``, kept in the session), then the user's
saved locale, then the browser's Accept-Language."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from flask import Flask, current_app, request, session
from flask_login import current_user
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from registry.web.extensions import babel

LANGUAGE_NAMES = {"en": "English", "id": "Bahasa Indonesia", "zh": "中文", "ja": "日本語"}
# Buyers abroad read the public verification page; staff pages are Indonesian and English.
VERIFY_LANGUAGES = ("en", "id", "zh", "ja")


def supported() -> list[str]:
    if request.blueprint == "verify":
        return list(VERIFY_LANGUAGES)
    return list(current_app.config["LANGUAGES"])


def select_locale() -> str:
    langs = supported()
    asked = request.args.get("lang")
    if asked in langs:
        if request.blueprint != "verify":
            # On the public page the choice lives in the URL, so a shared link keeps it.
            session["lang"] = asked
        return asked
    if request.blueprint == "verify":
        # Public pages take the language from the URL or the browser only, as the label
        # resolver in front of Flask does (registry.verify.hotpath): one label, one answer.
        return _from_accept_language(langs)
    chosen = session.get("lang")
    if chosen in langs:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in langs:
        return current_user.locale
    return _from_accept_language(langs)


def best_language(accept_language: str, langs: Sequence[str], default: str) -> str:
    """The language of ``langs`` an Accept-Language header prefers, else ``default``. Every
    page chooses with this, the verification pages in front of Flask too."""
    # Browsers send zh-CN, zh-TW, ja-JP: match on the primary language.
    accept = parse_accept_header(accept_language, LanguageAccept)
    primary = [(value.split("-")[0].lower(), q) for value, q in accept]
    for value, _q in sorted(primary, key=lambda item: -item[1]):
        if value in langs:
            return value
    return default


def _from_accept_language(langs: list[str]) -> str:
    return best_language(request.headers.get("Accept-Language", ""), langs,
                         current_app.config["BABEL_DEFAULT_LOCALE"])


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(__file__).parent.parent / "translations"),
    )
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
