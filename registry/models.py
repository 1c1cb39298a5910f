"""Imports every table so SQLModel's metadata (and Alembic) knows the whole schema."""

from registry.accounts.models import Organisation, User
from registry.api.models import ApiToken
from registry.audit import AuditEvent, AuditHead
from registry.catalog.models import Batch, Document, Product
from registry.printing.models import LabelAllowance, PrintJob, Reprint, SerialCounter
from registry.review.models import Decision
from registry.verify.models import FakeReport, Scan

__all__ = ["ApiToken", "AuditEvent", "AuditHead", "Batch", "Decision", "Document", "FakeReport",
           "LabelAllowance", "Organisation", "PrintJob", "Product", "Reprint", "Scan",
           "SerialCounter", "User"]
