"""Realistic demo data: two years of a plausible registry up to today.

Every change goes through the same services as the web pages, with the registry clock moved to
the moment it happened (``registry.clock.moved_to``): batches are created, documented,
submitted and decided on the dates the history says, print jobs are ordered and downloaded
while their batch may carry labels, and each service writes its own rows, decision rows,
version bumps, serial counters, label signatures and audit events, in time order (the audit
chain's times rise with its sequence). Only the scans (the public resolver's log, written by
the scan buffer and never audited) are inserted directly, in one bulk INSERT: see
``_scan_rows`` for the invariants they keep.

Deterministic: one seeded generator, over a calendar that ends at the moment the demo loads.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from shapely.geometry import Point
from sqlalchemy import insert, update
from sqlmodel import Session, col, func, select

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
from registry.certificates.rules import CertificateInput, OriginForm
from registry.clock import REGION_TZ, moved_to, utcnow
from registry.figures import summary
from registry.files import FileStore
from registry.gs1 import digital_link as gs1
from registry.mail.kinds import MailState
from registry.mail.models import Mail
from registry.plots import rules as plot_rules
from registry.plots import services as plots
from registry.printing import services as printing
from registry.printing.models import PrintJob
from registry.printing.rules import NET_UNITS, parse_net_quantity
from registry.reference import HUB_MODES, locodes
from registry.review import services as review
from registry.shipments import services as shipments
from registry.shipments.rules import ShipmentInput, iso6346_check_digit
from registry.signing import services as signing
from registry.signing.kek import Kek
from registry.signing.verifier import VerifyStatus
from registry.targets import services as targets
from registry.verify import services as verify
from registry.verify.attribution import Attribution, Kind
from registry.verify.models import Scan
from registry.verify.rules import ScanStats, Signal, Verdict

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (documented demo credential)
# The TOTP seeds of the demo's officers and admin, printed in the README ("Demo accounts"):
# officers and admins must have a second factor, and scripted checks compute the codes.
DEMO_TOTP_SECRETS: dict[str, str] = {
    "admin@demo.test": "DEMOADMINTOTPKEYMADEINBALINTBNTT",
    "officer.bali@demo.test": "DEMOBALITOTPKEYMADEINBALINTBNTTA",
    "officer.ntb@demo.test": "DEMONTBTOTPKEYMADEINBALINTBNTTAA",
    "officer.ntt@demo.test": "DEMONTTTOTPKEYMADEINBALINTBNTTAA",
}
SEED = 1958  # the year Bali, NTB and NTT became provinces
HISTORY_MONTHS = 25  # the last 24 months in full, and the one before them


class DemoRefused(RuntimeError):
    pass


# ---------------------------------------------------------------------------- the cast
@dataclass(frozen=True)
class Line:
    """A product a company exports, and how its batches look."""

    name_id: str
    name_en: str
    category: str
    hs_code: str  # from registry/reference/hs_codes.csv
    unit: str
    quantity: tuple[float, float]  # per batch, in ``unit``
    price_idr: int  # declared value per ``unit``
    regencies: tuple[str, ...]
    producers: tuple[str, ...]
    destinations: tuple[str, ...]  # the first ones most often
    peak: tuple[int, ...]  # months of the harvest (or of the export season)
    net: str | None  # net content of one label; None: not labelled (live cattle)
    lot: str  # the lot codes' prefix
    per_year: float  # batches a year
    gtin: str | None = None


@dataclass(frozen=True)
class Company:
    key: str
    name: str
    province: str
    nib: str
    address: str
    email: str
    person: str
    lines: tuple[Line, ...]


COMPANIES: tuple[Company, ...] = (
    Company("ntb", "PT Sumbawa Lombok Ekspor", "52", "9120301234567", "Jl. Pejanggik 45, Mataram",
            "exporter.ntb@demo.test", "Lalu Ahmad Zaini", (
                Line("Madu Hutan Sumbawa", "Sumbawa Forest Honey", "processed-food", "040900",
                     "kg", (400, 2500), 420_000, ("52.04", "52.07"),
                     ("Koperasi Madu Hutan Batu Dulang", "Jaringan Madu Hutan Sumbawa"),
                     ("SG", "MY", "NL", "AE", "JP", "SA"), (12, 1, 2, 6, 7), "500 g",
                     "SBW-HNY", 10),
                Line("Mutiara Laut Selatan Lombok", "Lombok South Sea Pearls", "fishery",
                     "710121", "pcs", (150, 900), 5_500_000, ("52.01", "52.08", "52.03"),
                     ("Mutiara Sekotong", "Budidaya Mutiara Gili", "Mutiara Teluk Jukung"),
                     ("JP", "HK", "AU", "US", "FR", "CH"), (7, 8, 9, 10), "1 pcs", "LBK-PRL", 8),
                Line("Kopi Arabika Tambora", "Tambora Arabica Coffee", "agriculture", "090111",
                     "t", (3, 19.2), 85_000_000, ("52.05", "52.06"),
                     ("KUB Kopi Tambora", "Koperasi Tani Kopi Pekat"),
                     ("US", "DE", "JP", "KR", "AU", "NL"), (7, 8, 9, 10), "60 kg", "TMB-COF", 7,
                     gtin="08991234567891"),
                Line("Tenun Ikat Sasak", "Sasak Ikat Weaving", "craft", "621490", "pcs",
                     (40, 300), 1_200_000, ("52.02", "52.03", "52.71"),
                     ("Sentra Tenun Sukarara", "Kelompok Tenun Pringgasela"),
                     ("AU", "JP", "NL", "US", "FR", "IT"), (9, 10, 11), "1 pcs", "SSK-IKT", 6),
            )),
    Company("ntt", "CV Flores Sumba Nusantara", "53", "9120307654321", "Jl. El Tari 8, Kupang",
            "exporter.ntt@demo.test", "Maria Goreti Nona", (
                Line("Kopi Arabika Bajawa Flores", "Flores Bajawa Arabica Coffee", "agriculture",
                     "090111", "t", (6, 19.2), 90_000_000, ("53.09", "53.10", "53.19"),
                     ("Koperasi Kopi Bajawa", "Asosiasi Petani Kopi Manggarai"),
                     ("US", "JP", "KR", "AU", "DE", "GB", "SA"), (6, 7, 8, 9, 10), "60 kg",
                     "BJW-COF", 8),
                Line("Rumput Laut Kering Sabu", "Dried Seaweed from Sabu", "fishery", "121229",
                     "t", (10, 50), 15_000_000, ("53.20", "53.14", "53.01"),
                     ("Kelompok Petani Rumput Laut Menia", "Koperasi Rumput Laut Rote"),
                     ("CN", "PH", "KR", "FR", "US", "VN"), (6, 7, 8, 9, 10), "50 kg",
                     "SAB-SWD", 10),
                Line("Bubuk Daun Kelor", "Moringa Leaf Powder", "agriculture", "121299", "kg",
                     (200, 1500), 250_000, ("53.71", "53.01"),
                     ("UMKM Kelor Kupang", "Kelompok Wanita Tani Oesao"),
                     ("KR", "US", "DE", "AU", "JP"), (), "250 g", "KLR-PWD", 6),
                Line("Tenun Ikat Sumba", "Sumba Ikat Cloth", "craft", "621490", "pcs", (40, 250),
                     2_000_000, ("53.11", "53.12", "53.18", "53.17"),
                     ("Sanggar Tenun Prailiu", "Kelompok Tenun Lambanapu"),
                     ("JP", "AU", "NL", "US", "FR", "DE"), (9, 10, 11), "1 pcs", "SMB-IKT", 5),
                Line("Kacang Mete Flores", "Flores Cashew Nuts", "agriculture", "080132", "t",
                     (5, 16), 110_000_000, ("53.06", "53.07", "53.13"),
                     ("Koperasi Mete Flores Timur", "KUB Mete Sikka"),
                     ("VN", "US", "NL", "CN", "IN", "AE"), (10, 11, 12, 1), "25 kg", "FLR-CSH",
                     8),
                Line("Tuna Sirip Kuning Beku", "Frozen Yellowfin Tuna", "fishery", "030342", "t",
                     (8, 24), 70_000_000, ("53.71", "53.07", "53.15", "53.05"),
                     ("PT Perikanan Tenau", "Nelayan Tuna Maumere"),
                     ("JP", "US", "TH", "SG", "KR"), (4, 5, 6, 7, 8, 9), "20 kg", "KPG-TUN", 9),
            )),
    Company("bali", "PT Kopi dan Rempah Bali Utama", "51", "9120301110001",
            "Jl. Raya Kintamani 17, Bangli", "exporter.bali@demo.test", "I Wayan Sudarma", (
                Line("Kopi Arabika Kintamani", "Kintamani Arabica Coffee", "agriculture",
                     "090111", "t", (3, 19.2), 95_000_000, ("51.06", "51.08"),
                     ("Subak Abian Kerta Waras", "Koperasi Kopi Catur Paramitha"),
                     ("JP", "US", "AU", "KR", "DE", "TW"), (6, 7, 8, 9), "60 kg", "KTM-COF", 8),
                Line("Vanili Tabanan", "Tabanan Vanilla Beans", "agriculture", "090510", "kg",
                     (80, 600), 3_500_000, ("51.02", "51.01"),
                     ("Kelompok Tani Vanili Pupuan", "KUB Vanili Jembrana"),
                     ("US", "FR", "DE", "NL", "JP"), (8, 9, 10, 11), "1 kg", "TBN-VNL", 5),
                Line("Garam Laut Amed", "Amed Sea Salt", "processed-food", "250100", "kg",
                     (500, 4000), 45_000, ("51.07",), ("Koperasi Garam Amed",),
                     ("JP", "FR", "US", "AU", "SG"), (7, 8, 9, 10), "500 g", "AMD-SLT", 4),
                Line("Rumput Laut Nusa Penida", "Nusa Penida Seaweed", "fishery", "121221", "t",
                     (5, 25), 18_000_000, ("51.05",),
                     ("Kelompok Pembudidaya Rumput Laut Lembongan",),
                     ("CN", "KR", "JP", "PH"), (5, 6, 7, 8, 9), "50 kg", "NPD-SWD", 5),
            )),
    Company("craft", "CV Kriya Dewata", "51", "9120301110002", "Jl. Raya Celuk 88, Gianyar",
            "exporter.craft@demo.test", "Ni Luh Putu Ariani", (
                Line("Patung Kayu Ukir", "Carved Wooden Statues", "craft", "442011", "pcs",
                     (100, 1200), 650_000, ("51.04", "51.03"),
                     ("Sanggar Ukir Mas Ubud", "Pengrajin Kayu Tegallalang"),
                     ("US", "AU", "DE", "FR", "NL", "GB", "IT", "ES", "CA"), (8, 9, 10, 11),
                     "1 pcs", "GNR-WDC", 9),
                Line("Perhiasan Perak Celuk", "Celuk Silver Jewellery", "craft", "711311", "pcs",
                     (200, 1500), 1_400_000, ("51.04", "51.71"),
                     ("Pengrajin Perak Celuk", "Koperasi Perak Denpasar"),
                     ("US", "AU", "GB", "DE", "JP", "IT"), (9, 10, 11), "1 pcs", "CLK-SLV", 7),
                Line("Keranjang Ata Tenganan", "Tenganan Ata-Grass Baskets", "craft", "460219",
                     "pcs", (300, 3000), 150_000, ("51.07", "51.06"),
                     ("Pengrajin Ata Tenganan", "KUB Anyaman Bangli"),
                     ("US", "JP", "AU", "FR", "NL", "KR"), (9, 10, 11), "1 pcs", "TGN-BSK", 6),
            )),
    Company("bima", "CV Ternak dan Laut Bima", "52", "9120301220003",
            "Jl. Soekarno-Hatta 21, Kota Bima", "exporter.bima@demo.test", "Muhammad Syarif", (
                Line("Sapi Bali Bakalan", "Bali Cattle (feeder)", "livestock", "010229", "head",
                     (50, 400), 14_000_000, ("52.06", "52.05", "52.72", "52.04"),
                     ("Kelompok Ternak Sapi Sumbawa", "Koperasi Peternak Dompu"),
                     ("MY", "TL", "BN"), (4, 5, 6, 11, 12), None, "BMA-CTL", 6),
                Line("Rumput Laut Lombok Timur", "East Lombok Seaweed", "fishery", "121229", "t",
                     (10, 40), 14_000_000, ("52.03", "52.02"),
                     ("Kelompok Rumput Laut Ekas", "Koperasi Pesisir Jerowaru"),
                     ("CN", "KR", "FR", "PH"), (6, 7, 8, 9, 10), "50 kg", "LTM-SWD", 6),
                Line("Kacang Mete Lombok Utara", "North Lombok Cashew Nuts", "agriculture",
                     "080132", "t", (4, 12), 105_000_000, ("52.08", "52.01"),
                     ("KUB Mete Bayan", "Koperasi Mete Gangga"), ("VN", "US", "CN", "NL"),
                     (9, 10, 11, 12), "25 kg", "KLU-CSH", 5),
            )),
    Company("timor", "PT Timor Ternak Sejahtera", "53", "9120301330004",
            "Jl. Timor Raya 120, Kupang", "exporter.timor@demo.test", "Yakobus Nahak", (
                Line("Sapi Timor Bakalan", "Timor Cattle (feeder)", "livestock", "010229",
                     "head", (80, 500), 13_000_000,
                     ("53.01", "53.02", "53.03", "53.04", "53.21"),
                     ("Kelompok Peternak Amarasi", "Koperasi Ternak Atambua"),
                     ("TL", "MY", "VN"), (4, 5, 6, 11, 12), None, "TMR-CTL", 7),
                Line("Vanili Flores", "Flores Vanilla Beans", "agriculture", "090510", "kg",
                     (60, 400), 3_200_000, ("53.08", "53.10", "53.16"),
                     ("Koperasi Vanili Ende", "KUB Vanili Manggarai"), ("US", "FR", "DE", "NL"),
                     (8, 9, 10, 11), "1 kg", "END-VNL", 5),
            )),
)

# Shelf life from production, by category (crafts and live cattle have none).
SHELF_DAYS = {"agriculture": 540, "fishery": 365, "processed-food": 720}
# As officers write them: some in Indonesian, some in English, some both.
REJECTIONS = (
    "Sertifikat fitosanitari belum dilampirkan.",
    "Phytosanitary certificate missing; please attach it.",
    "Nilai ekspor yang dideklarasikan tidak sesuai dengan invoice (selisih lebih dari 10%).",
    "Hasil uji laboratorium kadar air sudah lebih dari 6 bulan; mohon lampirkan hasil terbaru.",
    "The certificate of origin (SKA) names another consignee; please correct and resubmit.",
    "Jumlah pada packing list tidak sama dengan jumlah yang dideklarasikan.",
    "Lot code on the evidence differs from the batch (typo?). Mohon diperbaiki.",
    "Kode HS tidak sesuai dengan produk; periksa kembali klasifikasinya.",
)
SUSPENSIONS = (
    "Lab results on heavy metals requested before release.",
    "Pengaduan importir: kadar air melebihi 12%; ditangguhkan sampai ada hasil uji ulang.",
    "Asal produk diragukan; Dinas menjadwalkan pemeriksaan lapangan ke produsen.",
)
REVOCATIONS = (
    "Producer found to mix imported leaf powder.",
    "Dokumen SKA terbukti dipalsukan; sertifikasi dicabut.",
    "Label dipakai untuk barang dari lot lain (temuan inspeksi gudang di Benoa).",
)
FAKE_REPORTS = (
    ("The QR code on this bag opened a page saying the label is not genuine. The shop sells "
     "it as Flores coffee.", "Tokyo, Kappabashi market stall"),
    ("Het etiket lijkt gekopieerd: de QR-code werkt niet. Bought online.", "Rotterdam, webshop"),
    ("Label tidak asli menurut halaman ini, padahal dijual sebagai madu Sumbawa.",
     "Singapore, Geylang minimart"),
)
# The certificate of origin's form by destination: the trade agreement whose preference the
# exporter claims (general, non-preferential, where none applies).
ORIGIN_FORMS: dict[str, OriginForm] = {
    "CN": OriginForm.FORM_E, "JP": OriginForm.FORM_IJEPA, "KR": OriginForm.FORM_AK,
    "AU": OriginForm.FORM_AANZ, "NZ": OriginForm.FORM_AANZ, "IN": OriginForm.FORM_AI,
    **dict.fromkeys(("SG", "MY", "TH", "VN", "PH", "BN", "KH", "LA", "MM"), OriginForm.FORM_D),
}

# Which page language a reader of each destination gets (the verification page speaks
# id, en, zh and ja).
PAGE_LANGUAGE = {"JP": "ja", "CN": "zh", "HK": "zh", "TW": "zh", "SG": "zh"}

# The demo's labels for each verdict a buyer can be shown: (company key, lot). These batches
# are placed in time so that each reads as named today, with a printed, downloaded job.
SHOWCASE: dict[str, tuple[str, str]] = {
    "genuine": ("ntb", "SBW-HNY-0001"),
    "suspended": ("ntt", "SAB-SWD-0007"),
    "revoked": ("ntt", "KLR-PWD-0003"),
    "expired": ("ntb", "TMB-COF-0412"),
}


# ---------------------------------------------------------------------------- helpers
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


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _working_moment(rng: random.Random, day: dt.date) -> dt.datetime:
    """A moment of office hours (08:00–16:30 WITA) on ``day``, Monday to Friday (a weekend
    day moves to the Monday after), as UTC."""
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    local = dt.datetime.combine(day, dt.time(8), REGION_TZ) + dt.timedelta(
        minutes=rng.randrange(0, 510))
    return local.astimezone(dt.UTC)


def _after_hours(rng: random.Random, start: dt.datetime, hours: float) -> dt.datetime:
    """``hours`` after ``start``, moved into office hours: officers decide at their desks."""
    moment = start + dt.timedelta(hours=hours)
    local = moment.astimezone(REGION_TZ)
    if local.weekday() < 5 and 8 <= local.hour < 17:
        return moment
    return max(moment, _working_moment(rng, local.date() + dt.timedelta(
        days=0 if local.hour < 8 else 1)))


def _month_start(day: dt.date, back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


# The demo's destinations' main seaports and cargo airports, so the demo ships where exporters
# do rather than to the first of a country's hundreds of codes.
_MAIN_PLACES = frozenset({
    "AEJEA", "AEDXB", "AUSYD", "AUMEL", "BNMUA", "BNBWN", "CAVAN", "CAYVR", "CHBSL", "CHZRH",
    "CNSGH", "CNPVG", "DEHAM", "DEFRA", "ESVLC", "ESMAD", "FRLEH", "FRCDG", "GBFXT", "GBLHR",
    "HKHKG", "INNSA", "INBOM", "ITGOA", "ITMXP", "JPTYO", "JPNRT", "KRPUS", "KRICN", "MYPKG",
    "MYKUL", "NLRTM", "NLAMS", "PHMNL", "SADMM", "SAJED", "SGSIN", "THLCH", "THBKK", "TLDIL",
    "TWKHH", "TWTPE", "USLAX", "USNYC", "VNSGN",
})


@dataclass
class _Plan:
    """One batch's life, as the history decides it before the services play it."""

    company: Company
    line: Line
    product: Product
    lot: str
    created: dt.datetime
    submitted: dt.datetime
    decided: dt.datetime
    quantity: Decimal
    produced: dt.date
    regency: str
    producer: str
    destination: str
    fate: str = "approved"  # draft, submitted, rejected, resubmitted, approved
    later: list[tuple[dt.datetime, Action, str | None]] = field(default_factory=list)
    jobs: list[tuple[dt.datetime, int]] = field(default_factory=list)  # (ordered, labels)
    valid_days: int = 365
    batch_id: int | None = None
    gtin: str | None = None  # the label GTIN, frozen at submission
    province: str = ""
    shipment_id: int | None = None  # its shipment through the Bali hub, once declared


