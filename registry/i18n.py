"""Language selection: explicit choice (``?lang=``, kept in the session), then the user's
saved locale, then the browser's Accept-Language."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, request, session
from flask_login import current_user

from registry.extensions import babel

LANGUAGE_NAMES = {"en": "English", "id": "Bahasa Indonesia", "zh": "中文", "ja": "日本語"}


def supported() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def select_locale() -> str:
    langs = supported()
    asked = request.args.get("lang")
    if asked in langs:
        session["lang"] = asked
        return asked
    chosen = session.get("lang")
    if chosen in langs:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in langs:
        return current_user.locale
    return request.accept_languages.best_match(langs) or current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
