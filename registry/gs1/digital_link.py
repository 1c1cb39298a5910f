"""GS1 Digital Link URIs for registry labels.

Every label's QR code encodes one URI on the registry's own (short) host::

    https://HOST/01/{GTIN-14}/10/{lot}/21/{serial}?s={SIG}

* Key qualifiers in GS1 order (AI 10 before AI 21), as GS1 Digital Link URI syntax 1.2 requires.
  Lot and serial are at most 20 characters of GS1 AI encodable character set 82; in the path every
  character outside ``A-Z a-z 0-9 - . _`` is percent-encoded (upper-case hex), as the GS1 toolkit
  does. The parser is lenient the way Digital Link asks (GTIN-8/12/13 are padded to 14 digits,
  any valid percent-encoding is decoded), and strict about everything that is not ours: only the
  three AIs 01, 10 and 21, in that order, no fragment, no AI-valued query parameters (an
  unsigned ``17=`` in the query would look authoritative). Non-AI parameters such as
  ``linkType=all`` are allowed and ignored.
* ``s`` carries the key id and the signature together: base64url (no padding) of the 8-byte key
  id followed by the 64-byte Ed25519 signature. 72 bytes encode to exactly 96 characters with no
  spare bits, so no two spellings of one signature exist (an 86-character signature on its own
  leaves 2 unused bits in its last character, and four last characters would verify alike). It
  is also 2 characters shorter than ``s=<86>&k=<11>``.
* What is signed is the host-independent canonical form ``/01/{gtin14}/10/{lot}/21/{serial}``
  with the canonical percent-encoding, as UTF-8 bytes. The host is deliberately not signed: a
  label stays valid when the registry moves host, and a URI on a foreign host is simply not ours.
* Serials are decimal without leading zeros (``format_serial``), at most
  ``MAX_SERIAL_DIGITS`` digits, because the smallest stocks need the shortest URI; the parser
  still accepts any GS1-valid serial so that it can say "not ours" rather than "malformed".

Registry-issued identifiers for products without a GTIN (``registry_gtin``) are GTIN-14s built
on GS1 prefix 04, "restricted circulation number within a company": GS1 never allocates 04x to
a company, so a registry number can never collide with, or be mistaken for, a real
company-issued GTIN, and GS1-aware software treats it as an internal number. The MO-defined
restricted ranges 02x and 20-29x were rejected because GS1 Indonesia may give them
variable-measure meaning (embedded weight or price) that point-of-sale scanners act on.
Layout: indicator 0, prefix ``04``, a fixed registry digit ``9``, the product id in 9 digits,
the check digit: ``0049{product_id:09d}{check}``.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

__all__ = [
    "GS1_CHARSET_82",
    "KEY_ID_BYTES",
    "MAX_AI_VALUE_LENGTH",
    "MAX_HOST_LENGTH",
    "MAX_SERIAL_DIGITS",
    "SIGNATURE_FIELD_LENGTH",
    "SIGNATURE_PARAM",
    "DigitalLink",
    "Gs1Error",
    "build_uri",
    "canonical_path",
    "check_host",
    "encode_ai_value",
    "format_serial",
    "gtin_check_digit",
    "is_registry_gtin",
    "is_restricted_circulation",
    "is_valid_gtin",
    "max_uri_length",
    "normalise_gtin",
    "pack_signature",
    "parse_uri",
    "registry_gtin",
    "unpack_signature",
    "uri_length",
    "validate_ai_value",
]

GS1_CHARSET_82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
MAX_AI_VALUE_LENGTH = 20
# Hosts are part of every QR code; the stock validator sizes QR boxes for this many characters.
MAX_HOST_LENGTH = 24
MAX_SERIAL_DIGITS = 10
KEY_ID_BYTES = 8
SIGNATURE_BYTES = 64
SIGNATURE_FIELD_LENGTH = 96  # base64url of KEY_ID_BYTES + SIGNATURE_BYTES
SIGNATURE_PARAM = "s"

REGISTRY_GTIN_PREFIX = "0049"
REGISTRY_PRODUCT_DIGITS = 9

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._")
# RFC 3986 pchar characters of set 82 that may legally stand unencoded in a path segment.
_RAW_PATH_OK = _UNRESERVED | frozenset("!&'()*+,;=:")
_UNRESERVED_RUN = re.compile(r"[A-Za-z0-9._-]*")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]{1,5})?")
_DIGITS = re.compile(r"[0-9]+")
_HEX = "0123456789ABCDEFabcdef"


class Gs1Error(ValueError):
    """A GS1 identifier or Digital Link URI is malformed or not one this registry issues."""


@dataclass(frozen=True, slots=True)
class DigitalLink:
    """The parts of a registry label URI that matter; the host is deliberately left out."""

    gtin: str
    lot: str
    serial: str
    signature: str | None = None  # 86 characters base64url, no padding
    key_id: str | None = None  # 11 characters base64url, no padding
    # Known already when the scanned URI was canonical (the usual case): saves building them
    # again on every scan. Never part of equality.
    known_path: str | None = field(default=None, compare=False, repr=False)
    known_field: str | None = field(default=None, compare=False, repr=False)

    @property
    def canonical(self) -> str:
        return self.known_path or canonical_path(self.gtin, self.lot, self.serial)

    @property
    def signature_field(self) -> str | None:
        """The ``s`` value (key id and signature), or None for an unsigned link."""
        if self.known_field:
            return self.known_field
        if self.signature and self.key_id:
            return pack_signature(self.key_id, self.signature)
        return None

    @property
    def serial_number(self) -> int | None:
        """The serial as an integer when it is in the registry's own format, else None."""
        s = self.serial
        if s.isascii() and s.isdigit() and s[0] != "0" and len(s) <= MAX_SERIAL_DIGITS:
            return int(s)
        return None


