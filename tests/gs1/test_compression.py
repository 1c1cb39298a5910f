"""Compressed GS1 Digital Link URIs: ``registry.gs1.compression`` decompresses what GS1's
own compressor made, and refuses everything else with CompressionError.

The vectors were made once with GS1's reference code, gs1/GS1DigitalLinkCompressionPrototype
src/GS1DigitalLinkToolkit.js at commit 21a894b, with ``node gen2.js`` (Node 20) in a scratch
folder: a script that, for each (uri, optimise, other_keys), printed::

    const T = require('../proto.js'), t = new T(), stem = 'https://id.gs1.org';
    t.compressGS1DigitalLink(stem + uri, false, stem, false, optimise, other_keys)

(optimise true unless a vector says otherwise; other_keys true for the vectors with query
keys that are not AIs) and, for AI sets its URI parser refuses (AIs missing from its
aitable, associations GS1 forbids), ``t.bin2base64(t.compressGS1AIarrayToBinary(ais, true,
{}))``; the last one after ``t.tableF['7040'][1] = {'E': 'X', 'L': '3'}``. The "published"
vectors are GS1's own examples: gs1/digital-link.js's tests and the toolkit's decompression
demo (src-decompression-only/demo-minimal3.html).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.gs1.compression import CompressionError, decompress, decompress_partial
from registry.gs1.digital_link import Gs1Error

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
GTIN = "/01/09506000134352"

# (what GS1's compressor was given, what it made, what decompress answers: None when the same)
VECTORS: list[tuple[str, str, str | None]] = [
    # A GTIN alone; a GTIN-13 is a GTIN-14 in GS1's format.
    (GTIN, "ARFKk4XBoA", None),
    ("/01/9506000134352", "ARFKk4XBoA", GTIN),
    # Lot and serial, with and without GS1's optimisation codes (0B: 01 then 10).
    (GTIN + "/10/ABC", "CxFKk4XBoIdXg", None),
    (GTIN + "/10/ABC/21/12345", "CxFKk4XBoIdXhCCjA5", None),
    (GTIN + "/10/ABC/21/12345", "ARFKk4XBoCCHV4QgowOQ", None),
    # Each character encoding: lower-case hex, base64 characters, upper-case hex, digits.
    (GTIN + "/10/abc123/21/XYZ-98a", "CxFKk4XBoE1XgkZCzrsM_e-NA", None),
    (GTIN + "/10/lot-a_1/21/S-1", "CxFKk4XBoM8tFvzX-pCxpfag", None),
    # Leading zeros are kept: GS1's own decoder answers 21/42, 10/123 and 30=5 here, though
    # its encoder kept the length (what GS1's code does with the digits it is given).
    (GTIN + "/10/ABC123/21/0042", "CxFKk4XBoI1XgkZCCAFQ", None),
    (GTIN + "/10/00123/21/7", "CxFKk4XBoAoAeyEBc", None),
    (GTIN + "?30=0005", "DxFKk4XBoIACg", None),
    # 7-bit ASCII: characters that are percent-encoded in a URI.
    (GTIN + "/10/A%2FB%26C%25/21/x%3Dy%3Fz", "CxFKk4XBoQ0FfCTQ0pDC-Hvl_6", None),
    (GTIN + "/10/Lot%22X%22.1/21/%21%27%28%29%2A%2B%2C%3A%3B%3C%3E",
     "CxFKk4XBoREzf0RWES5iQxaFOoUqlax07ePg", None),
    (GTIN + "/22/2A/10/ABC/21/1", "ChFKk4XBoIRUIIdXhCAi", None),
    # AIs of the query: expiry, net weight, price; in AI order whatever order they came in.
    (GTIN + "?17=251231", "DRFKk4XBoHqr4", None),
    (GTIN + "/10/ABC/21/12345?17=251231", "GhFKk4XBoIdXgKMDk9Vf", None),
    (GTIN + "/10/ABC/21/12345?17=251231", "ARFKk4XBoCCHV4Lnqr5CCjA5", None),
    (GTIN + "?3103=000189", "LRFKk4XBoAAXo", None),
    (GTIN + "/10/ABC?3103=000189&17=251231&11=250101", "LRFKk4XBoAAXogh1eCJ6HqLnqr4",
     GTIN + "/10/ABC?11=250101&17=251231&3103=000189"),
    (GTIN + "/10/ABC?3923=2172&15=260101", "HxFKk4XBoIdXh_AKckaEPg",
     GTIN + "/10/ABC?15=260101&3923=2172"),
    (GTIN + "/10/ABC?7003=2512311200", "DhFKk4XBoErfadAIIdXg", None),
    # Query keys other than AIs, compressed too; after the AIs, in the order given.
    (GTIN + "/10/ABC/21/12345?linkType=all&foo=bar",
     "CxFKk4XBoIdXhCCjA58RLFPInlS8wbUsvg36KGDbar", None),
    (GTIN + "/10/ABC/21/12345?17=251231&context=x-y_Z&lang=en",
     "GhFKk4XBoIdXgKMDk9Vf8O5RPa9jawuP2X7PhJWp4GCen", None),
    (GTIN + "/10/ABC?note=a%20b%2Fc", "CxFKk4XBoIdXnhJ6LXoFwoMS_G", None),
    (GTIN + "/10/ABC?ref=DEADBEEF&id=0012", "CxFKk4XBoIdXng63n0I3q2-7_BROgIAGA", None),
    # The registry's own codes (tests/verify/test_compressed.py asks for them over HTTP).
    ("/01/00490000000016/10/A-LOT-1/21/1", "CwDkLI1IIM4HxZyf2pCAi", None),
    ("/01/00490000000016/10/A-LOT-1/21/2", "CwDkLI1IIM4HxZyf2pCAk", None),
    ("/01/00490000000016/10/A-LOT-1", "CwDkLI1IIM4HxZyf2o", None),
    ("/01/00490000000016", "AQDkLI1IIA", None),
    # Other primary keys and their qualifiers (the resolver answers only 01; this is GS1's
    # algorithm whole).
    ("/00/106141412345678908", "ABeRcNWtKMPA", None),
    ("/414/9520123456788/254/32a%2Fb", "nYqJOTrRSFZssK_E", None),
    ("/8003/09521234543213ASSET-1", "gAMRUaubBNrOAkkIn9q", None),
    ("/253/9521234543213DOC-5", "JTio1c2CbWUM4L7k", None),
    ("/255/9521234543213123", "JVio1c2CbTHs", None),
    ("/8010/0628165987/8011/9876", "mgoJXENY0mlA", None),
    ("/8017/795260646800000007/8019/123", "m7CVVYRFyEBzHs", None),
    # AIs GS1's aitable lacks, compressed from an AI set.
    ("(01)09506000134352(4300)NusaDua(4307)ID", "ARFKk4XBoIYAxzbrGg7mkMHZAY",
     GTIN + "?4300=NusaDua&4307=ID"),
    ("(01)09506000134352(235)123TPX-1", "ARFKk4XBoEaj2ypnr_ag", GTIN + "?235=123TPX-1"),
    # 7040 as its format N1+X3 says, with GS1's table corrected ("L":"3" for its "N":"3").
    ("(01)09506000134352(7040)1ABC", "ARFKk4XBoOCAKq8", GTIN + "?7040=1ABC"),
]

# Partially compressed: the primary key written out, the rest compressed. Made by the same
# GS1 code with ``t.gs1ElementStringsToCompressedGS1DigitalLink(es, false, stem, true, opt)``
# (its ``uncompressedPrimary``), optimise true and false giving the same here; GS1's own
# ``decompressGS1DigitalLink`` answers the uncompressed URIs below.
PARTIAL = [
    ("/01/00490000000016/EGcD4s5P7UhAR", "/01/00490000000016/10/A-LOT-1/21/1"),
    ("/01/00490000000016/EGcD4s5P7UhAS", "/01/00490000000016/10/A-LOT-1/21/2"),
    ("/01/00490000000016/EGcD4s5P7U", "/01/00490000000016/10/A-LOT-1"),
    ("/01/09506000134352/EEOrwXPVXyEFGBy", GTIN + "/10/ABC/21/12345?17=251231"),
]

PUBLISHED = [
    ("ARHKVAdpQg", "/01/09780345418913"),
    ("HxHKVAdpQhCTxbrOF_yEFcx_4a2GeAh1mFOZkChg6Z8pgcEMEWpMganmIfESxTyJ5UvMJa9Za",
     "/01/09780345418913/10/38737643/21/58943?15=230911&thngId=U5mQKGDpnymBwQwRakyBqeYh"
     "&linkType=test"),
    ("DgnYUc1gmji3NU0IREGFDTK2LJm", "/01/05412345000013/10/ABC%26%2B123?7003=1903061658"),
]

# Compressed by GS1's code from AI sets no Digital Link URI may hold.
NOT_DIGITAL_LINKS = [
    ("ARFKk4XBoEqMS-o", "AI 254 is not a key qualifier of AI 01"),  # 01 with a GLN extension
    ("ARFKk4XBoIKRUScnWig", "2 primary keys"),  # 01 and 414
    ("ARFKk4XBog", "wrong check digit"),  # GTIN 09506000134353
    ("EEOrw", "0 primary keys"),  # a lot alone
    ("ARFKk4XBoOCAI", "ends in the middle"),  # 7040 as GS1's code writes it: without its X3
]


@pytest.mark.parametrize(("given_to_gs1", "compressed", "expected"), VECTORS,
                         ids=[f"{v[1]}" for v in VECTORS])
def test_decompresses_what_gs1s_compressor_made(given_to_gs1: str, compressed: str,
                                                expected: str | None) -> None:
    assert decompress(compressed) == (expected or given_to_gs1)


@pytest.mark.parametrize(("compressed", "expected"), PUBLISHED)
def test_gs1s_published_examples(compressed: str, expected: str) -> None:
    assert decompress(compressed) == expected


@pytest.mark.parametrize(("compressed", "why"), NOT_DIGITAL_LINKS)
def test_gs1_output_that_is_no_digital_link_is_refused(compressed: str, why: str) -> None:
    with pytest.raises(CompressionError, match=why):
        decompress(compressed)


def test_the_error_is_a_gs1_error() -> None:
    assert issubclass(CompressionError, Gs1Error)


# ---------------------------------------------------------------- what is not compressed


RANDOM = random.Random(14)
RANDOM_SEGMENTS = ["".join(RANDOM.choice(ALPHABET) for _ in range(n))
                   for n in (10, 11, 12, 16, 20, 24, 32, 44, 64, 96, 200)]
WORDS = ["", "login", "healthz", "readyz", "metrics", "about", "print-shop", "products",
         "signup", "favicon", "robots", "wp-login", "administrator", "ARFKk4XBo", "A" * 40]


@pytest.mark.parametrize("segment", RANDOM_SEGMENTS + WORDS)
def test_random_strings_and_words_are_refused(segment: str) -> None:
    with pytest.raises(CompressionError):
        decompress(segment)


@pytest.mark.parametrize("compressed", [v[1] for v in VECTORS])
def test_truncated_or_extended_vectors_are_refused(compressed: str) -> None:
    for cut in (1, len(compressed) // 2, len(compressed) - 1):
        with pytest.raises(CompressionError):
            decompress(compressed[:-cut])
    # A character more is padding no encoder writes: one spelling per URI.
    with pytest.raises(CompressionError):
        decompress(compressed + "A")


@pytest.mark.parametrize("segment", ["ARFKk4XBoA=", "ARFK/4XBoA", "ARFKk4XBoA.", "ARFKk4XBoÄ",
                                     "ARFK k4XBoA", "ARFKk4XBoA%41"])
def test_characters_outside_base64url_are_refused(segment: str) -> None:
    with pytest.raises(CompressionError, match="not base64url"):
        decompress(segment)


def pack(bits: str) -> str:
    """Bits as GS1's base64 characters, zero-padded: for streams GS1's encoder never makes."""
    bits = bits.replace(" ", "")
    bits += "0" * (-len(bits) % 6)
    return "".join(ALPHABET[int(bits[i:i + 6], 2)] for i in range(0, len(bits), 6))


def digits(text: str) -> str:
    return " ".join(f"{int(d, 16):04b}" for d in text)


GTIN_BITS = digits("01") + f" {9506000134352:047b}"


@pytest.mark.parametrize(("bits", "why"), [
    (GTIN_BITS, None),  # the packing is right: this one decodes
    (GTIN_BITS[:-1] + "1", "wrong check digit"),
    (digits("01") + f" {10**14:047b}", "does not have 14 digits"),
    (GTIN_BITS + " " + digits("14") + " 0" * 30, "no AI starts with 14"),
    (GTIN_BITS + " " + digits("715") + " 000 00001 1000001", "AI 715 is not in GS1's"),
    (GTIN_BITS + " " + digits("23") + " 1010 " + "0" * 20, "23A is not an AI"),
    (GTIN_BITS + " " + digits("B0") + " 0" * 30, "unknown code B0"),
    (GTIN_BITS + " " + digits("10") + " 101 00001 0000000", "unknown character encoding 5"),
    (GTIN_BITS + " " + digits("10") + " 100 10101 " + "1000001" * 21, "21 characters"),
    (GTIN_BITS + " " + digits("10") + " 100 00010 1000001 0000111", "control characters"),
    (GTIN_BITS + " " + digits("10") + " 100 00010 1000001 0100011", "outside its set"),  # "#"
    (GTIN_BITS + " " + digits("17") + f" {999999 + 1:020b}", "does not have 6 digits"),
    (digits("0B") + f" {9506000134352:047b} 100 00001 1000001 " + digits("10")
     + " 100 00001 1000010", "AI 10 given twice"),
    (GTIN_BITS + " 1111 0000010 " + "110101 110110" + " 100 0000001 1000001",
     "not a query key other than an AI"),  # key "12"
    (GTIN_BITS + " 1111 0000000 100 0000001 1000001", "not a query key"),  # empty key
    (GTIN_BITS + " 1", "trailing bits"),  # padding that is not zero
])
def test_malformed_streams_are_refused(bits: str, why: str | None) -> None:
    if why is None:
        assert decompress(pack(bits)) == GTIN
        return
    with pytest.raises(CompressionError, match=why):
        decompress(pack(bits))


@given(st.text(alphabet=ALPHABET, max_size=120))
def test_any_base64url_string_decompresses_or_raises_compression_error(segment: str) -> None:
    try:
        result = decompress(segment)
    except CompressionError:
        return
    assert result.startswith("/") and result.isascii()


@given(st.text(max_size=60))
def test_any_text_decompresses_or_raises_compression_error(segment: str) -> None:
    try:
        result = decompress(segment)
    except CompressionError:
        return
    assert result.startswith("/")


@given(st.sampled_from([v[1] for v in VECTORS]), st.integers(min_value=0),
       st.sampled_from(ALPHABET))
def test_one_changed_character_never_crashes(compressed: str, where: int, to: str) -> None:
    at = where % len(compressed)
    changed = compressed[:at] + to + compressed[at + 1:]
    try:
        result = decompress(changed)
    except CompressionError:
        return
    assert result.startswith("/")


@pytest.mark.parametrize(("partial", "expected"), PARTIAL)
def test_decompresses_gs1s_partially_compressed_uris(partial: str, expected: str) -> None:
    _, key, value, segment = partial.split("/")
    assert decompress_partial(key, value, segment) == expected


@pytest.mark.parametrize(("key", "value", "segment", "why"), [
    ("01", "00490000000016", "CwDkLI1IIM4HxZyf2pCAi", "given twice"),  # a GTIN again
    ("10", "LOT", "EGcD4s5P7U", "not a primary key"),
    ("01", "00490000000016", "", "empty"),
    ("01", "00490000000016", "EGcD4s5P7UhA", "trailing bits|ends in the middle"),
])
def test_a_partial_segment_that_does_not_fit_is_refused(key: str, value: str, segment: str,
                                                        why: str) -> None:
    with pytest.raises(CompressionError, match=why):
        decompress_partial(key, value, segment)
