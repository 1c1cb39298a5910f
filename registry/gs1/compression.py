"""Compressed GS1 Digital Link URIs (GS1 Digital Link URI syntax 1.2, "compression"): the
decompression half of GS1's algorithm, ported from GS1's reference code. The registry never
compresses; it answers compressed URIs other software printed.

A compressed URI is ``https://host/{segment}``: the segment is GS1's URI-safe base64 of a bit
string holding a sequence of entries, each

- an AI as 4-bit digits (2, 3 or 4 of them, the first two saying how many: ``_AI_LENGTH``)
  and its value in the AI's format (``_FORMATS``), or
- two hex digits ``0A``..``CD`` naming a fixed sequence of AIs (``_SEQUENCES``), then their
  values, or
- ``F``, then a key of the URI's query that is not an AI (7-bit length, 6-bit characters)
  and its value.

A value's numeric part is a binary number of just enough bits for its digits; an
alphanumeric part starts with 3 bits naming how its characters are written (``_NUMERIC`` ..
``_ASCII``: digits, hex, base64 characters, 7-bit ASCII). Zero bits pad the whole to a
multiple of 6.

Where this port differs from GS1's JavaScript, and why:

- A digit string keeps its leading zeros: the stream carries how many digits there are, and
  lot ``007`` is not lot ``7`` (the JavaScript drops them when it decodes).
- AI 7040's ``X3`` component is read as three characters: GS1's table spells its length
  ``"N":"3"``, which neither its encoder nor its decoder reads, so GS1's code loses it.
- Anything a correct encoder cannot have produced is refused, never guessed at: bits past
  the end, padding that is not zero or longer than a character, an AI outside the tables,
  a value outside its AI's format or character set, a wrong check digit, no primary key or
  two, a key qualifier of another key. GS1's code decodes many such strings into something.

The result is the uncompressed path and query as ``decompress`` returns them: the primary key
and its key qualifiers in GS1's order in the path; the other AIs in the query in AI order,
then the other keys in the order they were compressed; values percent-encoded as
``registry.gs1.digital_link.encode_ai_value`` does (only ``A-Z a-z 0-9 - . _`` stay as they
are).
"""

from __future__ import annotations

import math
import re

from registry.gs1.digital_link import Gs1Error, encode_ai_value

__all__ = ["CompressionError", "decompress"]


class CompressionError(Gs1Error):
    """Not a compressed GS1 Digital Link URI."""


def _expand(spec: str) -> list[str]:
    """The AIs of a spec such as "10 21-22 310n-316n"."""
    ais = []
    for part in spec.split():
        measures = part.endswith("n")
        first, _, last = part.replace("n", "").partition("-")
        numbers = [str(n).zfill(len(first)) for n in range(int(first), int(last or first) + 1)]
        ais += [f"{n}{d}" for n in numbers for d in range(6)] if measures else numbers
    return ais


# -- tables -------------------------------------------------------------------------------------
# From GS1's reference implementation: gs1/GS1DigitalLinkCompressionPrototype,
# src/GS1DigitalLinkToolkit.js at commit 21a894b (2025-10-06): tableP (_AI_LENGTH), tableF
# (_FORMATS), tableOpt (_SEQUENCES) and, from its aitable, the primary keys with their key
# qualifiers and check digit positions. AIs GS1's tables do not list (such as 715, 716) cannot
# be in a compressed URI that GS1's encoder made, and are refused.

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_SEXTET = {c: i for i, c in enumerate(_ALPHABET)}
_HEX = "0123456789ABCDEF"

# How many digits an AI has, by its first two.
_AI_LENGTH = {
    **dict.fromkeys(_expand("00-02 10-13 15-17 20-22 30 37 90-99"), 2),
    **dict.fromkeys(_expand("23-25 40-42 71"), 3),
    **dict.fromkeys(_expand("31-36 39 43 70 72 80-82"), 4),
}