# --- GTIN -------------------------------------------------------------------------------------


def gtin_check_digit(body: str) -> str:
    """GS1 mod-10 check digit for a GTIN without its check digit (7, 11, 12 or 13 digits)."""
    if not (isinstance(body, str) and _DIGITS.fullmatch(body) and len(body) in (7, 11, 12, 13)):
        raise Gs1Error(f"GTIN body must be 7, 11, 12 or 13 digits, got {body!r}")
    # Weights 3,1,3,1... run from the rightmost body digit leftwards.
    total = 3 * sum(map(int, body[-1::-2])) + sum(map(int, body[-2::-2]))
    return str(-total % 10)


def normalise_gtin(gtin: str) -> str:
    """Validate a GTIN-8/12/13/14 and return it as 14 digits."""
    if isinstance(gtin, str) and len(gtin) == 14:
        # A job signs thousands of labels for one GTIN: remember the ones already checked.
        return _normalise_gtin14(gtin)
    return _normalise_gtin(gtin)


@lru_cache(maxsize=256)
def _normalise_gtin14(gtin: str) -> str:
    return _normalise_gtin(gtin)


def _normalise_gtin(gtin: str) -> str:
    if not isinstance(gtin, str) or not gtin.isascii() or not _DIGITS.fullmatch(gtin):
        raise Gs1Error(f"GTIN must be digits only, got {gtin!r}")
    if len(gtin) not in (8, 12, 13, 14):
        raise Gs1Error(f"GTIN must have 8, 12, 13 or 14 digits, got {len(gtin)}")
    expected = gtin_check_digit(gtin[:-1])
    if expected != gtin[-1]:
        raise Gs1Error(f"GTIN {gtin} has a wrong check digit (expected {expected})")
    return gtin.zfill(14)


def is_valid_gtin(gtin: str) -> bool:
    try:
        normalise_gtin(gtin)
    except Gs1Error:
        return False
    return True


def registry_gtin(product_id: int) -> str:
    """The registry-issued GTIN-14 for a product without its own GTIN (see module docstring)."""
    if isinstance(product_id, bool) or not isinstance(product_id, int):
        raise Gs1Error("product id must be an int")
    if not 0 < product_id < 10**REGISTRY_PRODUCT_DIGITS:
        raise Gs1Error(f"product id {product_id} outside 1..{10**REGISTRY_PRODUCT_DIGITS - 1}")
    body = f"{REGISTRY_GTIN_PREFIX}{product_id:0{REGISTRY_PRODUCT_DIGITS}d}"
    return body + gtin_check_digit(body)


def is_registry_gtin(gtin: str) -> bool:
    return is_valid_gtin(gtin) and normalise_gtin(gtin).startswith(REGISTRY_GTIN_PREFIX)