class _History:
    """A calendar of actions run in time order, each with the clock moved to its moment;
    what would happen at or after ``until`` (the moment the demo loads) has not happened."""

    def __init__(self, until: dt.datetime) -> None:
        self._queue: list[tuple[dt.datetime, int, Callable[[], None]]] = []
        self._n = 0
        self.until = until

    def at(self, moment: dt.datetime, action: Callable[[], None]) -> None:
        if moment >= self.until:
            return
        self._n += 1
        heapq.heappush(self._queue, (moment, self._n, action))

    def run(self, session: Session) -> None:
        done = 0
        while self._queue:
            moment, _n, action = heapq.heappop(self._queue)
            with moved_to(moment):
                action()
            done += 1
            if done % 100 == 0:
                # The services' guarded UPDATEs keep the session in step by evaluating their
                # WHERE over every object it holds: two years of objects made each one slow.
                # Flushed, nothing is lost; the actors stay usable detached (ids and roles).
                session.flush()
                session.expunge_all()


# ---------------------------------------------------------------------------- loading
def load_demo(session: Session, *, store: FileStore, hashing: PasswordHashing, kek: Kek,
              force: bool = False, host: str = "127.0.0.1:5000", scheme: str = "http") -> str:
    existing = session.exec(select(func.count()).select_from(User)).one()
    if existing and not force:
        raise DemoRefused(f"the database already has {existing} users; demo data not loaded "
                          "(use --force to add it anyway)")
    now = utcnow()
    today = now.astimezone(REGION_TZ).date()
    rng = random.Random(SEED)
    start = _working_moment(rng, _month_start(today, HISTORY_MONTHS)) - dt.timedelta(days=7)
    loader = _Loader(session, store=store, hashing=hashing, kek=kek, rng=rng, now=now)
    with moved_to(start):
        loader.cast()
    loader.plan_history(today)
    loader.history.run(session)
    loader.scans()
    loader.old_mail_sent()
    session.flush()
    # The decisions kept the figures' summary cells as they went; the scans were written in
    # bulk, so they are rolled up here (as the worker's minute sweep would).
    summary.rebuild(session)
    loader.targets(today)
    labels = label_uris(session, kek, host=host, scheme=scheme)
    counts = dict(session.execute(select(Batch.status, func.count()).group_by(Batch.status)
                                  ).all())
    jobs = session.exec(select(func.count()).select_from(PrintJob)).one()
    scans = session.exec(select(func.count()).select_from(Scan)).one()
    lines = [f"demo data loaded: {sum(counts.values())} batches "
             f"({', '.join(f'{n} {s}' for s, n in sorted(counts.items()))}), {jobs} print jobs, "
             f"{scans} scans, from {start:%Y-%m-%d} to {today:%Y-%m-%d}; "
             f"password for every demo account: {DEMO_PASSWORD}",
             "labels to scan (one per verdict):"]
    lines += [f"  {verdict:<12} {uri}" for verdict, uri in labels.items()]
    return "\n".join(lines)


