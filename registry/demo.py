"""Realistic demo data, built through the same services as the web pages (so it is audited)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from sqlmodel import Session, func, select

from registry.accounts import second_factor
from registry.accounts import services as accounts
from registry.accounts.models import Organisation, OrgKind, Role, User, UserStatus
from registry.accounts.passwords import PasswordHashing
from registry.audit import services as audit
from registry.audit.tags import EventTag
from registry.catalog import services as catalog
from registry.catalog.certification import Action
from registry.catalog.models import Batch, Product
from registry.catalog.rules import BatchInput, ProductInput
from registry.clock import today, utcnow
from registry.files import FileStore
from registry.printing import services as printing
from registry.review import services as review
from registry.signing.kek import Kek

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (documented demo credential)
# The TOTP seeds of the demo's officers and admin, printed in the README ("Demo accounts"):
# officers and admins must have a second factor, and scripted checks compute the codes.
DEMO_TOTP_SECRETS: dict[str, str] = {
    "admin@demo.test": "DEMOADMINTOTPKEYMADEINBALINTBNTT",
    "officer.bali@demo.test": "DEMOBALITOTPKEYMADEINBALINTBNTTA",
    "officer.ntb@demo.test": "DEMONTBTOTPKEYMADEINBALINTBNTTAA",
    "officer.ntt@demo.test": "DEMONTTTOTPKEYMADEINBALINTBNTTAA",
}


class DemoRefused(RuntimeError):
    pass


def _org(session: Session, admin: User | None, **kwargs: Any) -> Organisation:
    org = Organisation(**kwargs)
    session.add(org)
    session.flush()
    audit.record(session, actor=admin, action=EventTag.Organisation.CREATE,
                 object_type="organisation",
                 object_id=org.id, after={"name": org.name, "kind": org.kind,
                                          "province_code": org.province_code})
    return org


def _user(session: Session, hashing: PasswordHashing, admin: User | None, email: str, name: str,
          role: Role, org: Organisation) -> User:
    return accounts.create_user(session, admin, email=email, name=name, role=role,
                                organisation_id=org.id, password=DEMO_PASSWORD, hashing=hashing)


# (name id, name en, category, HS code, GTIN or None) of each company's products
PRODUCTS: dict[str, list[tuple[str, str, str, str, str | None]]] = {
    "ntb": [
        ("Madu Hutan Sumbawa", "Sumbawa Forest Honey", "processed-food", "040900", None),
        ("Mutiara Laut Selatan Lombok", "Lombok South Sea Pearls", "fishery", "710121", None),
        ("Kopi Arabika Tambora", "Tambora Arabica Coffee", "agriculture", "090111",
         "08991234567891"),
        ("Tenun Ikat Sasak", "Sasak Ikat Weaving", "craft", "621490", None),
    ],
    "ntt": [
        ("Kopi Arabika Bajawa Flores", "Flores Bajawa Arabica Coffee", "agriculture", "090111",
         None),
        ("Rumput Laut Kering Sabu", "Dried Seaweed from Sabu", "fishery", "121229", None),
        ("Bubuk Daun Kelor", "Moringa Leaf Powder", "agriculture", "121299", None),
        ("Tenun Ikat Sumba", "Sumba Ikat Cloth", "craft", "621490", None),
        ("Kacang Mete Flores", "Flores Cashew Nuts", "agriculture", "080132", None),
        ("Tuna Sirip Kuning Beku", "Frozen Yellowfin Tuna", "fishery", "030342", None),
    ],
}


def _evidence_pdf(title: str) -> bytes:
    """A one-page demo certificate (a real PDF, as the upload checks demand)."""
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    pdf.setTitle(title)
    pdf.drawString(72, 760, title)
    pdf.drawString(72, 740, "Demo document of the Made in Bali–NTB–NTT registry.")
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def load_demo(session: Session, *, store: FileStore, hashing: PasswordHashing, kek: Kek,
              force: bool = False) -> str:
    existing = session.exec(select(func.count()).select_from(User)).one()
    if existing and not force:
        raise DemoRefused(f"the database already has {existing} users; demo data not loaded "
                          "(use --force to add it anyway)")
    admin_org = _org(session, None, kind=OrgKind.ADMIN, name="Registry administration")
    admin = _user(session, hashing, None, "admin@demo.test", "Registry Admin", Role.ADMIN,
                  admin_org)

    offices = {
        code: _org(session, admin, kind=OrgKind.TRADE_OFFICE, province_code=code, name=name)
        for code, name in [
            ("51", "Dinas Perindustrian dan Perdagangan Provinsi Bali"),
            ("52", "Dinas Perdagangan Provinsi NTB"),
            ("53", "Dinas Perindustrian dan Perdagangan Provinsi NTT"),
        ]
    }
    officers = {
        "51": _user(session, hashing, admin, "officer.bali@demo.test", "Made Wirawan",
                    Role.OFFICER, offices["51"]),
        "52": _user(session, hashing, admin, "officer.ntb@demo.test", "Baiq Nurul Aini",
                    Role.OFFICER, offices["52"]),
        "53": _user(session, hashing, admin, "officer.ntt@demo.test", "Yohanes Bria",
                    Role.OFFICER, offices["53"]),
    }
    printer_org = _org(session, admin, kind=OrgKind.PRINTER, province_code="51",
                       name="Percetakan Label Denpasar", address="Jl. Gatot Subroto 12, Denpasar")
    _user(session, hashing, admin, "printer@demo.test", "Komang Ayu", Role.PRINTER, printer_org)
    for user in (admin, *officers.values()):
        second_factor.enrol_with_secret(session, admin, user, kek, DEMO_TOTP_SECRETS[user.email],
                                        utcnow())

    companies = {
        "ntb": _org(session, admin, kind=OrgKind.EXPORTER, province_code="52",
                    name="PT Sumbawa Lombok Ekspor", nib="9120301234567",
                    address="Jl. Pejanggik 45, Mataram"),
        "ntt": _org(session, admin, kind=OrgKind.EXPORTER, province_code="53",
                    name="CV Flores Sumba Nusantara", nib="9120307654321",
                    address="Jl. El Tari 8, Kupang"),
    }
    exporters = {
        "ntb": _user(session, hashing, admin, "exporter.ntb@demo.test", "Lalu Ahmad Zaini",
                     Role.EXPORTER, companies["ntb"]),
        "ntt": _user(session, hashing, admin, "exporter.ntt@demo.test", "Maria Goreti Nona",
                     Role.EXPORTER, companies["ntt"]),
    }
    # A second company per province shows an officer a queue with more than one exporter,
    # and a pending sign-up shows the activation step.
    coop = _org(session, admin, kind=OrgKind.EXPORTER, province_code="52",
                name="Koperasi Madu Hutan Sumbawa", nib="9120305550001",
                address="Desa Batu Dulang, Sumbawa")
    pending = User(email="pending.exporter@demo.test", name="Nengah Sari",
                   password_hash=exporters["ntb"].password_hash, role=Role.EXPORTER,
                   status=UserStatus.PENDING, organisation_id=coop.id)
    session.add(pending)
    session.flush()

    products: dict[str, list[Product]] = {}
    for key, rows in PRODUCTS.items():
        products[key] = [
            catalog.create_product(session, exporters[key], ProductInput(
                name_id=nid, name_en=nen, category=cat, hs_code=hs, gtin=gtin,
                description=f"{nen} from {'NTB' if key == 'ntb' else 'NTT'}."))
            for nid, nen, cat, hs, gtin in rows
        ]

    now = today()
    plans = [
        # (company, product index, lot, qty, unit, regency, producer, dest, value, fate)
        ("ntb", 0, "SBW-HNY-2611-01", "1200", "kg", "52.04", "Koperasi Madu Hutan Batu Dulang",
         "NL", 540_000_000, "approved"),
        ("ntb", 1, "LBK-PRL-2611-01", "350", "pcs", "52.01", "Mutiara Sekotong",
         "JP", 2_100_000_000, "approved"),
        ("ntb", 2, "TMB-COF-2610-02", "6", "t", "52.05", "KUB Kopi Tambora", "DE",
         780_000_000, "submitted"),
        ("ntb", 3, "SSK-IKT-2611-01", "80", "pcs", "52.02", "Sentra Tenun Sukarara", "AU",
         96_000_000, "draft"),
        ("ntb", 0, "SBW-HNY-2609-03", "800", "kg", "52.04", "Koperasi Madu Hutan Batu Dulang",
         "SG", 352_000_000, "rejected"),
        ("ntb", 2, "TMB-COF-2606-01", "4", "t", "52.05", "KUB Kopi Tambora", "US",
         510_000_000, "expired"),
        ("ntt", 0, "BJW-COF-2611-01", "12", "t", "53.09", "Koperasi Kopi Bajawa", "US",
         1_450_000_000, "approved"),
        ("ntt", 1, "SAB-SWD-2611-01", "25", "t", "53.20", "Kelompok Petani Rumput Laut Menia",
         "CN", 375_000_000, "suspended"),
        ("ntt", 2, "KLR-PWD-2610-01", "900", "kg", "53.71", "UMKM Kelor Kupang", "KR",
         225_000_000, "revoked"),
        ("ntt", 3, "SMB-IKT-2611-01", "120", "pcs", "53.11", "Sanggar Tenun Prailiu", "JP",
         180_000_000, "submitted"),
        ("ntt", 4, "FLR-CSH-2611-01", "15", "t", "53.06", "Koperasi Mete Flores Timur", "VN",
         1_680_000_000, "approved"),
        ("ntt", 5, "KPG-TUN-2611-01", "18", "t", "53.71", "PT Perikanan Tenau", "JP",
         1_260_000_000, "draft"),
    ]
    created = 0
    approved: list[tuple[User, Batch]] = []
    for key, idx, lot, qty, unit, regency, producer, dest, value, fate in plans:
        exporter = exporters[key]
        product = products[key][idx]
        batch = catalog.create_batch(session, exporter, BatchInput(
            product_id=product.id, lot_code=lot, quantity=Decimal(qty), unit=unit,
            production_date=now - dt.timedelta(days=20 + created * 3),
            best_before=(now + dt.timedelta(days=540)) if product.category != "craft" else None,
            origin_regency_code=regency, producer=producer, hub="benoa" if unit == "t" else
            "ngurah-rai", destination_country=dest, declared_value_idr=value))
        created += 1
        if fate == "draft":
            continue
        # The office reviews evidence: every submitted batch carries its documents, the
        # phytosanitary certificate (public on the verification page) and the origin one.
        for kind, title, public in (
            ("phytosanitary", "Phytosanitary certificate", True),
            ("certificate_of_origin", "Certificate of origin (SKA)", False),
        ):
            catalog.add_document(session, exporter, batch.id, kind=kind,
                                 filename=f"{kind}-{lot}.pdf",
                                 data=_evidence_pdf(f"{title} — {lot} — {producer}"),
                                 is_public=public, store=store,
                                 max_bytes=10 * 1024 * 1024, max_pixels=40_000_000)
        catalog.submit_batch(session, exporter, batch.id)
        if fate == "submitted":
            continue
        officer = officers[batch.origin_province_code]

        def _decide(action: Action, reason: str | None = None,
                    until: dt.date | None = None, officer: User = officer,
                    batch: Batch = batch) -> None:
            session.refresh(batch)
            review.decide(session, officer, batch.id, action=action,
                          expected_version=batch.version, reason=reason, valid_until=until)

        if fate == "rejected":
            _decide(Action.REJECT, "Phytosanitary certificate missing; please attach it.")
            continue
        _decide(Action.APPROVE, until=now + dt.timedelta(days=365))
        if fate == "approved":
            approved.append((exporter, batch))
        if fate == "suspended":
            _decide(Action.SUSPEND, "Lab results on heavy metals requested before release.")
        elif fate == "revoked":
            _decide(Action.REVOKE, "Producer found to mix imported leaf powder.")
        elif fate == "expired":
            # Demo only: shows how a certificate past its validity reads.
            session.refresh(batch)
            before = catalog.batch_snapshot(batch)
            batch.valid_until = now - dt.timedelta(days=10)
            session.add(batch)
            session.flush()
            audit.record(session, actor=None, action=EventTag.Operations.DEMO_BACKDATE,
                         object_type="batch",
                         object_id=batch.id, before=before, after=catalog.batch_snapshot(batch))
    # Print jobs on every stock for the demo print shop, so its login has real labels at once.
    jobs = [("a4-3x7", 42, "500 g"), ("roll-60x40", 12, "1 pcs"), ("a4-2x7", 28, "1 kg"),
            ("roll-100x150", 6, "25 kg"), ("letter-3x10", 30, "250 g"), ("a4-2x4", 16, "1 pcs"),
            ("roll-50x30", 10, "100 g")]
    for i, (stock, count, net) in enumerate(jobs):
        exporter, batch = approved[i % len(approved)]
        printing.order_job(session, exporter, batch.id, printer_org_id=printer_org.id,
                           stock=stock, quantity=count, net_quantity=net)
    return (f"demo data loaded: {len(plans)} batches, {len(jobs)} print jobs, "
            f"{sum(len(v) for v in products.values())} products, "
            f"password for every demo account: {DEMO_PASSWORD}")