def is_restricted_circulation(gtin: str) -> bool:
    """True for GS1 restricted circulation numbers (prefixes 02, 04, 20-29, RCN-8 0/2).

    Use it to refuse such numbers when an exporter types in "their" GTIN: they are not
    globally unique, and 04x would collide with registry-issued numbers.
    """
    g = normalise_gtin(gtin)
    if g.startswith("000000"):  # a GTIN-8 padded to 14 digits
        return g[6] in "02"
    gtin13 = g[1:]
    return gtin13.startswith(("02", "04")) or gtin13[0] == "2"


# --- lot and serial ---------------------------------------------------------------------------


def validate_ai_value(name: str, value: str) -> str:
    """Check a lot (AI 10) or serial (AI 21) value: 1-20 characters of GS1 set 82."""
    if not isinstance(value, str):
        raise Gs1Error(f"{name} must be a string")
    if not 0 < len(value) <= MAX_AI_VALUE_LENGTH:
        raise Gs1Error(f"{name} must be 1 to {MAX_AI_VALUE_LENGTH} characters, got {len(value)}")
    bad = sorted({c for c in value if c not in GS1_CHARSET_82})
    if bad:
        raise Gs1Error(f"{name} {value!r} has characters outside GS1 set 82: {''.join(bad)!r}")
    return value


