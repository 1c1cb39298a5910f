"""Domain errors raised by services: what went wrong, in terms of the registry, not of HTTP.

No Flask here, so services and rule modules can raise them anywhere; ``registry.web.errors``
turns them into pages and problem documents. A message may be a lazy translated string.
"""

from __future__ import annotations

from typing import Any


class RegistryError(Exception):
    status = 400

    def __init__(self, message: str, *, fields: dict[str, str] | None = None,
                 public: bool = False, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        # Further members of the problem document (e.g. the numbers behind the message).
        self.extra = extra or {}
        # Services speak English to developers and API clients; a page shows the reader a
        # translated text unless the message was written (and translated) for them.
        self.public = public


class ValidationError(RegistryError):
    status = 422


class Taken(ValidationError):
    """A unique value (e-mail, NIB, lot code) that a racing request registered first: the
    check before the INSERT passed for both, the database let one win. Forms show it like
    any "already registered" field; the API answers 409."""

    status = 409


class NotFound(RegistryError):
    status = 404


class Forbidden(RegistryError):
    status = 403


class Conflict(RegistryError):
    """The object changed under the user (e.g. another officer decided first)."""

    status = 409