# Each AI's value format: components joined by "+", each N (digits) or X (characters), of a
# fixed length ("N6") or up to a maximum ("X..20"). GS1's format, not its URI syntax: a GTIN
# is always 14 digits here. "310n-316n": 3100-3105, 3110-3115, …, 3160-3165 (a measure's
# last digit is its decimal point's position, 0 to 5).
_FORMATS = {
    "N1": "4321-4323",
    "N2": "20",
    "N3": "422 424 426",
    "N4": "3940-3943 8111",
    "N6": "11-13 15-17 310n-316n 320n-329n 330n-337n 340n-349n 350n-357n 360n-369n 3950-3959 "
          "4326 7006 8005",
    "N10": "4324-4325 7003",
    "N13": "410-417 7001",
    "N14": "01-02 8001",
    "N17": "402",
    "N18": "00 8006 8017-8018 8026",
    "N20": "4309",
    "N..4": "7004",
    "N..6": "242",
    "N..8": "30 37",
    "N..10": "8019",
    "N..12": "8011",
    "N..15": "3900-3909 3920-3929",
    "N1+X3": "7040",
    "N3+N..12": "423 425",
    "N3+N..15": "3910-3919 3930-3939",
    "N3+X..9": "421",
    "N3+X..27": "7030-7039",
    "N3+X..28": "235",
    "N6+N..6": "7007",
    "N8+N..4": "8008",
    "N13+N..12": "255",
    "N13+X..17": "253",
    "N14+X..16": "8003",
    "X2": "4307 4317",
    "X..2": "7010",
    "X..3": "427 7008",
    "X..10": "7009",
    "X..12": "7005",
    "X..20": "10 21-22 243 254 420 710-714 4318 7020-7022 7240 8002 8012",
    "X..24": "8007",
    "X..25": "8020",
    "X..30": "90 240-241 250-251 400-401 403 4308 4319 7002 7023 7230-7239 8004 8010 8013",
    "X..35": "4300-4301 4310-4311 4320",
    "X..50": "8009",
    "X..70": "4302-4306 4312-4316 8110 8112 8200",
    "X..90": "91-99",
}

# Sequences of AIs one code stands for (GS1's order: the values follow in it).
_SEQUENCES: dict[str, tuple[str, ...]] = {
    "0A": ("01", "22"), "0B": ("01", "10"), "0C": ("01", "21"), "0D": ("01", "17"),
    "0E": ("01", "7003"), "0F": ("01", "30"), "1A": ("01", "10", "21", "17"),
    "1B": ("01", "15"), "1C": ("01", "11"), "1D": ("01", "16"), "1E": ("01", "91"),
    "1F": ("01", "10", "15"),
    **{f"2{h}": ("01", f"310{i}") for i, h in enumerate("ABCDEF")},
    **{f"3{h}": ("01", f"320{i}") for i, h in enumerate("ABCDEF")},
    "9A": ("8010", "8011"), "9B": ("8017", "8019"), "9C": ("8018", "8019"),
    "9D": ("414", "254"),
    **{f"A{i}": ("01", f"392{i}") for i in range(10)},
    **{f"C{i}": ("255", f"390{i}") for i in range(10)},
    **{f"C{h}": ("255", f"394{i}") for i, h in enumerate("ABCD")},
}

# Primary keys and their key qualifiers, in the order the URI path puts them.
_PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "00": (), "01": ("22", "10", "21"), "253": (), "255": (), "401": (), "402": (),
    "414": ("254",), "415": (), "8003": (), "8004": (), "8006": ("22", "10", "21"),
    "8010": ("8011",), "8017": ("8019",), "8018": ("8019",),
}
_QUALIFIERS = frozenset(q for qualifiers in _PRIMARY_KEYS.values() for q in qualifiers)

# The digit that is a GS1 check digit: its position in the value (None: the last digit).
_CHECK_DIGIT: dict[str, int | None] = {
    **dict.fromkeys(_expand("00-02 402 410-416 8017-8018")),
    "253": 13, "255": 13, "8003": 14, "8006": 14, "8026": 14,
}

# GS1 AI encodable character set 82, and set 39 (AI 8010, the CPID).
_CSET_82 = re.compile(r"[!\"%-?A-Z_a-z]*")
_CSET_39 = re.compile(r"[#\-/0-9A-Z]*")
_CSET_39_AIS = frozenset({"8010"})
_MIN_LENGTH = dict.fromkeys([f"723{i}" for i in range(10)], 2)  # country code, then the rest

