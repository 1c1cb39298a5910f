"""Service validation errors shown on the form that caused them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import flash

from registry.errors import ValidationError

Messages = Mapping[str, Callable[[], str]]


def apply_field_errors(form: Any, exc: ValidationError, messages: Messages) -> None:
    """Each ``field: code`` of the service becomes a translated message under that field;
    a code for a field the form does not show becomes a banner, so nothing is lost."""
    for field, code in exc.fields.items():
        message = messages[code]() if code in messages else code
        target = getattr(form, field, None)
        if target is not None:
            target.errors = [*target.errors, message]
        else:
            flash(message, "error")
