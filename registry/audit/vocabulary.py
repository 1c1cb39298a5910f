"""The words a person reads for each audit event and for the registry acting by itself.

The tags are ``registry.audit.tags`` (Flask-free, so services record them); their labels are
here, beside the other domains' vocabularies.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from registry.audit.tags import GROUPS, SYSTEM_ACTOR, EventTag, ObjectType

EVENT_LABELS: dict[str, LazyString] = {
    EventTag.Account.SIGNUP: _l("Signed up"),
    EventTag.Account.CREATE: _l("Account created"),
    EventTag.Account.ACTIVATE: _l("Account activated"),
    EventTag.Account.DISABLE: _l("Account disabled"),
    EventTag.Account.PEND: _l("Account set to pending"),
    EventTag.Account.DECLINE: _l("Sign-up declined"),
    EventTag.Account.LOGIN: _l("Signed in"),
    EventTag.Account.LOGIN_PASSWORD: _l("Password accepted; second step awaited"),
    EventTag.Account.LOGIN_FAILED: _l("Sign-in failed"),
    EventTag.Account.LOGIN_REFUSED: _l("Sign-in refused"),
    EventTag.Account.LOGOUT: _l("Signed out"),
    EventTag.Account.TOKEN_CREATE: _l("API token created"),
    EventTag.Account.TOKEN_REVOKE: _l("API token revoked"),
    EventTag.Account.NOTIFICATIONS: _l("Notification settings changed"),
    EventTag.Account.LOCALE: _l("Language chosen"),
    EventTag.Account.PASSWORD_CHANGE: _l("Password changed"),
    EventTag.Account.PASSWORD_RESET_REQUEST: _l("Password reset link asked for"),
    EventTag.Account.PASSWORD_RESET: _l("Password reset through a mailed link"),
    EventTag.Account.LOCKED: _l("Sign-in paused after failed attempts"),
    EventTag.Account.SIGNUP_EXISTING: _l("Sign-up with a registered address or NIB"),
    EventTag.Account.SECOND_FACTOR_ENROL: _l("Authenticator app enrolled (second factor)"),
    EventTag.Account.SECOND_FACTOR_RESET: _l("Second factor reset"),
    EventTag.Account.SECOND_FACTOR_FAILED: _l("Wrong second-factor code"),
    EventTag.Account.RECOVERY_CODE_USED: _l("Recovery code used"),
    EventTag.Account.REAUTHENTICATE: _l("Identity confirmed again"),
    EventTag.Account.REAUTHENTICATE_FAILED: _l("Identity confirmation failed"),
    EventTag.Organisation.CREATE: _l("Organisation registered"),
    EventTag.Organisation.SIGNUP_DECLINED: _l("Company's sign-up declined (its NIB is free "
                                              "again)"),
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
    EventTag.Batch.PLOT_ADD: _l("Production plots added"),
    EventTag.Batch.PLOT_REMOVE: _l("Production plot removed"),
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
    EventTag.ExportFile.REQUEST: _l("XLSX export requested"),
    EventTag.ExportFile.WRITE_START: _l("XLSX export writing started"),
    EventTag.ExportFile.WRITTEN: _l("XLSX export ready"),
    EventTag.ExportFile.WRITE_FAILED: _l("XLSX export writing failed"),
    EventTag.ExportFile.WRITE_REFUSED: _l("XLSX export refused"),
    EventTag.ExportFile.EXPIRED: _l("XLSX export expired"),
    EventTag.ExportFile.DOWNLOAD: _l("XLSX export downloaded"),
    EventTag.Shipment.DECLARE: _l("Shipment declared"),
    EventTag.Shipment.CANCEL: _l("Shipment cancelled"),
    EventTag.Shipment.CONFIRM: _l("Hub passage confirmed"),
    EventTag.Shipment.REFUSE: _l("Hub passage refused"),
    EventTag.Key.CREATE: _l("Signing key created"),
    EventTag.Key.ROTATE: _l("Signing key rotated"),
    EventTag.Key.REVOKE: _l("Signing key revoked"),
    EventTag.Key.IMPORT: _l("Signing key imported"),
    EventTag.Key.REKEY: _l("Key-encryption key replaced"),
    EventTag.Key.AUDIT_CREATE: _l("Audit checkpoint key created"),
    EventTag.Key.AUDIT_IMPORT: _l("Audit checkpoint key imported"),
    EventTag.Fake.REPORT: _l("Suspected fake reported"),
    EventTag.Fake.HANDLED: _l("Report of a fake handled"),
    EventTag.Target.CREATE: _l("Yearly target set"),
    EventTag.Target.UPDATE: _l("Yearly target changed"),
    EventTag.CertificateRule.CREATE: _l("Required certificate added"),
    EventTag.CertificateRule.REMOVE: _l("Required certificate removed"),
    EventTag.Operations.FILES_IMPORT: _l("Files imported"),
    EventTag.Operations.BACKUP_RESTORE: _l("Backup restored"),
    EventTag.Operations.DEMO_BACKDATE: _l("Demo history dated back"),
    EventTag.Operations.FIGURES_REBUILD: _l("Figures' summary rebuilt"),
    EventTag.Operations.FACTS_REFRESH: _l("Labels' verification facts refreshed"),
}


# What an event is about, in the order the log's filter offers them (tests/audit/
# test_audit_log_page.py checks each has its Indonesian words).
OBJECT_TYPE_LABELS: dict[str, LazyString] = {
    ObjectType.BATCH: _l("Batch"),
    ObjectType.PRODUCT: _l("Product"),
    ObjectType.ORGANISATION: _l("Organisation"),
    ObjectType.USER: _l("User account"),
    ObjectType.PRINT_JOB: _l("Print job"),
    ObjectType.EXPORT_FILE: _l("XLSX export"),
    ObjectType.API_TOKEN: _l("API token"),
    ObjectType.FAKE_REPORT: _l("Report of a suspected fake"),
    ObjectType.SIGNING_KEY: _l("Signing key"),
    ObjectType.AUDIT_KEY: _l("Audit checkpoint key"),
    ObjectType.FILE_STORE: _l("File store"),
    ObjectType.TARGET: _l("Yearly target"),
    ObjectType.CERTIFICATE_RULE: _l("Required certificate rule"),
    ObjectType.REGISTRY: _l("The registry"),
}
# Tag groups as the action filter groups them.
GROUP_LABELS: dict[type[StrEnum], LazyString] = {
    EventTag.Account: _l("Accounts"),
    EventTag.Organisation: _l("Organisations"),
    EventTag.Product: _l("Products"),
    EventTag.Batch: _l("Batches"),
    EventTag.PrintJob: _l("Print jobs"),
    EventTag.LabelFile: _l("Label files"),
    EventTag.ExportFile: _l("XLSX exports"),
    EventTag.Shipment: _l("Shipments"),
    EventTag.Key: _l("Signing keys"),
    EventTag.Fake: _l("Suspected fakes"),
    EventTag.Target: _l("Targets"),
    EventTag.CertificateRule: _l("Required certificates"),
    EventTag.Operations: _l("Operations"),
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


def object_type_label(code: str) -> str:
    found = OBJECT_TYPE_LABELS.get(code)
    return str(found) if found is not None else code