# 3 bits before an alphanumeric value: how its characters are written.
_NUMERIC, _HEX_LOWER, _HEX_UPPER, _BASE64, _ASCII = range(5)

_Component = tuple[str, bool, int]  # kind N or X, fixed length, length (or maximum)


def _components(fmt: str) -> tuple[_Component, ...]:
    out = []
    for part in fmt.split("+"):
        kind, rest = part[0], part[1:]
        out.append((kind, not rest.startswith(".."), int(rest.removeprefix(".."))))
    return tuple(out)


_FORMAT_OF = {ai: _components(fmt) for fmt, spec in _FORMATS.items() for ai in _expand(spec)}


# -- the bit string -------------------------------------------------------------------------------


def _value_bits(digits: int) -> int:
    """Bits of a number of ``digits`` decimal digits: GS1's formula to the last float (its
    0.01 makes it one more than needed at 59 digits, so only the formula itself agrees with
    GS1's encoder)."""
    return math.ceil(digits * math.log(10) / math.log(2) + 0.01)


def _length_bits(maximum: int) -> int:
    """Bits of the length of a value of at most ``maximum`` characters; GS1's formula."""
    return math.ceil(math.log(maximum) / math.log(2) + 0.01)


class _Bits:
    def __init__(self, segment: str) -> None:
        try:
            self.bits = "".join(f"{_SEXTET[c]:06b}" for c in segment)
        except KeyError:
            raise CompressionError("not base64url") from None
        self.at = 0

    @property
    def left(self) -> int:
        return len(self.bits) - self.at

    def read(self, n: int) -> int:
        if n > self.left:
            raise CompressionError("the compressed data ends in the middle of a value")
        start, self.at = self.at, self.at + n
        return int(self.bits[start:self.at] or "0", 2)

    def hex_digit(self) -> str:
        return _HEX[self.read(4)]

    def digits(self, count: int) -> str:
        number = self.read(_value_bits(count))
        if number >= 10**count:
            raise CompressionError(f"{number} does not have {count} digits")
        return str(number).zfill(count) if count else ""

    def characters(self, encoding: int, count: int) -> str:
        if encoding == _NUMERIC:
            return self.digits(count)
        if encoding in (_HEX_LOWER, _HEX_UPPER):
            text = "".join(self.hex_digit() for _ in range(count))
            return text.lower() if encoding == _HEX_LOWER else text
        if encoding == _BASE64:
            return "".join(_ALPHABET[self.read(6)] for _ in range(count))
        if encoding == _ASCII:
            text = "".join(chr(self.read(7)) for _ in range(count))
            if not text.isprintable():
                raise CompressionError("a value has control characters")
            return text
        raise CompressionError(f"unknown character encoding {encoding}")


# -- decoding -----------------------------------------------------------------------------------


def _ai_value(bits: _Bits, ai: str) -> str:
    components = _FORMAT_OF.get(ai)
    if components is None:
        raise CompressionError(f"AI {ai} is not in GS1's compression tables")
    value = ""
    for kind, fixed, length in components:
        if kind == "N":
            count = length if fixed else bits.read(_length_bits(length))
            if count > length:
                raise CompressionError(f"AI {ai}: {count} digits, at most {length} allowed")
            value += bits.digits(count)
        else:
            encoding = bits.read(3)
            count = length if fixed else bits.read(_length_bits(length))
            if count > length:
                raise CompressionError(f"AI {ai}: {count} characters, at most {length} "
                                       "allowed")
            part = bits.characters(encoding, count)
            charset = _CSET_39 if ai in _CSET_39_AIS else _CSET_82
            if not charset.fullmatch(part):
                raise CompressionError(f"AI {ai}: {part!r} has characters outside its set")
            value += part
    if len(value) < _MIN_LENGTH.get(ai, 1):
        raise CompressionError(f"AI {ai} has a value too short")
    if ai in _CHECK_DIGIT:
        position = _CHECK_DIGIT[ai] or len(value)
        body = value[:position - 1]
        total = 3 * sum(map(int, body[::-2])) + sum(map(int, body[-2::-2]))
        if value[position - 1] != str(-total % 10):
            raise CompressionError(f"AI {ai}: wrong check digit in {value}")
    return value


