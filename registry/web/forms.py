"""The base of every form: Flask-WTF's, with WTForms' own messages in the reader's language;
and service validation errors shown on the form that caused them.

WTForms ships no Indonesian catalogue, so ours (``translations/id/LC_MESSAGES/wtforms.po``)
comes first and WTForms' own catalogues (zh, ja, ...) fill in the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel import support
from flask import flash, g
from flask_babel import get_locale
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import HiddenField, PasswordField, TextAreaField
from wtforms.i18n import messages_path

from registry.exceptions import ValidationError
from registry.plaintext import text_problem
from registry.web.messages import MESSAGES, TEXT_MESSAGES, Problem, message

OWN_CATALOGUES = str(Path(__file__).parent.parent / "translations")


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
    """Every form refuses invisible characters (``registry.plaintext``) in every text field
    and file name, so no field can forget it; text areas may hold line breaks."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form: Any) -> Any:
            return _translations

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            text = _text_message(field)
            if text is not None:
                field.errors = [*field.errors, text]
                valid = False
        return valid


def _text_message(field: Any) -> Any:
    data = field.data
    if isinstance(data, FileStorage):
        return MESSAGES[Problem.BAD_FILENAME] if text_problem(data.filename or "") else None
    # A password is never shown nor stored as typed; refusing one could lock a user out.
    # Hidden fields (CSRF token, version, ``next``) are not typed by anyone, show no error
    # and are checked by what reads them.
    if not isinstance(data, str) or isinstance(field, PasswordField | HiddenField):
        return None
    problem = text_problem(data, multiline=isinstance(field, TextAreaField))
    return TEXT_MESSAGES[problem] if problem is not None else None


def apply_field_errors(form: Any, exc: ValidationError, *, about: str | None = None) -> None:
    """Each ``field: code`` of the service becomes a translated message under that field
    (``registry.web.messages``; ``about`` as there); a code for a field the form does not show
    becomes a banner, so nothing is lost."""
    for field, code in exc.fields.items():
        text = message(code, about=about)
        target = getattr(form, field, None)
        if target is not None:
            target.errors = [*target.errors, text]
        else:
            flash(text, "error")
