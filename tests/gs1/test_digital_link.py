"""GS1 identifiers and Digital Link URIs of registry labels."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from registry.gs1 import digital_link as gs1
from registry.gs1.digital_link import Gs1Error

SET_82 = "".join(sorted(gs1.GS1_CHARSET_82))
SIG_FIELD = "A" * 96  # decodes to 72 zero-ish bytes; structure only, not a real signature


def reference_check_digit(body: str) -> int:
    # Written out from GS1 General Specifications 7.9.1, independently of the module.
    padded = body.rjust(17, "0")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(padded))
    return (10 - total % 10) % 10


@pytest.mark.parametrize(
    "gtin",
    [
        "4006381333931",  # EAN-13 on a Stabilo pen
        "9780306406157",  # ISBN-13 as EAN
        "036000291452",  # UPC-A
        "96385074",  # EAN-8
        "08991234567891",  # the design brief's example: its check digit is 1, and valid
    ],
)
def test_known_gtins_validate_and_normalise(gtin: str) -> None:
    assert gs1.is_valid_gtin(gtin)
    assert gs1.normalise_gtin(gtin) == gtin.zfill(14)
    assert gs1.gtin_check_digit(gtin[:-1]) == gtin[-1]


@given(st.text(alphabet="0123456789", min_size=13, max_size=13))
def test_check_digit_matches_reference(body: str) -> None:
    assert gs1.gtin_check_digit(body) == str(reference_check_digit(body))


@pytest.mark.parametrize("bad", ["4006381333932", "400638133393", "40063813339311x", "", "١٢٣"])
def test_bad_gtins_raise(bad: str) -> None:
    with pytest.raises(Gs1Error):
        gs1.normalise_gtin(bad)
    assert not gs1.is_valid_gtin(bad)


def test_registry_gtins_are_restricted_circulation_and_distinct() -> None:
    seen = set()
    for pid in (1, 2, 42, 999_999_999):
        g = gs1.registry_gtin(pid)
        assert len(g) == 14 and gs1.is_valid_gtin(g)
        assert g.startswith("0049")
        assert gs1.is_registry_gtin(g) and gs1.is_restricted_circulation(g)
        seen.add(g)
    assert len(seen) == 4
    assert not gs1.is_restricted_circulation("4006381333931")
    assert not gs1.is_registry_gtin("4006381333931")
    for body in ("201234567890", "021234567890", "2123456"):  # 2x and 02x GTIN-13, RCN-8
        assert gs1.is_restricted_circulation(body + gs1.gtin_check_digit(body))
    for bad in (0, -1, 10**9, True):
        with pytest.raises(Gs1Error):
            gs1.registry_gtin(bad)  # type: ignore[arg-type]


def test_serial_format_is_compact_decimal() -> None:
    assert gs1.format_serial(42) == "42"
    assert gs1.format_serial(10**gs1.MAX_SERIAL_DIGITS - 1) == "9" * gs1.MAX_SERIAL_DIGITS
    for bad in (0, 10**gs1.MAX_SERIAL_DIGITS):
        with pytest.raises(Gs1Error):
            gs1.format_serial(bad)


def test_build_and_parse_round_trip() -> None:
    gtin = gs1.registry_gtin(7)
    uri = gs1.build_uri("mib.id", gtin, "LOT/2026 A"[:5], "42")
    assert uri == f"https://mib.id/01/{gtin}/10/LOT%2F2/21/42"
    link = gs1.parse_uri(uri)
    assert (link.gtin, link.lot, link.serial, link.signature, link.key_id) == (
        gtin, "LOT/2", "42", None, None,
    )
    assert link.canonical == f"/01/{gtin}/10/LOT%2F2/21/42"
    assert link.serial_number == 42


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    lot=st.text(alphabet=SET_82, min_size=1, max_size=20),
    serial=st.text(alphabet=SET_82, min_size=1, max_size=20),
)
def test_every_set_82_value_round_trips(lot: str, serial: str) -> None:
    uri = gs1.build_uri("mib.id", "4006381333931", lot, serial)
    link = gs1.parse_uri(uri)
    assert (link.lot, link.serial, link.gtin) == (lot, serial, "04006381333931")
    assert gs1.parse_uri(link.canonical) == link


def test_parser_is_lenient_where_digital_link_says_so() -> None:
    link = gs1.parse_uri(
        "HTTPS://Example.ORG/01/4006381333931/10/a%2fb/21/7?linkType=all&s=" + SIG_FIELD
    )
    assert link.gtin == "04006381333931" and link.lot == "a/b"
    assert link.key_id is not None and link.signature is not None and len(link.signature) == 86


@pytest.mark.parametrize(
    "uri",
    [
        "https://mib.id/01/04006381333931/21/7/10/L",  # AIs out of order
        "https://mib.id/01/04006381333931/21/7",  # lot missing
        "https://mib.id/01/04006381333932/10/L/21/7",  # check digit
        "https://mib.id/01/04006381333931/10/L%2/21/7",  # broken escape
        "https://mib.id/01/04006381333931/10/L%C3%A9/21/7",  # outside set 82
        "https://mib.id/01/04006381333931/10/" + "L" * 21 + "/21/7",  # lot too long
        "https://mib.id/01/04006381333931/10//21/7",  # empty lot
        "https://mib.id/01/04006381333931/10/L/21/7#x",  # fragment
        "https://mib.id/01/04006381333931/10/L/21/7?17=270630",  # unsigned AI attribute
        "https://mib.id/01/04006381333931/10/L/21/7?s=abc",  # short signature field
        f"https://mib.id/01/04006381333931/10/L/21/7?s={SIG_FIELD}&s={SIG_FIELD}",
        "https://mib.id/01/04006381333931/10/L/21/7?s=" + "A" * 95 + "=",  # not base64url
        "ftp://mib.id/01/04006381333931/10/L/21/7",
        "mib.id/01/04006381333931/10/L/21/7",
        "https://[::1/01/04006381333931/10/L/21/7",
        "https://mib.id/x/01/04006381333931/10/L/21/7",
        "https://mib.id/01/04006381333931/10/L\"/21/7",
        "",
    ],
)
def test_malformed_uris_raise_gs1error(uri: str) -> None:
    with pytest.raises(Gs1Error):
        gs1.parse_uri(uri)


def test_non_string_input_raises_gs1error() -> None:
    with pytest.raises(Gs1Error):
        gs1.parse_uri(None)  # type: ignore[arg-type]
    with pytest.raises(Gs1Error):
        gs1.parse_uri(b"https://mib.id/01/04006381333931/10/L/21/7")  # type: ignore[arg-type]


VALID = "https://mib.id/01/04006381333931/10/L%2F1/21/7?s=" + SIG_FIELD


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
@example("https://x/01/00000000000000/10/a/21/b")
@example("/01/%%/10/%zz/21/%")
def test_fuzz_arbitrary_text_raises_only_gs1error(text: str) -> None:
    with contextlib.suppress(Gs1Error):
        gs1.parse_uri(text)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    pos=st.integers(min_value=0, max_value=len(VALID)),
    cut=st.integers(min_value=0, max_value=4),
    insert=st.text(alphabet=SET_82 + "#[]@~ é\x00/", max_size=4),
)
def test_fuzz_mutated_uris_raise_only_gs1error(pos: int, cut: int, insert: str) -> None:
    with contextlib.suppress(Gs1Error):
        gs1.parse_uri(VALID[:pos] + insert + VALID[pos + cut :])


def test_max_uri_length_is_the_real_worst_case() -> None:
    host = "a" * gs1.MAX_HOST_LENGTH
    kid, sig = gs1.unpack_signature(SIG_FIELD)
    worst = gs1.build_uri(
        host, "4006381333931", "/" * 20, "9" * gs1.MAX_SERIAL_DIGITS, key_id=kid, signature=sig
    )
    assert len(worst) == gs1.max_uri_length()
    with pytest.raises(Gs1Error):
        gs1.build_uri("a" * (gs1.MAX_HOST_LENGTH + 1), "4006381333931", "L", "1")
    with pytest.raises(Gs1Error):
        gs1.build_uri("Bad_Host", "4006381333931", "L", "1")


def test_signature_field_packs_key_id_and_signature_without_slack() -> None:
    kid, sig = gs1.unpack_signature(SIG_FIELD)
    assert len(kid) == 11 and len(sig) == 86
    assert gs1.pack_signature(kid, sig) == SIG_FIELD
    # An 86-character signature has spare bits in its last character: those spellings are
    # refused rather than verified as the same signature.
    with pytest.raises(Gs1Error):
        gs1.pack_signature(kid, sig[:-1] + "B")


def test_uri_length_is_the_signed_uris_length(tmp_path: Path) -> None:
    from registry.signing.keydir import KeyDir

    store = KeyDir(tmp_path)
    store.create_key()
    signer = store.active_signer()
    for host, lot, serial, scheme in [("mib.id", "A-LOT.1", "1", "https"),
                                      ("127.0.0.1:5000", "TTS-IKT-2611-LONGWWW", "9999999999",
                                       "http")]:
        uri = signer.label_uri(host, gs1.registry_gtin(7), lot, serial, scheme)
        assert gs1.uri_length(host, gs1.registry_gtin(7), lot, serial, scheme) == len(uri)
