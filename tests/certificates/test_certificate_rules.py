"""The certificate rules without a web server (issue 18 §2): which kinds are certificates, the
issuers' number formats, the facts that must hold together, required kinds and their gaps,
expiry alerts, and the standards named in the JSON answers. Pure: no app, no conftest."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from registry.catalog.rules import DocumentKind
from registry.certificates.rules import (
    CERTIFICATE_KINDS,
    CertificateInput,
    Gaps,
    Held,
    OrganicScheme,
    OriginForm,
    RuleInput,
    alert_due,
    certificate_problems,
    check_page,
    expired,
    expiring_soon,
    gaps,
    is_certificate,
    normalise_number,
    required_kinds,
    rule_problems,
    standard,
)

HALAL = "ID35110000123450722"
DAY = dt.date(2026, 12, 3)


def problems(kind: str, **facts: Any) -> dict[str, str]:
    return certificate_problems(kind, CertificateInput(**facts), DAY)


def typed(text: str) -> str:
    """``text`` as a form or the API hands it over: an equal string, but not the interned
    constant the code compares it with (so ``is`` in place of ``==`` would fail)."""
    return "".join(list(text))


def test_which_kinds_are_certificates() -> None:
    assert {
        "halal", "bpom", "certificate_of_origin", "sni", "organic", "phytosanitary",
        "fishery_health"} == CERTIFICATE_KINDS
    assert is_certificate("halal")
    assert not is_certificate("lab_results")
    assert not is_certificate("other")


def test_numbers_are_stored_without_spaces_in_upper_case() -> None:
    assert normalise_number("halal", " id 3511\t0000 ") == "ID35110000"
    assert normalise_number("bpom", "BPOM RI MD 224510001234") == "MD224510001234"
    assert normalise_number("bpom", "bpom ri ml 224510001234") == "ML224510001234"
    # Only BPOM numbers lose a leading "BPOM RI".
    assert normalise_number("sni", "BPOM RI 1") == "BPOMRI1"
    assert normalise_number("halal", "") == ""


def test_check_pages_exist_only_where_the_issuer_publishes_one() -> None:
    assert check_page("halal") == "https://bpjph.halal.go.id/search/sertifikat"
    assert check_page("bpom") == "https://cekbpom.pom.go.id/"
    assert check_page("sni") is None
    assert check_page("organic", "usda_nop") == "https://organic.ams.usda.gov/integrity/"
    assert check_page("organic", "eu_organic") is None
    assert check_page("organic") is None
    # The scheme only matters for organic certificates.
    assert check_page("halal", "usda_nop") == "https://bpjph.halal.go.id/search/sertifikat"
    assert check_page("sni", "usda_nop") is None


def test_empty_facts() -> None:
    assert CertificateInput().empty
    assert CertificateInput(number="  ", issuer=" ").empty
    for facts in ({"number": "1"}, {"issuer": "BPJPH"}, {"issued_on": DAY},
                  {"expires_on": DAY}, {"form_type": "form_d"}, {"scheme": "eu_organic"}):
        assert not CertificateInput(**facts).empty, facts


def test_numbers_are_checked_in_the_issuers_format_where_one_exists() -> None:
    assert problems("halal", number=HALAL) == {}
    assert problems("halal", number="id 3511 0000 1234 5072 2") == {}  # as typed
    assert problems("halal", number="LPPOM-00150012345678") == {"number": "bad_format"}
    assert problems("halal", number=HALAL + "1") == {"number": "bad_format"}
    assert problems("halal", number="X" + HALAL) == {"number": "bad_format"}
    assert problems("bpom", number="BPOM RI MD 224510001234") == {}
    assert problems("bpom", number="ML 224510001234 567") == {}
    assert problems("bpom", number="MD 2245") == {"number": "bad_format"}
    assert problems("bpom", number="MD2245100012345") == {"number": "bad_format"}
    # No published format: any printable number of 1–64 characters, but a number there must be.
    assert problems("phytosanitary", number="2026.1.0500.0.K21.E.000123") == {}
    assert problems("sni", number="A" * 64) == {}
    assert problems("sni", number="A" * 65) == {"number": "bad_number"}
    assert problems("sni", number="N°1") == {"number": "bad_number"}
    assert problems("phytosanitary", issuer="Barantin") == {"number": "required"}
    assert problems("phytosanitary", number=" ", issued_on=DAY) == {"number": "required"}
    # A scan alone, as before issue 18, is still evidence.
    assert problems("halal") == {}
    assert problems("halal", number=" ") == {}


def test_facts_on_a_document_that_is_not_a_certificate_are_refused() -> None:
    assert problems("lab_results", number="LAB-1") == {"number": "not_a_certificate"}
    assert problems("other", issuer="Lab") == {"number": "not_a_certificate"}
    assert problems("lab_results") == {}


def test_the_issuer_and_the_dates() -> None:
    assert problems("sni", number="1", issuer="B" * 200) == {}
    assert problems("sni", number="1", issuer=" " + "B" * 200 + " ") == {}
    assert problems("sni", number="1", issuer="B" * 201) == {"issuer": "too_long"}
    assert problems("halal", number=HALAL, issued_on=DAY) == {}
    # Today as typed: an equal date, not the same object.
    assert problems("halal", number=HALAL, issued_on=dt.date(2026, 12, 3)) == {}
    assert problems("halal", number=HALAL, issued_on=DAY - dt.timedelta(days=400),
                    expires_on=DAY + dt.timedelta(days=1)) == {}
    assert problems("halal", number=HALAL, issued_on=dt.date(2026, 1, 5),
                    expires_on=dt.date(2026, 1, 5)) == {}
    assert problems("halal", number=HALAL, issued_on=DAY + dt.timedelta(days=1)) == {
        "issued_on": "future"}
    assert problems("halal", number=HALAL, issued_on=DAY, expires_on=DAY) == {}
    assert problems("halal", number=HALAL, issued_on=DAY,
                    expires_on=DAY - dt.timedelta(days=1)) == {"expires_on": "before_issue"}
    # An expiry date alone, even a past one, is a fact to record (the gaps judge it).
    assert problems("halal", number=HALAL, expires_on=DAY - dt.timedelta(days=9)) == {}


def test_the_origin_form_and_the_organic_scheme() -> None:
    assert problems("certificate_of_origin", number="0001/SKA/D/2026") == {
        "form_type": "required"}
    assert problems("certificate_of_origin", number="1", form_type="form_z") == {
        "form_type": "unknown"}
    for form in OriginForm:
        assert problems("certificate_of_origin", number="1", form_type=form) == {}, form
    assert problems("halal", number=HALAL, form_type="form_d") == {
        "form_type": "not_applicable"}
    assert problems("organic", number="ORG-1") == {"scheme": "required"}
    assert problems("organic", number="ORG-1", scheme="jas") == {"scheme": "unknown"}
    for scheme in OrganicScheme:
        assert problems("organic", number="ORG-1", scheme=scheme) == {}, scheme
    assert problems("halal", number=HALAL, scheme="eu_organic") == {"scheme": "not_applicable"}
    # Every problem at once, each under its field.
    assert problems("halal", number="1", issuer="B" * 201, issued_on=DAY + dt.timedelta(1),
                    expires_on=DAY, form_type="form_d", scheme="eu_organic") == {
        "number": "bad_format", "issuer": "too_long", "issued_on": "future",
        "expires_on": "before_issue", "form_type": "not_applicable",
        "scheme": "not_applicable"}


def test_an_administrators_rule() -> None:
    assert rule_problems(RuleInput("agriculture", "phytosanitary")) == {}
    assert rule_problems(RuleInput("processed-food", "halal", destination="SA")) == {}
    assert rule_problems(RuleInput("agriculture", "halal", destination="AE")) == {}
    assert rule_problems(RuleInput("mining", "lab_results", destination="XX")) == {
        "category": "unknown", "kind": "unknown", "destination": "unknown"}
    # Exports leave Indonesia: it is no destination.
    assert rule_problems(RuleInput("fishery", "fishery_health", destination="ID")) == {
        "destination": "unknown"}
    assert rule_problems(RuleInput("fishery", "fishery_health", destination=typed("ID"))) == {
        "destination": "unknown"}


def test_the_kinds_a_batch_needs() -> None:
    rules = [RuleInput("agriculture", "phytosanitary"),
             RuleInput("agriculture", "halal", destination="SA"),
             RuleInput("agriculture", "organic", destination="NL"),
             RuleInput("fishery", "fishery_health")]
    assert required_kinds(rules, "agriculture", "JP") == ["phytosanitary"]
    # In DocumentKind's order, whatever the rules' order.
    assert required_kinds(rules, "agriculture", "SA") == ["phytosanitary", "halal"]
    assert required_kinds(reversed(rules), "agriculture", "NL") == ["phytosanitary", "organic"]
    assert required_kinds(rules, "fishery", "SA") == ["fishery_health"]
    assert required_kinds(rules, "craft", "SA") == []
    assert required_kinds(rules, typed("fishery"), typed("SA")) == ["fishery_health"]
    assert [k.value for k in DocumentKind][:3] == ["phytosanitary", "halal", "organic"]


def test_a_required_kind_is_missing_expired_or_held() -> None:
    required = ["phytosanitary", "halal"]
    assert gaps(required, [], DAY) == Gaps(missing=("phytosanitary", "halal"))
    lapsed = Held("halal", DAY - dt.timedelta(days=1))
    assert gaps(required, [Held("phytosanitary", None), lapsed], DAY) == Gaps(
        expired=("halal",))
    assert gaps(required, [lapsed, Held("sni", None)], DAY) == Gaps(
        missing=("phytosanitary",), expired=("halal",))
    # Valid through its expiry date; one valid certificate of a kind is enough.
    assert not gaps(required, [Held("phytosanitary", DAY), lapsed, Held("halal", DAY)], DAY)
    assert not gaps(required, [Held("phytosanitary", None), Held("halal", None), lapsed], DAY)
    assert gaps([], [], DAY) == Gaps()
    assert not gaps([typed("halal")], [Held(typed("halal"), None)], DAY)
    assert bool(Gaps(missing=("halal",)))
    assert bool(Gaps(expired=("halal",)))
    assert not Gaps()


def test_a_certificate_is_valid_through_its_expiry_date() -> None:
    assert not expired(Held("halal", None), DAY)
    assert not expired(Held("halal", DAY), DAY)
    assert not expired(Held("halal", DAY + dt.timedelta(days=1)), DAY)
    assert expired(Held("halal", DAY - dt.timedelta(days=1)), DAY)


@pytest.mark.parametrize(("days_left", "due"), [
    (31, None), (30, 30), (29, 30), (3, 30), (1, 30), (0, 0), (-1, None), (-40, None)])
def test_expiry_alerts(days_left: int, due: int | None) -> None:
    assert alert_due(DAY + dt.timedelta(days=days_left), DAY) == due


@pytest.mark.parametrize(("days_left", "soon"), [
    (31, False), (30, True), (1, True), (0, True), (-1, True), (-400, True)])
def test_the_batch_page_warns_within_thirty_days_or_after_expiry(days_left: int,
                                                                  soon: bool) -> None:
    assert expiring_soon(DAY + dt.timedelta(days=days_left), DAY) is soon
    assert expiring_soon(None, DAY) is False


def test_the_standard_a_certificate_attests() -> None:
    assert standard("halal", None, None) == (
        "Indonesian halal certification (Law 33/2014, BPJPH)")
    assert standard("certificate_of_origin", "form_d", None) == (
        "Certificate of origin (SKA): Form D (ATIGA)")
    assert standard("organic", None, "usda_nop") == "Organic certification: USDA NOP"
    assert standard("organic", "", "eu_organic") == (
        "Organic certification: Regulation (EU) 2018/848")
    assert standard("sni", "form_z", None) == "SNI product certification (SPPT-SNI)"
    assert standard("lab_results", None, None) == "lab_results"


@pytest.mark.parametrize("value", [
    CertificateInput(number="1"), RuleInput("agriculture", "halal"), Held("halal", None),
    Gaps(missing=("halal",))])
def test_facts_are_values(value: Any) -> None:
    """Rules, certificates held and their gaps are compared and kept in sets, never changed
    in place."""
    field = dataclasses.fields(value)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, getattr(value, field))
    assert {value, dataclasses.replace(value)} == {value}
