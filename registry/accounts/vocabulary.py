"""The words a person reads for roles, kinds of organisation and account statuses (the enums
of ``accounts.models``), in one place: the admin tables, the forms and the exports use these."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from registry.accounts.models import OrgKind, Role, UserStatus
from registry.accounts.reset import LinkProblem

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
# Why a password-reset link does not work (its page says it).
LINK_PROBLEM_LABELS: dict[str, LazyString] = {
    LinkProblem.EXPIRED: _l("This link has expired: links are valid for one hour."),
    LinkProblem.USED: _l("This link was used already (or the password was changed since it "
                         "was sent): each link works once."),
    LinkProblem.INVALID: _l("This link is not valid. Copy it from the mail in full."),
}

LABELS: Mapping[type[StrEnum], Mapping[str, LazyString]] = {
    Role: ROLE_LABELS, OrgKind: ORG_KIND_LABELS, UserStatus: USER_STATUS_LABELS,
    LinkProblem: LINK_PROBLEM_LABELS,
}
ON_VERIFY_PAGE: frozenset[type[StrEnum]] = frozenset()


def role_label(code: str) -> str:
    return str(ROLE_LABELS.get(code, code))


def org_kind_label(code: str) -> str:
    return str(ORG_KIND_LABELS.get(code, code))


def user_status_label(code: str) -> str:
    return str(USER_STATUS_LABELS.get(code, code))
