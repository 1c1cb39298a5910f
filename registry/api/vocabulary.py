"""The words a person reads for an API token's access (``tokens.Access``), in one place."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from registry.api.models import ApiToken
from registry.api.tokens import Access, TokenState, access_of

# Keyed by members, typed by ``str``: a member equals its stored value (see catalog.vocabulary).
ACCESS_LABELS: dict[str, LazyString] = {
    Access.READ: _l("Read only"),
    Access.WRITE: _l("Read and write"),
}

TOKEN_STATE_LABELS: dict[str, LazyString] = {
    TokenState.ACTIVE: _l("Active"),
    TokenState.EXPIRED: _l("Expired"),
    TokenState.REVOKED: _l("Revoked"),
}

# The lifetimes a new token may have (``tokens.LIFETIMES``, tests/api/test_token_expiry.py
# checks they match), as the form offers them.
LIFETIME_LABELS: dict[int, LazyString] = {
    30: _l("30 days"),
    90: _l("90 days"),
    180: _l("180 days"),
    365: _l("1 year"),
}

LABELS: Mapping[type[StrEnum], Mapping[str, LazyString]] = {
    Access: ACCESS_LABELS, TokenState: TOKEN_STATE_LABELS}
ON_VERIFY_PAGE: frozenset[type[StrEnum]] = frozenset()


def access_label(code: str) -> str:
    return str(ACCESS_LABELS.get(code, code))


def token_access_label(token: ApiToken) -> str:
    return access_label(access_of(token))


def token_state_label(code: str) -> str:
    return str(TOKEN_STATE_LABELS.get(code, code))