class _Loader:
    def __init__(self, session: Session, *, store: FileStore, hashing: PasswordHashing,
                 kek: Kek, rng: random.Random, now: dt.datetime) -> None:
        self.session, self.store, self.hashing, self.kek = session, store, hashing, kek
        self.rng, self.now = rng, now
        self.history = _History(until=now)
        self.exporters: dict[str, User] = {}
        self.officers: dict[str, User] = {}
        self.products: dict[tuple[str, str], Product] = {}
        self.plans: list[_Plan] = []
        self.lots: dict[str, int] = {}
        self.stocks = ("a4-3x7", "roll-60x40", "a4-2x7", "roll-100x150", "letter-3x10",
                       "a4-2x4", "roll-50x30")
        self.pdfs = {kind: _evidence_pdf(title) for kind, title in (
            ("phytosanitary", "Phytosanitary certificate"),
            ("fishery_health", "Fish health certificate"),
            ("certificate_of_origin", "Certificate of origin (SKA)"),
            ("lab_results", "Laboratory test report"),
            ("other", "Veterinary health certificate"))}

    # ------------------------------------------------------------------ accounts, products
    def _org(self, admin: User | None, **kwargs: Any) -> Organisation:
        org = Organisation(**kwargs)
        self.session.add(org)
        self.session.flush()
        audit.record(self.session, actor=admin, action=EventTag.Organisation.CREATE,
                     object_type="organisation", object_id=org.id,
                     after={"name": org.name, "kind": org.kind,
                            "province_code": org.province_code})
        return org

    def _user(self, admin: User | None, email: str, name: str, role: Role,
              org: Organisation) -> User:
        return accounts.create_user(self.session, admin, email=email, name=name, role=role,
                                    organisation_id=org.id, password=DEMO_PASSWORD,
                                    hashing=self.hashing)

    def cast(self) -> None:
        session = self.session
        admin_org = self._org(None, kind=OrgKind.ADMIN, name="Registry administration")
        admin = self._user(None, "admin@demo.test", "Registry Admin", Role.ADMIN, admin_org)
        self.admin = admin
        offices = {
            code: self._org(admin, kind=OrgKind.TRADE_OFFICE, province_code=code, name=name)
            for code, name in [
                ("51", "Dinas Perindustrian dan Perdagangan Provinsi Bali"),
                ("52", "Dinas Perdagangan Provinsi NTB"),
                ("53", "Dinas Perindustrian dan Perdagangan Provinsi NTT"),
            ]
        }
        for code, email, name in (("51", "officer.bali@demo.test", "Made Wirawan"),
                                  ("52", "officer.ntb@demo.test", "Baiq Nurul Aini"),
                                  ("53", "officer.ntt@demo.test", "Yohanes Bria")):
            self.officers[code] = self._user(admin, email, name, Role.OFFICER, offices[code])
        self.printer_org = self._org(admin, kind=OrgKind.PRINTER, province_code="51",
                                     name="Percetakan Label Denpasar",
                                     address="Jl. Gatot Subroto 12, Denpasar")
        self.printer = self._user(admin, "printer@demo.test", "Komang Ayu", Role.PRINTER,
                                  self.printer_org)
        for user in (admin, *self.officers.values()):
            second_factor.enrol_with_secret(session, admin, user, self.kek,
                                            DEMO_TOTP_SECRETS[user.email], utcnow())
        for company in COMPANIES:
            org = self._org(admin, kind=OrgKind.EXPORTER, province_code=company.province,
                            name=company.name, nib=company.nib, address=company.address)
            exporter = self._user(admin, company.email, company.person, Role.EXPORTER, org)
            self.exporters[company.key] = exporter
            for line in company.lines:
                where = {"51": "Bali", "52": "NTB", "53": "NTT"}[company.province]
                self.products[(company.key, line.lot)] = catalog.create_product(
                    session, exporter, ProductInput(
                        name_id=line.name_id, name_en=line.name_en, category=line.category,
                        hs_code=line.hs_code, gtin=line.gtin,
                        description=f"{line.name_en} from {where}."))
        # A second company in NTB shows an officer a queue with more than one exporter, and
        # its pending sign-up shows the activation step.
        coop = self._org(admin, kind=OrgKind.EXPORTER, province_code="52",
                         name="Koperasi Madu Hutan Sumbawa", nib="9120305550001",
                         address="Desa Batu Dulang, Sumbawa")
        session.add(User(email="pending.exporter@demo.test", name="Nengah Sari",
                         password_hash=self.exporters["ntb"].password_hash, role=Role.EXPORTER,
                         status=UserStatus.PENDING, organisation_id=coop.id))
        session.flush()
        # The registry's signing key: the one ``keys ensure`` made, or one made now.
        self.key, _made = signing.ensure(session, admin, self.kek)

    # ------------------------------------------------------------------ the plan
    def _lot(self, line: Line, produced: dt.date) -> str:
        stem = f"{line.lot}-{produced:%y%m}"
        self.lots[stem] = self.lots.get(stem, 0) + 1
        return f"{stem}-{self.lots[stem]:02d}"

    def _plan(self, company: Company, line: Line, created: dt.datetime,
              lot: str | None = None) -> _Plan:
        rng = self.rng
        low, high = line.quantity
        raw = rng.uniform(low, high)
        quantity = (Decimal(str(round(raw, 1))) if line.unit == "t"
                    else Decimal(int(raw // 10 * 10) or 10))
        submitted = created + dt.timedelta(hours=rng.uniform(0.5, 50))
        # Lead times: most within a working day or two, a tail of a week and more.
        decided = _after_hours(rng, submitted, min(240.0, rng.lognormvariate(math.log(20), 0.8)))
        produced = (created - dt.timedelta(days=rng.randrange(3, 40))).astimezone(
            REGION_TZ).date()
        plan = _Plan(company=company, line=line, product=self.products[(company.key, line.lot)],
                     lot=lot or self._lot(line, produced), created=created, submitted=submitted,
                     decided=decided, quantity=quantity, produced=produced,
                     regency=rng.choice(line.regencies),
                     producer=rng.choice(line.producers),
                     destination=rng.choice(line.destinations[:3] * 2 + line.destinations),
                     valid_days=180 if line.category == "fishery" else 365)
        return plan

    def _labels_for(self, plan: _Plan) -> int:
        """How many labels a job of the batch takes: its packages, a share of the batch."""
        assert plan.line.net is not None
        net = parse_net_quantity(plan.line.net)
        assert net is not None
        base = plan.quantity * NET_UNITS[plan.line.unit][1]
        return max(1, min(20_000, int(base / net.base * Decimal(self.rng.uniform(0.45, 0.98)))))

    def plan_history(self, today: dt.date) -> None:
        rng, now = self.rng, self.now
        for company in COMPANIES:
            for line in company.lines:
                weights = [2.2 if m in line.peak else 0.6 if line.peak else 1.0
                           for m in range(1, 13)]
                norm = 12 / sum(weights)
                for back in range(HISTORY_MONTHS, -1, -1):
                    month = _month_start(today, back)
                    # A registry in its second year grows: about a third more than the first.
                    growth = 0.8 + 0.45 * (HISTORY_MONTHS - back) / HISTORY_MONTHS
                    mean = line.per_year / 12 * weights[month.month - 1] * norm * growth * 0.8
                    for _ in range(_poisson(rng, mean)):
                        day = month + dt.timedelta(days=rng.randrange(0, 28))
                        created = _working_moment(rng, day)
                        if created < now:
                            self._fate(self._plan(company, line, created))
        self._showcase(today)
        for plan in sorted(self.plans, key=lambda p: p.created):
            self._schedule(plan)
        self.plan_reports()

    def _fate(self, plan: _Plan) -> None:
        """What happens to a batch: the rest of its life, drawn once."""
        rng, now = self.rng, self.now
        self.plans.append(plan)
        if plan.submitted >= now:
            plan.fate = "draft"
            return
        if plan.decided >= now:
            plan.fate = "submitted"
            return
        roll = rng.random()
        if roll < 0.09:
            plan.fate = "rejected"
            if rng.random() < 0.65:  # corrected and sent again, then certified
                plan.fate = "resubmitted"
            else:
                return
        approved_at = self._approved_at(plan)
        if approved_at >= now:
            return
        if plan.line.net is not None:
            ordered = _after_hours(rng, approved_at, rng.uniform(20, 120))
            plan.jobs.append((ordered, self._labels_for(plan)))
        roll = rng.random()
        if roll < 0.035:
            when = _working_moment(rng, (approved_at + dt.timedelta(
                days=rng.randrange(25, 110))).date())
            plan.later.append((when, Action.SUSPEND, rng.choice(SUSPENSIONS)))
            if rng.random() < 0.5:
                plan.later.append((_working_moment(rng, (when + dt.timedelta(
                    days=rng.randrange(10, 35))).date()), Action.REINSTATE,
                    "Hasil uji ulang memenuhi syarat; sertifikat berlaku kembali."))
        elif roll < 0.05:
            when = _working_moment(rng, (approved_at + dt.timedelta(
                days=rng.randrange(30, 150))).date())
            plan.later.append((when, Action.REVOKE, rng.choice(REVOCATIONS)))

    def _approved_at(self, plan: _Plan) -> dt.datetime:
        if plan.fate == "resubmitted":
            return plan.decided + dt.timedelta(days=5, hours=3)
        return plan.decided

    def _showcase(self, today: dt.date) -> None:
        """The batches whose labels a visitor scans for each verdict, placed so that each
        reads so today; and a few waiting and draft batches for the queues."""
        rng, now = self.rng, self.now
        by_key = {c.key: c for c in COMPANIES}

        def plan(key: str, lot: str, created_days_ago: int, fate: str = "approved") -> _Plan:
            company = by_key[key]
            line = next(ln for ln in company.lines if lot.startswith(ln.lot))
            created = min(_working_moment(rng, today - dt.timedelta(days=created_days_ago)),
                          now - dt.timedelta(hours=6))
            p = self._plan(company, line, created, lot=lot)
            p.submitted = created + dt.timedelta(hours=3)
            p.decided = _after_hours(rng, p.submitted, 20)
            p.fate = fate
            self.plans.append(p)
            return p

        def job(p: _Plan, days_after: int) -> None:
            p.jobs.append((p.decided + dt.timedelta(days=days_after, hours=2), self._labels_for(p)))

        genuine = plan("ntb", SHOWCASE["genuine"][1], 25)
        job(genuine, 2)
        suspended = plan("ntt", SHOWCASE["suspended"][1], 95)
        job(suspended, 4)
        suspended.later.append((_working_moment(rng, today - dt.timedelta(days=12)),
                                Action.SUSPEND, SUSPENSIONS[0]))
        revoked = plan("ntt", SHOWCASE["revoked"][1], 160)
        job(revoked, 6)
        revoked.later.append((_working_moment(rng, today - dt.timedelta(days=30)),
                              Action.REVOKE, REVOCATIONS[0]))
        # Approved for a year, printed at once, and past its validity for two months now.
        expired = plan("ntb", SHOWCASE["expired"][1], 430)
        expired.valid_days = 365
        job(expired, 3)
        for p in (genuine, suspended, revoked, expired):
            assert p.decided < now - dt.timedelta(days=5)
        # Every office has batches waiting for review today, and every exporter a draft.
        for key, lots in (("ntb", ("TMB-COF-0501", "SSK-IKT-0502")),
                          ("ntt", ("BJW-COF-0503", "SMB-IKT-0504", "FLR-CSH-0505")),
                          ("bali", ("KTM-COF-0506",)), ("craft", ("CLK-SLV-0507",))):
            for i, lot in enumerate(lots):
                plan(key, lot, 2 + i, fate="submitted")
        for key, lot in (("ntb", "SSK-IKT-0601"), ("ntt", "KPG-TUN-0602"),
                         ("craft", "GNR-WDC-0603")):
            plan(key, lot, 1, fate="draft")
        # One rejected batch, recent, that the exporter has yet to correct.
        plan("bali", "TBN-VNL-0701", 9, fate="rejected")

    # ------------------------------------------------------------------ playing it
    def _schedule(self, plan: _Plan) -> None:
        h = self.history
        h.at(plan.created, lambda: self._create(plan))
        if plan.fate == "draft":
            return
        h.at(plan.submitted, lambda: self._submit(plan))
        if plan.fate == "submitted":
            return
        if plan.fate in ("rejected", "resubmitted"):
            h.at(plan.decided, lambda: self._decide(plan, Action.REJECT,
                                                    self.rng.choice(REJECTIONS)))
            if plan.fate == "rejected":
                return
            again = plan.decided + dt.timedelta(days=2, hours=5)
            h.at(again, lambda: self._resubmit(plan))
        approved_at = self._approved_at(plan)
        h.at(approved_at, lambda: self._decide(
            plan, Action.APPROVE, until=(approved_at + dt.timedelta(days=plan.valid_days))
            .astimezone(REGION_TZ).date()))
        for ordered, labels in plan.jobs:
            if ordered < self.now:
                h.at(ordered, functools.partial(self._order, plan, labels))
        for when, action, reason in plan.later:
            if when < self.now:
                h.at(when, functools.partial(self._decide, plan, action, reason))
        # Most certified batches leave through their hub within days: declared by the
        # exporter, confirmed by the Bali office. Drawn from the lot's own generator, so the
        # rest of the demo's story (one seeded sequence) stays as it was.
        ship = random.Random(f"shipment-{plan.lot}")
        if ship.random() < 0.7:
            declared = approved_at + dt.timedelta(days=ship.randrange(1, 6), hours=2)
            passed = declared + dt.timedelta(days=ship.randrange(1, 4), hours=3)
            h.at(declared, functools.partial(self._ship, plan, ship))
            h.at(passed, functools.partial(self._pass, plan))

    def _create(self, plan: _Plan) -> None:
        line = plan.line
        produced = plan.produced
        shelf = SHELF_DAYS.get(line.category)
        hub = ("celukan-bawang" if line.unit == "head" else
               "benoa" if line.unit == "t" else "ngurah-rai")
        batch = catalog.create_batch(self.session, self.exporters[plan.company.key], BatchInput(
            product_id=plan.product.id, lot_code=plan.lot, quantity=plan.quantity,
            unit=line.unit, production_date=produced,
            best_before=produced + dt.timedelta(days=shelf) if shelf else None,
            origin_regency_code=plan.regency, producer=plan.producer, hub=hub,
            destination_country=plan.destination,
            declared_value_idr=int(plan.quantity * line.price_idr)))
        plan.batch_id, plan.province = batch.id, batch.origin_province_code

    def _document(self, plan: _Plan, kind: str) -> None:
        assert plan.batch_id is not None
        catalog.add_document(self.session, self.exporters[plan.company.key], plan.batch_id,
                             kind=kind, filename=f"{kind}-{plan.lot}.pdf", data=self.pdfs[kind],
                             is_public=kind in ("phytosanitary", "fishery_health"),
                             store=self.store, max_bytes=10 * 1024 * 1024,
                             max_pixels=40_000_000, certificate=self._facts(plan, kind))

    def _facts(self, plan: _Plan, kind: str) -> CertificateInput | None:
        """A certificate's number (and an origin certificate's form), so the batch pages and
        the verification page show certificates as facts (issue 18 §2)."""
        if kind in ("phytosanitary", "fishery_health"):
            suffix = "PHY" if kind == "phytosanitary" else "KI"
            return CertificateInput(number=f"{plan.lot}/{suffix}")
        if kind == "certificate_of_origin":
            return CertificateInput(number=f"{plan.batch_id:07d}/SKA/{plan.province or '52'}",
                                    form_type=ORIGIN_FORMS.get(plan.destination,
                                                               OriginForm.GENERAL))
        return None

    def _submit(self, plan: _Plan) -> None:
        assert plan.batch_id is not None
        # The office reviews evidence: the phytosanitary certificate (public on the
        # verification page; a veterinary one for cattle) and, for the last months' batches
        # that visitors open, the certificate of origin too (one file each for older ones
        # keeps the demo quick to load; an upload is a file written and synced).
        if plan.line.category == "livestock":
            self._document(plan, "other")
        elif plan.line.category == "fishery":
            # Fish go with the quarantine's fish health certificate (the default rule of
            # required certificates, migration 0026).
            self._document(plan, "fishery_health")
        elif plan.line.category != "craft":
            self._document(plan, "phytosanitary")
        if plan.line.category == "craft" or plan.created > self.now - dt.timedelta(days=90):
            self._document(plan, "certificate_of_origin")
        self._plots(plan)
        batch = catalog.submit_batch(self.session, self.exporters[plan.company.key],
                                     plan.batch_id)
        plan.gtin = batch.gtin

    def _plots(self, plan: _Plan) -> None:
        """Coffee and wood (EU Deforestation Regulation) go with their production plots: one
        to three smallholdings, points of 0.5–3.5 ha near the regency's centre, the last one
        often a polygon (a square of about 6 ha) to show both on the map."""
        assert plan.batch_id is not None
        exporter = self.exporters[plan.company.key]
        batch = self.session.get_one(Batch, plan.batch_id)
        if plots.eudr_scope(self.session, batch) is None:
            return
        regency = plot_rules.regency_shapes()[plan.regency]
        centre = regency.representative_point()
        # Its own generator: the demo's main sequence (and so its figures) stays as it was.
        rng = random.Random(f"{SEED}-{plan.lot}")
        for n in range(rng.randint(1, 3)):
            for _attempt in range(20):
                lat = centre.y + rng.uniform(-0.02, 0.02)
                lon = centre.x + rng.uniform(-0.02, 0.02)
                if regency.contains(Point(lon, lat).buffer(0.003)):
                    break
            else:
                lat, lon = centre.y, centre.x
            if n == 2:  # 0.0022° ≈ 243 m a side: ≈ 5.9 ha at 8–10° S
                side = 0.0022
                corners = [(0, 0), (side, 0), (side, side), (0, side)]
                text = "\n".join(f"{lat + dy:.6f}, {lon + dx:.6f}" for dy, dx in corners)
                parsed = plot_rules.parse_text(text)
                area = plot_rules.area_ha(parsed[0].geometry)
            else:
                parsed = plot_rules.parse_text(f"{lat:.6f}, {lon:.6f}")
                area = Decimal(str(round(rng.uniform(0.5, 3.5), 2)))
            plots.add_plots(self.session, exporter, plan.batch_id, parsed, plots.PlotInput(
                declared_ha=area, production_place=f"{plan.producer} — {n + 1}",
                producer_name=plan.producer,
                production_start=plan.produced - dt.timedelta(days=150),
                production_end=plan.produced))

    def _resubmit(self, plan: _Plan) -> None:
        assert plan.batch_id is not None
        self._document(plan, "lab_results")
        catalog.submit_batch(self.session, self.exporters[plan.company.key], plan.batch_id)

    def _decide(self, plan: _Plan, action: Action, reason: str | None = None,
                until: dt.date | None = None) -> None:
        batch = self.session.get_one(Batch, plan.batch_id)
        review.decide(self.session, self.officers[batch.origin_province_code], batch.id,
                      action=action, expected_version=batch.version, reason=reason,
                      valid_until=until)

    def _ship(self, plan: _Plan, rng: random.Random) -> None:
        batch = self.session.get_one(Batch, plan.batch_id)
        mode = HUB_MODES[batch.hub]
        # The main port or airport of the destination country, else its first by code.
        fitting = [p for p in locodes().values() if p.country == batch.destination_country
                   and (p.is_airport if mode == "air" else p.is_port)]
        port = min(fitting, key=lambda p: (p.code not in _MAIN_PLACES, p.code), default=None)
        if port is None or not shipments.can_ship(batch):
            return
        serial = rng.randrange(10**6, 10**7)
        document = (f"126-{serial}{serial % 7}" if mode == "air"
                    else f"BL{rng.randrange(10**8, 10**9)}")
        owner = f"MSKU{rng.randrange(10**5, 10**6)}"
        containers = () if mode == "air" or batch.unit == "head" else (
            owner + str(iso6346_check_digit(owner)),)
        day = utcnow().astimezone(REGION_TZ).date()
        shipment = shipments.declare(
            self.session, self.exporters[plan.company.key], batch.id, ShipmentInput(
                hub=batch.hub, planned_date=day + dt.timedelta(days=1),
                peb_number=f"{rng.randrange(10**6):06d}", peb_date=day,
                transport_document=document, containers=containers,
                destination_locode=port.code, quantity=Decimal(batch.quantity)))
        plan.shipment_id = shipment.id

    def _pass(self, plan: _Plan) -> None:
        if plan.shipment_id is None:
            return
        shipments.confirm(self.session, self.officers["51"], plan.shipment_id,
                          passage_date=utcnow().astimezone(REGION_TZ).date(),
                          remarks="Segel utuh, dokumen sesuai.")

    def _order(self, plan: _Plan, labels: int) -> None:
        assert plan.line.net is not None
        batch = self.session.get_one(Batch, plan.batch_id)
        if not printing.can_print(batch):
            return
        exporter = self.exporters[plan.company.key]
        stock = self.rng.choice(self.stocks)
        try:
            job = printing.order_job(self.session, exporter, batch.id,
                                     printer_org_id=self.printer_org.id, stock=stock,
                                     quantity=labels, net_quantity=plan.line.net)
        except printing.LabelTextTooLong:
            # The exporter picks the larger stock the form suggests.
            job = printing.order_job(self.session, exporter, batch.id,
                                     printer_org_id=self.printer_org.id, stock="a4-2x4",
                                     quantity=labels, net_quantity=plan.line.net)
        # The print shop downloads the job's labels the same day: they are signed then.
        downloaded = utcnow() + dt.timedelta(hours=self.rng.uniform(1, 6))
        self.history.at(max(utcnow(), min(downloaded, self.now - dt.timedelta(minutes=1))),
                        lambda: printing.record_download(self.session, self.printer, job, "pdf",
                                                         self.key.kid))

    # ------------------------------------------------------------------ scans, reports
    def targets(self, today: dt.date) -> None:
        """This year's targets: each office plans 15 % over last year's value, batches and
        active exporters, the admin the region's; NTT adds a volume of fishery products, so
        the targets page shows a volume too."""
        growth = Decimal("0.15")
        for code, officer in sorted(self.officers.items()):
            targets.plan_from_previous_year(self.session, officer, today.year, code,
                                            growth=growth, today=today)
        targets.plan_from_previous_year(self.session, self.admin, today.year, None,
                                        growth=growth, today=today)
        targets.set_target(self.session, self.officers["53"], targets.TargetInput(
            year=today.year, province="53", metric="export_volume", amount="60000",
            category="fishery", unit="kg"), today=today)

    def scans(self) -> None:
        rows = self._scan_rows()
        if rows:
            self.session.execute(insert(Scan), rows)

    def _status_at(self, plan: _Plan, moment: dt.datetime) -> str | None:
        """The verdict a buyer was shown for a label of the batch at ``moment``."""
        approved = self._approved_at(plan)
        if moment < approved:
            return None
        status = "genuine"
        for when, action, _reason in sorted(plan.later):
            if when <= moment:
                status = {Action.SUSPEND: "suspended", Action.REVOKE: "revoked",
                          Action.REINSTATE: "genuine"}[action]
        if status == "genuine" and moment.astimezone(REGION_TZ).date() > (
                approved + dt.timedelta(days=plan.valid_days)).astimezone(REGION_TZ).date():
            return "expired"
        return status

    def _scan_rows(self) -> list[dict[str, Any]]:
        """Scans of the printed labels, inserted directly: the resolver writes them through its
        buffer, one row per visit, and no audit event. Each keeps what the resolver's would:
        a serial inside one of its batch's printed jobs, the verdict the buyer was shown at that
        moment (the batch's state then; "possible copy" once a serial is seen by six readers in
        a day), a 16-character client hash (a day's readers, never an address), a country from
        a proxy header or else the region of the reader's language, and for a not-genuine
        code no batch but the attribution the desk reads."""
        rng, now = self.rng, self.now
        rows: list[dict[str, Any]] = []
        showcase = {lot for _key, lot in SHOWCASE.values()}
        copied = 0
        jobs_of: dict[int, list[PrintJob]] = {}
        for job in self.session.exec(select(PrintJob).order_by(col(PrintJob.id))).all():
            jobs_of.setdefault(job.batch_id, []).append(job)
        for plan in self.plans:
            for job in jobs_of.get(plan.batch_id or 0, []):
                visits = min(job.quantity, _poisson(rng, 9))
                for _ in range(visits):
                    at = job.created_at + dt.timedelta(days=rng.uniform(12, 220),
                                                       minutes=rng.randrange(0, 1440))
                    if at >= now:
                        continue
                    serial = rng.randint(job.serial_first, job.serial_last)
                    rows.append(self._scan(plan, at, serial, plan.destination))
                # A copied label: one serial seen by many readers in one day, abroad.
                if (copied < 4 and plan.lot not in showcase and job.quantity > 50
                        and rng.random() < 0.08):
                    day = job.created_at + dt.timedelta(days=rng.uniform(40, 160))
                    if day + dt.timedelta(days=1) < now:
                        copied += 1
                        serial = rng.randint(job.serial_first, job.serial_last)
                        rows += self._copied(plan, day, serial, rng.randrange(8, 14))
        # Forged codes: a product's GTIN and a real-looking lot under a signature that does
        # not verify; the desk attributes them to the product's exporter and origin office.
        printed = [p for p in self.plans if p.batch_id in jobs_of]
        for _ in range(36):
            plan = rng.choice(printed)
            at = self._approved_at(plan) + dt.timedelta(days=rng.uniform(30, 300))
            if at < now:
                rows.append(self._forged(plan, at))
        rows += self._recent_copy(jobs_of, showcase)
        return rows

    def _recent_copy(self, jobs_of: dict[int, list[PrintJob]], showcase: set[str]
                     ) -> list[dict[str, Any]]:
        """A label of the first exporter (NTB) copied in the last weeks, whatever the random
        copies above hit: the desk looks back 90 days by default, and the demo's office and
        exporter should find one there. Drawn after everything else, so the rest of the demo
        is the same as without it."""
        rng, now = self.rng, self.now
        for plan in self.plans:
            jobs = [j for j in jobs_of.get(plan.batch_id or 0, [])
                    if j.quantity > 50 and j.created_at < now - dt.timedelta(days=40)]
            if plan.company is not COMPANIES[0] or plan.lot in showcase or not jobs:
                continue
            day = now - dt.timedelta(days=rng.uniform(9, 20))
            if self._status_at(plan, day) != "genuine":
                continue
            job = jobs[-1]
            serial = rng.randint(job.serial_first, job.serial_last)
            return self._copied(plan, day, serial, rng.randrange(8, 12))
        return []

    def _copied(self, plan: _Plan, day: dt.datetime, serial: int, readers: int
                ) -> list[dict[str, Any]]:
        """One serial scanned by ``readers`` readers 35 minutes apart from ``day`` on: from
        the sixth on, a genuine answer is "possible copy" (six readers in a day)."""
        rows = []
        for reader in range(readers):
            row = self._scan(plan, day + dt.timedelta(minutes=35 * reader), serial,
                             plan.destination)
            if reader >= 5 and row["verdict"] == "genuine":
                row["verdict"] = "possible_copy"
            rows.append(row)
        return rows

    def _scan(self, plan: _Plan, at: dt.datetime, serial: int, country: str) -> dict[str, Any]:
        rng = self.rng
        assert plan.gtin is not None
        home = rng.random() < 0.15  # the packer or the exporter's staff, at home
        country = "ID" if home else country
        language = "id" if home else PAGE_LANGUAGE.get(country, "en")
        return {"created_at": at, "batch_id": plan.batch_id, "gtin": plan.gtin,
                "lot": plan.lot, "serial": gs1.format_serial(serial), "serial_number": serial,
                "verdict": self._status_at(plan, at) or "genuine", "language": language,
                "country": country,
                "country_source": "header" if rng.random() < 0.6 else "language",
                "mobile": rng.random() < 0.9, "client": f"{rng.getrandbits(64):016x}",
                "product_id": None, "organisation_id": None, "province_code": None,
                "kind": None}

    def _forged(self, plan: _Plan, at: dt.datetime) -> dict[str, Any]:
        rng = self.rng
        assert plan.gtin is not None
        serial = rng.randrange(1, 99_999)
        return {"created_at": at, "batch_id": None, "gtin": plan.gtin, "lot": plan.lot,
                "serial": gs1.format_serial(serial), "serial_number": serial,
                "verdict": "not_genuine", "language": PAGE_LANGUAGE.get(plan.destination, "en"),
                "country": plan.destination, "country_source": "header", "mobile": True,
                "client": f"{rng.getrandbits(64):016x}", "product_id": plan.product.id,
                "organisation_id": plan.product.organisation_id,
                "province_code": plan.province,
                "kind": Kind.BAD_SIGNATURE.value}

    def plan_reports(self) -> None:
        """Buyers' reports of suspected fakes in the last two months, through the resolver's
        service (audited, the exporter told): a forged copy of a printed label."""
        picks = [p for p in self.plans if p.jobs and p.jobs[0][0] < self.now - dt.timedelta(
            days=70) and p.line.lot in ("BJW-COF", "SBW-HNY", "GNR-WDC")]
        for (message, where), plan in zip(FAKE_REPORTS, picks[-3:], strict=False):
            at = _working_moment(self.rng, (self.now - dt.timedelta(
                days=self.rng.randrange(3, 60))).date())
            self.history.at(at, functools.partial(self._report, plan, message, where))

    def _report(self, plan: _Plan, message: str, where: str) -> None:
        assert plan.gtin is not None
        signer = signing.signer_of(self.key, self.kek)
        genuine = signer.label_uri("127.0.0.1:5000", plan.gtin, plan.lot, "1")
        resolution = verify.Resolution(gs1.parse_uri(_tampered(genuine)), Verdict.NOT_GENUINE,
                                       [Signal.BAD_SIGNATURE], VerifyStatus.INVALID, None, None,
                                       ScanStats())
        verify.report_fake(
            self.session, resolution, message=message, contact=None, where_bought=where,
            language="en", client=f"{self.rng.getrandbits(64):016x}",
            attribution=Attribution(plan.product.id, plan.product.organisation_id,
                                    plan.province, Kind.BAD_SIGNATURE.value))

    def old_mail_sent(self) -> None:
        """Mails of the history were sent when they were written; only the last two days'
        are left for the task queue's sender (so the outbox shows what a day brings)."""
        self.session.exec(
            update(Mail).where(col(Mail.created_at) < self.now - dt.timedelta(days=2),
                               col(Mail.state) == MailState.QUEUED)
            .values(state=MailState.SENT, sent_at=Mail.created_at, params={}))


def _tampered(uri: str) -> str:
    """A copy of a genuine label's URI with another serial: what a counterfeiter prints on
    more packages. Its signature no longer matches, so it reads "not genuine"."""
    link = gs1.parse_uri(uri)
    return uri.replace(f"/21/{link.serial}?", f"/21/{int(link.serial) + 40_000}?")


def label_uris(session: Session, kek: Kek, *, host: str, scheme: str) -> dict[str, str]:
    """One label URI of the demo for each verdict a buyer can be shown: a serial of the
    showcase batches' printed jobs, signed with the registry's active key (as the print shop's
    download signs it), and a tampered copy for "not genuine"."""
    key = signing.active(session)
    if key is None:
        raise DemoRefused("the registry has no active signing key (flask --app registry keys "
                          "ensure)")
    signer = signing.signer_of(key, kek)
    uris: dict[str, str] = {}
    for verdict, (_key, lot) in SHOWCASE.items():
        batch = session.exec(select(Batch).where(Batch.lot_code == lot)
                             .order_by(col(Batch.id))).first()
        job = session.exec(select(PrintJob).where(PrintJob.batch_id == (batch.id if batch
                                                                          else None))
                           .order_by(col(PrintJob.id))).first()
        if batch is None or job is None or batch.gtin is None:
            raise DemoRefused(f"the demo's {verdict} batch {lot} is missing")
        uris[verdict] = signer.label_uri(host, batch.gtin, lot,
                                         gs1.format_serial(job.serial_first), scheme)
    uris["not_genuine"] = _tampered(uris["genuine"])
    return uris
