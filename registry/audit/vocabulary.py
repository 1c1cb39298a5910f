"""The words a person reads for each audit event and for the registry acting by itself.

The tags are ``registry.audit.tags`` (Flask-free, so services record them); their labels are
here, beside the other domains' vocabularies.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from registry.audit.tags import GROUPS, SYSTEM_ACTOR, EventTag

EVENT_LABELS: dict[str, LazyString] = {
    EventTag.Account.SIGNUP: _l("Signed up"),
    EventTag.Account.CREATE: _l("Account created"),
    EventTag.Account.ACTIVATE: _l("Account activated"),
    EventTag.Account.DISABLE: _l("Account disabled"),
    EventTag.Account.PEND: _l("Account set to pending"),
    EventTag.Account.LOGIN: _l("Signed in"),
    EventTag.Account.LOGIN_FAILED: _l("Sign-in failed"),
    EventTag.Account.LOGIN_REFUSED: _l("Sign-in refused"),
    EventTag.Account.LOGOUT: _l("Signed out"),
    EventTag.Account.TOKEN_CREATE: _l("API token created"),
    EventTag.Account.TOKEN_REVOKE: _l("API token revoked"),
    EventTag.Account.SECOND_FACTOR_ENROL: _l("Authenticator app enrolled (second factor)"),
    EventTag.Account.SECOND_FACTOR_RESET: _l("Second factor reset"),
    EventTag.Account.SECOND_FACTOR_FAILED: _l("Wrong second-factor code"),
    EventTag.Account.RECOVERY_CODE_USED: _l("Recovery code used"),
    EventTag.Account.REAUTHENTICATE: _l("Identity confirmed again"),
    EventTag.Account.REAUTHENTICATE_FAILED: _l("Identity confirmation failed"),
    EventTag.Organisation.CREATE: _l("Organisation registered"),
    EventTag.Product.CREATE: _l("Product registered"),
    EventTag.Product.UPDATE: _l("Product edited"),
    EventTag.Product.PHOTO: _l("Product photo changed"),
    EventTag.Batch.CREATE: _l("Batch registered"),
    EventTag.Batch.UPDATE: _l("Batch edited"),
    EventTag.Batch.SUBMIT: _l("Submitted for certification"),
    EventTag.Batch.APPROVE: _l("Approved"),
    EventTag.Batch.REJECT: _l("Rejected"),
    EventTag.Batch.SUSPEND: _l("Suspended"),
    EventTag.Batch.REINSTATE: _l("Reinstated"),
    EventTag.Batch.REVOKE: _l("Revoked"),
    EventTag.Batch.LABEL_ALLOWANCE: _l("Label allowance granted"),
    EventTag.Batch.DOCUMENT_ADD: _l("Document added"),
    EventTag.Batch.DOCUMENT_REMOVE: _l("Document removed"),
    EventTag.PrintJob.ORDER: _l("Labels ordered"),
    EventTag.PrintJob.DOWNLOAD: _l("Label file downloaded"),
    EventTag.PrintJob.REPRINT: _l("Labels reprinted"),
    EventTag.LabelFile.REQUEST: _l("Label file requested"),
    EventTag.LabelFile.RENDER_START: _l("Label file rendering started"),
    EventTag.LabelFile.RENDERED: _l("Label file ready"),
    EventTag.LabelFile.RENDER_FAILED: _l("Label file rendering failed"),
    EventTag.LabelFile.RENDER_REFUSED: _l("Label file refused"),
    EventTag.LabelFile.EXPIRED: _l("Label file expired"),
    EventTag.LabelFile.DISCARDED: _l("Label file discarded"),
    EventTag.Key.CREATE: _l("Signing key created"),
    EventTag.Key.ROTATE: _l("Signing key rotated"),
    EventTag.Key.REVOKE: _l("Signing key revoked"),
    EventTag.Key.IMPORT: _l("Signing key imported"),
    EventTag.Fake.REPORT: _l("Suspected fake reported"),
    EventTag.Fake.HANDLED: _l("Report of a fake handled"),
    EventTag.Operations.FILES_IMPORT: _l("Files imported"),
    EventTag.Operations.BACKUP_RESTORE: _l("Backup restored"),
    EventTag.Operations.DEMO_BACKDATE: _l("Demo history dated back"),
}


# As every domain's vocabulary module has them (``tests/test_vocabulary.py``): each tag group
# with its words; no audit event is shown on the public verification page.
LABELS: Mapping[type[StrEnum], Mapping[str, LazyString]] = {
    group: {tag: EVENT_LABELS[tag] for tag in group if tag in EVENT_LABELS} for group in GROUPS}
ON_VERIFY_PAGE: frozenset[type[StrEnum]] = frozenset()

SYSTEM_ACTOR_LABEL = _l("the registry (automatic)")


def label(action: str) -> str:
    """What a person reads for a stored tag (a tag from before this list: as stored)."""
    found = EVENT_LABELS.get(action)
    return str(found) if found is not None else action


def actor_label(stored: str) -> str:
    """Who acted, as a person reads it: the user's e-mail, or the registry itself."""
    return str(SYSTEM_ACTOR_LABEL) if stored == SYSTEM_ACTOR else stored
