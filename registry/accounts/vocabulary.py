"""The words a person reads for roles, kinds of organisation and account statuses (the enums
of ``accounts.models``), in one place: the admin tables, the forms and the exports use these."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from registry.accounts.models import OrgKind, Role, UserStatus

# Keyed by members, typed by ``str``: a member equals its stored value (see catalog.vocabulary).
# In the order the admin's forms offer them.
ROLE_LABELS: dict[str, LazyString] = {
    Role.OFFICER: _l("Trade-office officer"),
    Role.PRINTER: _l("Label printer"),
    Role.ADMIN: _l("Administrator"),
    Role.EXPORTER: _l("Exporter"),
}
ORG_KIND_LABELS: dict[str, LazyString] = {
    OrgKind.TRADE_OFFICE: _l("Trade office"),
    OrgKind.PRINTER: _l("Print shop"),
    OrgKind.EXPORTER: _l("Exporter"),
    OrgKind.ADMIN: _l("Registry administration"),
}
USER_STATUS_LABELS: dict[str, LazyString] = {
    UserStatus.PENDING: _l("Waiting for activation"),
    UserStatus.ACTIVE: _l("Active"),
    UserStatus.DISABLED: _l("Disabled"),
    UserStatus.DECLINED: _l("Sign-up declined"),
}

LABELS: Mapping[type[StrEnum], Mapping[str, LazyString]] = {
    Role: ROLE_LABELS, OrgKind: ORG_KIND_LABELS, UserStatus: USER_STATUS_LABELS,
}
ON_VERIFY_PAGE: frozenset[type[StrEnum]] = frozenset()


def role_label(code: str) -> str:
    return str(ROLE_LABELS.get(code, code))


def org_kind_label(code: str) -> str:
    return str(ORG_KIND_LABELS.get(code, code))


def user_status_label(code: str) -> str:
    return str(USER_STATUS_LABELS.get(code, code))
