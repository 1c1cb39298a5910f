"""Every audit event the registry writes, as typed tags (after pypi/warehouse's ``EventTag``).

``audit.record`` takes only these, so a tag cannot be misspelt, and a new one cannot be added
without its words in ``registry.audit.vocabulary``: ``tests/audit/test_tags.py`` fails when a
member lacks an English label or its Indonesian translation. No Flask here: services import it.
The value is what the audit trail stores (and hashes): never change a member's value.
"""

from __future__ import annotations

from enum import StrEnum


class EventTag:
    class Account(StrEnum):
        SIGNUP = "user.signup"
        CREATE = "user.create"
        ACTIVATE = "user.active"
        DISABLE = "user.disabled"
        PEND = "user.pending"
        DECLINE = "user.declined"
        LOGIN = "login"
        # The password passed; the second step is awaited (a sign-in is LOGIN, after it).
        LOGIN_PASSWORD = "login.password"  # noqa: S105 (a tag, not a secret)
        LOGIN_FAILED = "login.failed"
        LOGIN_REFUSED = "login.refused"
        LOGOUT = "logout"
        TOKEN_CREATE = "token.create"  # noqa: S105 (a tag, not a secret)
        TOKEN_REVOKE = "token.revoke"  # noqa: S105
        NOTIFICATIONS = "user.notifications"
        LOCALE = "user.locale"
        PASSWORD_CHANGE = "user.password_change"  # noqa: S105
        PASSWORD_RESET_REQUEST = "user.password_reset_request"  # noqa: S105
        PASSWORD_RESET = "user.password_reset"  # noqa: S105
        LOCKED = "user.locked"
        SIGNUP_EXISTING = "user.signup_existing"
        SECOND_FACTOR_ENROL = "second_factor.enrol"
        SECOND_FACTOR_RESET = "second_factor.reset"
        SECOND_FACTOR_FAILED = "second_factor.failed"
        RECOVERY_CODE_USED = "second_factor.recovery_code"
        REAUTHENTICATE = "reauthenticate"
        REAUTHENTICATE_FAILED = "reauthenticate.failed"

    class Organisation(StrEnum):
        CREATE = "organisation.create"
        # Its sign-up was declined: the NIB is free for a new sign-up (the event keeps it).
        SIGNUP_DECLINED = "organisation.signup_declined"

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
        PLOT_ADD = "plot.add"
        PLOT_REMOVE = "plot.remove"

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

    class ExportFile(StrEnum):
        REQUEST = "exportfile.request"
        WRITE_START = "exportfile.write_start"
        WRITTEN = "exportfile.written"
        WRITE_FAILED = "exportfile.write_failed"
        WRITE_REFUSED = "exportfile.write_refused"
        EXPIRED = "exportfile.expired"
        DOWNLOAD = "exportfile.download"

    class Shipment(StrEnum):
        DECLARE = "shipment.declare"
        CANCEL = "shipment.cancel"
        CONFIRM = "shipment.confirm"
        REFUSE = "shipment.refuse"

    class Key(StrEnum):
        CREATE = "key.create"
        ROTATE = "key.rotate"
        REVOKE = "key.revoke"
        IMPORT = "key.import"
        # Every sealed secret (label keys, authenticator seeds, the audit key) re-sealed
        # under a new key-encryption key.
        REKEY = "key.rekey"
        # The audit checkpoint key (its own table; never a label key).
        AUDIT_CREATE = "key.audit_create"
        AUDIT_IMPORT = "key.audit_import"

    class Fake(StrEnum):
        REPORT = "fake.report"
        HANDLED = "fake.handled"

    class Target(StrEnum):
        CREATE = "target.create"
        UPDATE = "target.update"

    class CertificateRule(StrEnum):
        CREATE = "certificate_rule.create"
        REMOVE = "certificate_rule.remove"

    class Operations(StrEnum):
        FILES_IMPORT = "files.import"
        BACKUP_RESTORE = "backup.restore"
        DEMO_BACKDATE = "demo.backdate"
        FIGURES_REBUILD = "figures.rebuild"
        FACTS_REFRESH = "facts.refresh"


Tag = (EventTag.Account | EventTag.Organisation | EventTag.Product | EventTag.Batch
       | EventTag.PrintJob | EventTag.LabelFile | EventTag.ExportFile | EventTag.Shipment
       | EventTag.Key | EventTag.Fake | EventTag.Target | EventTag.CertificateRule
       | EventTag.Operations)
GROUPS: tuple[type[StrEnum], ...] = (
    EventTag.Account, EventTag.Organisation, EventTag.Product, EventTag.Batch,
    EventTag.PrintJob, EventTag.LabelFile, EventTag.ExportFile, EventTag.Shipment,
    EventTag.Key, EventTag.Fake, EventTag.Target, EventTag.CertificateRule,
    EventTag.Operations)


class ObjectType:
    """What an event is about (``AuditEvent.object_type``), as services record it: the web
    log's filter offers these. The values are stored: never change one. Plain strings, not a
    vocabulary enum: "batch" and "product" are also ordinary words of the Indonesian pages, so
    they must not count as codes that leaked (tests/test_raw_codes.py)."""

    BATCH = "batch"
    PRODUCT = "product"
    ORGANISATION = "organisation"
    USER = "user"
    PRINT_JOB = "print_job"
    EXPORT_FILE = "export_file"
    API_TOKEN = "api_token"  # noqa: S105 (a kind of object, not a secret)
    FAKE_REPORT = "fake_report"
    SIGNING_KEY = "signing_key"
    AUDIT_KEY = "audit_key"
    FILE_STORE = "file_store"
    TARGET = "target"
    CERTIFICATE_RULE = "certificate_rule"
    REGISTRY = "registry"


# Who an event names when no user acted (a buyer's report, the worker, a command line), as the
# audit trail stores it; people read ``vocabulary.actor_label``.
SYSTEM_ACTOR = "system"


def members() -> list[StrEnum]:
    return [tag for group in GROUPS for tag in group]
