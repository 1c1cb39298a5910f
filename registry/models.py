"""Imports every table so SQLModel's metadata (and Alembic) knows the whole schema."""

from registry.accounts.models import Organisation, User
from registry.audit import AuditEvent, AuditHead
from registry.catalog.models import Batch, Document, Product
from registry.printing.models import PrintJob, Reprint, SerialCounter
from registry.review.models import Decision

__all__ = ["AuditEvent", "AuditHead", "Batch", "Decision", "Document", "Organisation", "PrintJob",
           "Product", "Reprint", "SerialCounter", "User"]
