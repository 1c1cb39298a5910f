"""A certificate's facts as the batch pages show them (the reader's language and dates)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from registry.catalog.models import Document
from registry.catalog.vocabulary import document_kind_label
from registry.certificates.rules import DEFAULT_ISSUER, Gaps, check_page, is_certificate
from registry.certificates.services import ExpiryNotice
from registry.certificates.vocabulary import organic_scheme_label, origin_form_label
from registry.web.templating import fmt_date


@dataclass(frozen=True)
class CertificateView:
    number: str
    issuer: str
    issued_on: str | None
    expires_on: str | None
    detail: str | None  # the origin form or the organic scheme
    check_url: str | None


def certificate_view(doc: Document) -> CertificateView | None:
    """The facts of a certificate that has them; None for plain documents and scans alone."""
    if not is_certificate(doc.kind) or not doc.number:
        return None
    detail = (origin_form_label(doc.form_type) if doc.form_type
              else organic_scheme_label(doc.scheme) if doc.scheme else None)
    return CertificateView(
        number=doc.number, issuer=doc.issuer or DEFAULT_ISSUER.get(doc.kind, ""),
        issued_on=fmt_date(doc.issued_on) if doc.issued_on else None,
        expires_on=fmt_date(doc.expires_on) if doc.expires_on else None,
        detail=detail, check_url=check_page(doc.kind, doc.scheme))


def notice_text(notice: ExpiryNotice) -> str:
    doc = notice.document
    kind = document_kind_label(doc.kind)
    day = fmt_date(doc.expires_on) if doc.expires_on else ""
    if notice.days_left < 0:
        return _("The %(kind)s %(number)s expired on %(date)s, while the batch is certified.",
                 kind=kind, number=doc.number or "", date=day)
    if notice.days_left == 0:
        return _("The %(kind)s %(number)s expires today (%(date)s).", kind=kind,
                 number=doc.number or "", date=day)
    return _("The %(kind)s %(number)s expires on %(date)s, in %(days)s days.", kind=kind,
             number=doc.number or "", date=day, days=notice.days_left)


def gaps_text(required: list[str], gaps: Gaps) -> str | None:
    """For the office: the certificates the rules require and what is lacking of them."""
    if not required:
        return None
    needed = ", ".join(document_kind_label(k) for k in required)
    if not gaps:
        return _("Required certificates: %(kinds)s — all present and valid.", kinds=needed)
    lacking = ", ".join(document_kind_label(k) for k in (*gaps.missing, *gaps.expired))
    return _("Required certificates: %(kinds)s. Missing or expired: %(lacking)s; the batch "
             "cannot be approved.", kinds=needed, lacking=lacking)


def before_approval_text(gaps: Gaps) -> str | None:
    """For the exporter, before and at submission: the required certificates the batch lacks
    or holds only expired, which the office's approval will ask for."""
    if not gaps:
        return None
    parts = []
    if gaps.missing:
        parts.append(_("missing: %(kinds)s",
                       kinds=", ".join(document_kind_label(k) for k in gaps.missing)))
    if gaps.expired:
        parts.append(_("expired: %(kinds)s",
                       kinds=", ".join(document_kind_label(k) for k in gaps.expired)))
    return _("The trade office cannot approve this batch without these required certificates "
             "(%(lacking)s). Add each as evidence with its number and dates, valid on the day "
             "of the decision.", lacking="; ".join(parts))