def format_serial(number: int) -> str:
    """The registry's serial format: decimal, no leading zeros, at most MAX_SERIAL_DIGITS."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise Gs1Error("serial number must be an int")
    if not 0 < number < 10**MAX_SERIAL_DIGITS:
        raise Gs1Error(f"serial number {number} outside 1..{10**MAX_SERIAL_DIGITS - 1}")
    return str(number)


def encode_ai_value(value: str) -> str:
    """Canonical percent-encoding of a set-82 value in a Digital Link path segment."""
    if _UNRESERVED_RUN.fullmatch(value):
        return value
    return "".join(c if c in _UNRESERVED else f"%{ord(c):02X}" for c in value)


def _decode_segment(name: str, segment: str) -> str:
    out: list[str] = []
    i, n = 0, len(segment)
    while i < n:
        c = segment[i]
        if c == "%":
            hexpair = segment[i + 1 : i + 3]
            if len(hexpair) != 2 or hexpair[0] not in _HEX or hexpair[1] not in _HEX:
                raise Gs1Error(f"{name}: bad percent-encoding at {segment[i : i + 3]!r}")
            out.append(chr(int(hexpair, 16)))
            i += 3
        elif c in _RAW_PATH_OK:
            out.append(c)
            i += 1
        else:
            raise Gs1Error(f"{name}: character {c!r} must be percent-encoded or is not allowed")
    return validate_ai_value(name, "".join(out))


@lru_cache(maxsize=1024)  # asked several times per verification (signature, page links)
def canonical_path(gtin: str, lot: str, serial: str) -> str:
    """Host-independent canonical form that is signed: ``/01/{gtin14}/10/{lot}/21/{serial}``."""
    g = normalise_gtin(gtin)
    lot_enc = encode_ai_value(validate_ai_value("lot", lot))
    serial_enc = encode_ai_value(validate_ai_value("serial", serial))
    return f"/01/{g}/10/{lot_enc}/21/{serial_enc}"


# --- signature field --------------------------------------------------------------------------


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str, nbytes: int, what: str) -> bytes:
    if not _B64URL.fullmatch(text):
        raise Gs1Error(f"{what} is not base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # Re-encoding rejects non-canonical spellings (stray low bits in the last character).
    if len(raw) != nbytes or _b64encode(raw) != text:
        raise Gs1Error(f"{what} must be {nbytes} bytes of canonical base64url")
    return raw


@lru_cache(maxsize=1024)
def pack_signature(key_id: str, signature: str) -> str:
    """Combine key id (11 chars) and signature (86 chars) into the 96-char ``s`` value."""
    kid = _b64decode(key_id, KEY_ID_BYTES, "key id")
    sig = _b64decode(signature, SIGNATURE_BYTES, "signature")
    return _b64encode(kid + sig)


def unpack_signature(field: str) -> tuple[str, str]:
    """Split an ``s`` value into (key id, signature), both base64url without padding."""
    if len(field) != SIGNATURE_FIELD_LENGTH:
        raise Gs1Error(f"signature field must be {SIGNATURE_FIELD_LENGTH} characters")
    raw = _b64decode(field, KEY_ID_BYTES + SIGNATURE_BYTES, "signature field")
    return _b64encode(raw[:KEY_ID_BYTES]), _b64encode(raw[KEY_ID_BYTES:])


# --- URIs -------------------------------------------------------------------------------------


def check_host(host: str) -> str:
    """Validate the host a label URI is built on (see MAX_HOST_LENGTH)."""
    if not isinstance(host, str) or not _HOST.fullmatch(host):
        raise Gs1Error(f"host {host!r} must be a lower-case DNS name, optionally with :port")
    if len(host) > MAX_HOST_LENGTH:
        # Label stocks size their QR boxes for this many characters (see max_uri_length).
        raise Gs1Error(f"host {host!r} longer than {MAX_HOST_LENGTH} characters")
    return host


def build_uri(
    host: str,
    gtin: str,
    lot: str,
    serial: str,
    *,
    key_id: str | None = None,
    signature: str | None = None,
    scheme: str = "https",
) -> str:
    """Build a label URI; with key_id and signature it carries ``?s=``."""
    if scheme not in ("https", "http"):
        raise Gs1Error("scheme must be https or http")
    uri = f"{scheme}://{check_host(host)}{canonical_path(gtin, lot, serial)}"
    if (key_id is None) != (signature is None):
        raise Gs1Error("key_id and signature go together")
    if key_id is not None and signature is not None:
        uri += f"?{SIGNATURE_PARAM}={pack_signature(key_id, signature)}"
    return uri


def max_uri_length() -> int:
    """Length of the longest URI the registry emits; QR boxes on every stock must fit it."""
    longest_lot = 3 * MAX_AI_VALUE_LENGTH  # every character percent-encoded
    return (
        len("https://")
        + MAX_HOST_LENGTH
        + len("/01/") + 14
        + len("/10/") + longest_lot
        + len("/21/") + MAX_SERIAL_DIGITS
        + len(f"?{SIGNATURE_PARAM}=") + SIGNATURE_FIELD_LENGTH
    )


def uri_length(host: str, gtin: str, lot: str, serial: str, scheme: str = "https") -> int:
    """Length of the signed URI of one label, known without signing (the field's length is
    fixed): what a QR code must hold."""
    return (len(f"{scheme}://{host}") + len(canonical_path(gtin, lot, serial))
            + len(f"?{SIGNATURE_PARAM}=") + SIGNATURE_FIELD_LENGTH)


# What a scan of one of our labels sends: the canonical path and the signature (plus perhaps the
# page's language). Taken apart in one match; anything else goes through the full parser.
_SCANNED = re.compile(r"/01/(\d{14})/10/([A-Za-z0-9._-]{1,20})/21/([A-Za-z0-9._-]{1,20})"
                      r"\?s=([A-Za-z0-9_-]{96})(?:&lang=[a-z]{2})?")


def parse_uri(uri: str) -> DigitalLink:
    """Parse a label URI (absolute, or path plus query). Raises Gs1Error and nothing else."""
    if not isinstance(uri, str):
        raise Gs1Error("URI must be a string")
    scanned = _SCANNED.fullmatch(uri)
    if scanned:
        gtin, lot, serial, packed = scanned.groups()
        if gtin_check_digit(gtin[:13]) == gtin[13]:
            kid, sig = unpack_signature(packed)
            # Lot and serial in the pattern's characters need no escaping: this is the
            # canonical path, and unpack_signature accepted only a canonical field.
            path = f"/01/{gtin}/10/{lot}/21/{serial}"
            return DigitalLink(gtin, lot, serial, sig, kid, path, packed)
    if not uri.isascii() or any(c <= " " or c == "\x7f" for c in uri):
        raise Gs1Error("URI must be printable ASCII without spaces")
    try:
        parts = urlsplit(uri)
    except ValueError as exc:
        raise Gs1Error(f"not a URI: {exc}") from None
    if parts.fragment or "#" in uri:
        raise Gs1Error("URI must not have a fragment")
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise Gs1Error("URI must be http(s)://host/... or a path starting with /01/")
    elif not uri.startswith("/"):
        raise Gs1Error("URI must be absolute or start with /01/")

    segments = parts.path.split("/")
    if len(segments) != 7 or segments[0] != "":
        raise Gs1Error("path must be exactly /01/{gtin}/10/{lot}/21/{serial}")
    _, ai1, gtin, ai2, lot, ai3, serial = segments
    if (ai1, ai2, ai3) != ("01", "10", "21"):
        raise Gs1Error(f"expected AIs 01, 10, 21 in that order, got {ai1}, {ai2}, {ai3}")
    link_gtin = normalise_gtin(gtin)
    link_lot = _decode_segment("lot", lot)
    link_serial = _decode_segment("serial", serial)

    field: str | None = None
    if parts.query:
        for pair in parts.query.split("&"):
            key, _, value = pair.partition("=")
            if key == SIGNATURE_PARAM:
                if field is not None:
                    raise Gs1Error("signature parameter given twice")
                field = value
            elif not key:
                raise Gs1Error("empty query parameter name")
            elif key.isdigit():
                raise Gs1Error(f"AI {key} in the query is not supported on registry labels")
    key_id: str | None = None
    signature: str | None = None
    if field is not None:
        key_id, signature = unpack_signature(field)
    return DigitalLink(link_gtin, link_lot, link_serial, signature, key_id)


# --- any GS1 Digital Link URI with a GTIN (the resolver) ---------------------------------------

# Key qualifiers of AI 01 in the order GS1 Digital Link's grammar allows: consumer product
# variant (22), batch/lot (10), serial (21); each optional.
GTIN_QUALIFIERS = ("22", "10", "21")


@dataclass(frozen=True, slots=True)
class Identified:
    """What a GS1 Digital Link URI with primary key 01 names: a GTIN, optionally its variant,
    lot and serial. The resolver answers for the most granular level the registry knows: a
    label (lot and serial), a lot, or the GTIN's product."""

    gtin: str
    lot: str | None = None
    serial: str | None = None
    variant: str | None = None

    @property
    def label(self) -> bool:
        return self.lot is not None and self.serial is not None

    def levels(self) -> list[str]:
        """Canonical paths from the most granular level the registry serves up to the GTIN
        (a serial without a lot, or a variant, is walked up past: the registry issues
        neither)."""
        paths = []
        if self.lot is not None and self.serial is not None:
            paths.append(canonical_path(self.gtin, self.lot, self.serial))
        if self.lot is not None:
            paths.append(lot_path(self.gtin, self.lot))
        paths.append(gtin_path(self.gtin))
        return paths


