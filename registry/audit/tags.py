"""Every audit event the registry writes, as typed tags (after pypi/warehouse's ``EventTag``),
with the words a person reads for each, in one place.

``audit.record`` takes only these, so a tag cannot be misspelt and a new one cannot be added
without its label: ``tests/audit/test_tags.py`` fails when a member lacks an English label or its
Indonesian translation. The value is what the audit trail stores (and hashes): never change a
member's value.
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString


class EventTag:
    class Account(StrEnum):
        SIGNUP = "user.signup"
        CREATE = "user.create"
        ACTIVATE = "user.active"
        DISABLE = "user.disabled"
        PEND = "user.pending"
        LOGIN = "login"
        LOGIN_FAILED = "login.failed"
        LOGIN_REFUSED = "login.refused"
        LOGOUT = "logout"
        TOKEN_CREATE = "token.create"  # noqa: S105 (a tag, not a secret)
        TOKEN_REVOKE = "token.revoke"  # noqa: S105

    class Organisation(StrEnum):
        CREATE = "organisation.create"

    class Product(StrEnum):
        CREATE = "product.create"
        UPDATE = "product.update"
        PHOTO = "product.photo"

    class Batch(StrEnum):
        CREATE = "batch.create"
        UPDATE = "batch.update"
        SUBMIT = "batch.submit"
        APPROVE = "batch.approve"
        REJECT = "batch.reject"
        SUSPEND = "batch.suspend"
        REINSTATE = "batch.reinstate"
        REVOKE = "batch.revoke"
        LABEL_ALLOWANCE = "batch.label_allowance"
        DOCUMENT_ADD = "document.add"
        DOCUMENT_REMOVE = "document.remove"

    class PrintJob(StrEnum):
        ORDER = "printjob.order"
        DOWNLOAD = "printjob.download"
        REPRINT = "printjob.reprint"

    class LabelFile(StrEnum):
        REQUEST = "labelfile.request"
        RENDER_START = "labelfile.render_start"
        RENDERED = "labelfile.rendered"
        RENDER_FAILED = "labelfile.render_failed"
        RENDER_REFUSED = "labelfile.render_refused"
        EXPIRED = "labelfile.expired"
        DISCARDED = "labelfile.discarded"

    class Key(StrEnum):
        CREATE = "key.create"
        ROTATE = "key.rotate"
        REVOKE = "key.revoke"
        IMPORT = "key.import"

    class Fake(StrEnum):
        REPORT = "fake.report"
        HANDLED = "fake.handled"

    class Operations(StrEnum):
        FILES_IMPORT = "files.import"
        BACKUP_RESTORE = "backup.restore"
        DEMO_BACKDATE = "demo.backdate"


Tag = (EventTag.Account | EventTag.Organisation | EventTag.Product | EventTag.Batch
       | EventTag.PrintJob | EventTag.LabelFile | EventTag.Key | EventTag.Fake
       | EventTag.Operations)
GROUPS: tuple[type[StrEnum], ...] = (
    EventTag.Account, EventTag.Organisation, EventTag.Product, EventTag.Batch,
    EventTag.PrintJob, EventTag.LabelFile, EventTag.Key, EventTag.Fake, EventTag.Operations)

LABELS: dict[str, LazyString] = {
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


# Who an event names when no user acted (a buyer's report, the worker, a command line), as the
# audit trail stores it; people read the label.
SYSTEM_ACTOR = "system"
SYSTEM_ACTOR_LABEL = _l("the registry (automatic)")


def members() -> list[StrEnum]:
    return [tag for group in GROUPS for tag in group]


def label(action: str) -> str:
    """What a person reads for a stored tag (a tag from before this list: as stored)."""
    found = LABELS.get(action)
    return str(found) if found is not None else action


def actor_label(stored: str) -> str:
    """Who acted, as a person reads it: the user's e-mail, or the registry itself."""
    return str(SYSTEM_ACTOR_LABEL) if stored == SYSTEM_ACTOR else stored
