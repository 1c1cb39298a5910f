"""Imports every table so SQLModel's metadata (and Alembic) knows the whole schema."""

from registry.accounts.models import (
    Organisation,
    PasswordResetRequest,
    RecoveryCode,
    SecondFactor,
    User,
)
from registry.api.models import ApiToken
from registry.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from registry.catalog.models import Batch, Document, Product
from registry.certificates.models import CertificateAlert, CertificateRule
from registry.checkpoints.models import AuditKey
from registry.figures.models import ExportFile, FigureCell
from registry.mail.models import Mail, MailOnce, MailOptOut
from registry.plots.models import Plot
from registry.printing.models import (
    LabelAllowance,
    LabelFile,
    PrintJob,
    Reprint,
    SerialCounter,
)
from registry.review.models import Decision
from registry.shipments.models import Shipment
from registry.signing.models import LabelSignature, SigningKey
from registry.targets.models import Target
from registry.verify.models import FakeReport, Scan

__all__ = ["ApiToken", "AuditCheckpoint", "AuditEvent", "AuditHead", "AuditKey", "Batch",
           "CertificateAlert",
           "CertificateRule", "Decision",
           "Document", "ExportFile", "FakeReport", "FigureCell", "LabelAllowance", "LabelFile",
           "LabelSignature", "Mail",
           "MailOnce", "MailOptOut",
           "Organisation", "PasswordResetRequest", "Plot",
           "PrintJob", "Product", "RecoveryCode", "Reprint", "Scan", "SecondFactor",
           "SerialCounter", "Shipment", "SigningKey", "Target", "User"]