def _other_key(bits: _Bits) -> tuple[str, str]:
    """A key=value pair of the query that is not an AI (after the ``F``)."""
    length = bits.read(7)
    key = "".join(_ALPHABET[bits.read(6)] for _ in range(length))
    if not key or key.isdigit():
        raise CompressionError(f"{key!r} is not a query key other than an AI")
    encoding = bits.read(3)
    return key, bits.characters(encoding, bits.read(7))


def _entries(bits: _Bits) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The AIs with their values, and the other key=value pairs, in the stream's order."""
    ais: dict[str, str] = {}
    others: list[tuple[str, str]] = []
    # GS1's decoder reads entries while more than 8 bits are left: no entry is shorter.
    while bits.left > 8:
        head = bits.hex_digit() + bits.hex_digit()
        if head.isdigit():
            length = _AI_LENGTH.get(head)
            if length is None:
                raise CompressionError(f"no AI starts with {head}")
            ai = head + "".join(bits.hex_digit() for _ in range(length - 2))
            if not ai.isdigit():
                raise CompressionError(f"{ai} is not an AI")
            sequence: tuple[str, ...] = (ai,)
        elif head in _SEQUENCES:
            sequence = _SEQUENCES[head]
        elif head[0] == "F":
            bits.at -= 4  # the key's length starts right after the F
            others.append(_other_key(bits))
            continue
        else:
            raise CompressionError(f"unknown code {head}")
        for ai in sequence:
            if ai in ais:
                raise CompressionError(f"AI {ai} given twice")
            ais[ai] = _ai_value(bits, ai)
    # The encoder pads to a whole character with zeros: anything else is not its output.
    if bits.left >= 6 or bits.read(bits.left):
        raise CompressionError("trailing bits after the last value")
    return ais, others


def decompress(segment: str) -> str:
    """The uncompressed path and query (``/01/09506000134352/10/ABC?17=251231``) of the
    compressed GS1 Digital Link URI ``https://host/{segment}``; CompressionError for anything
    that is not one."""
    if not isinstance(segment, str) or not segment:
        raise CompressionError("empty")
    ais, others = _entries(_Bits(segment))
    return _uri(ais, others)


def decompress_partial(key: str, value: str, segment: str) -> str:
    """The uncompressed path and query of a partially compressed GS1 Digital Link URI,
    ``https://host/{key}/{value}/{segment}``: the primary key written out, its qualifiers and
    attributes compressed (GS1 Digital Link URI syntax 1.2, "partially compressed")."""
    if not isinstance(segment, str) or not segment:
        raise CompressionError("empty")
    if key not in _PRIMARY_KEYS:
        raise CompressionError(f"AI {key} is not a primary key")
    ais, others = _entries(_Bits(segment))
    if key in ais:
        raise CompressionError(f"AI {key} given twice")
    return _uri({key: value, **ais}, others)


def _uri(ais: dict[str, str], others: list[tuple[str, str]]) -> str:
    primary = [ai for ai in ais if ai in _PRIMARY_KEYS]
    if len(primary) != 1:
        raise CompressionError(f"{len(primary)} primary keys, exactly one needed")
    key = primary[0]
    path = f"/{key}/{encode_ai_value(ais.pop(key))}"
    for qualifier in _PRIMARY_KEYS[key]:
        if qualifier in ais:
            path += f"/{qualifier}/{encode_ai_value(ais.pop(qualifier))}"
    stray = sorted(set(ais) & _QUALIFIERS)
    if stray:
        raise CompressionError(f"AI {stray[0]} is not a key qualifier of AI {key}")
    query = [(ai, ais[ai]) for ai in sorted(ais, key=int)] + others
    if not query:
        return path
    return path + "?" + "&".join(f"{k}={encode_ai_value(v)}" for k, v in query)