def gtin_path(gtin: str) -> str:
    return f"/01/{gtin}"


def lot_path(gtin: str, lot: str) -> str:
    return f"/01/{gtin}/10/{encode_ai_value(lot)}"


def parse_path(path: str) -> Identified:
    """The identification in a Digital Link path ``/01/{gtin}[/22/{cpv}][/10/{lot}][/21/
    {serial}]``, a trailing slash tolerated (the resolver standard asks for it). Raises
    Gs1Error for anything else: the resolver answers 400."""
    if not isinstance(path, str) or not path.isascii():
        raise Gs1Error("path must be ASCII")
    if path.endswith("/") and len(path) > 1:
        path = path[:-1]
    segments = path.split("/")
    if len(segments) < 3 or segments[0] != "" or segments[1] != "01":
        raise Gs1Error("path must start with /01/{gtin}")
    if len(segments) % 2 == 0:
        raise Gs1Error("every key qualifier needs its AI and a value")
    gtin = normalise_gtin(segments[2])
    values: dict[str, str] = {}
    order = list(GTIN_QUALIFIERS)
    for i in range(3, len(segments), 2):
        ai, raw = segments[i], segments[i + 1]
        if ai not in order:
            raise Gs1Error(f"AI {ai!r} is not a key qualifier of AI 01 here (allowed, in "
                           f"this order: {', '.join(GTIN_QUALIFIERS)})")
        order = order[order.index(ai) + 1:]
        name = {"22": "variant", "10": "lot", "21": "serial"}[ai]
        values[ai] = _decode_segment(name, raw)
    return Identified(gtin, lot=values.get("10"), serial=values.get("21"),
                      variant=values.get("22"))
