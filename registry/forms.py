"""The base of every form: Flask-WTF's, with WTForms' own messages in the reader's language.

WTForms ships no Indonesian catalogue, so ours (``translations/id/LC_MESSAGES/wtforms.po``)
comes first and WTForms' own catalogues (zh, ja, ...) fill in the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel import support
from flask import g
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path

OWN_CATALOGUES = str(Path(__file__).parent / "translations")


class _Translations:
    def _catalogue(self) -> Any:
        cached = g.get("wtforms_translations")
        if cached is None:
            locale = [get_locale()]
            cached = support.Translations.load(OWN_CATALOGUES, locale, domain="wtforms")
            cached.add_fallback(support.Translations.load(messages_path(), locale,
                                                          domain="wtforms"))
            g.wtforms_translations = cached
        return cached

    def gettext(self, string: str) -> str:
        return self._catalogue().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalogue().ungettext(singular, plural, n)


_translations = _Translations()


class Form(FlaskForm):
    class Meta(FlaskForm.Meta):
        def get_translations(self, form: Any) -> Any:
            return _translations
