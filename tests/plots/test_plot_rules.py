"""The plot rules without a web server: reading pasted text, GeoJSON and KML, and each check
(issue 18 §3). Coordinates are real places in Sumbawa (52.04) and Denpasar (51.71)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from registry.plots import rules
from registry.plots.rules import Issue
from registry.reference import eudr_heading

CENTRE = rules.regency_shapes()["52.04"].representative_point()
LAT, LON = CENTRE.y, CENTRE.x


def square(side_deg: float = 0.003, *, bow: bool = False) -> str:
    corners = [(0, 0), (side_deg, 0), (side_deg, side_deg), (0, side_deg)]
    if bow:  # the last two corners swapped: the sides cross
        corners = [(0, 0), (side_deg, side_deg), (side_deg, 0), (0, side_deg)]
    return "\n".join(f"{LAT + dy:.6f}, {LON + dx:.6f}" for dy, dx in corners)


def issues(text: str, area: str | None = "2", regency: str = "52.04") -> list[Issue]:
    try:
        rules.check_all(rules.parse_text(text), regency_code=regency,
                        declared_ha=Decimal(area) if area else None)
    except rules.PlotsRefused as exc:
        return [i.issue for i in exc.issues]
    return []


def test_annex_lists_the_issue_s_commodities_by_hs_prefix() -> None:
    assert eudr_heading("090111").commodity == "coffee"  # type: ignore[union-attr]
    assert eudr_heading("180100").commodity == "cocoa"  # type: ignore[union-attr]
    assert eudr_heading("440799").commodity == "wood"  # type: ignore[union-attr]
    assert eudr_heading("940360").commodity == "wood"  # type: ignore[union-attr]
    assert eudr_heading("151110").commodity == "oil palm"  # type: ignore[union-attr]
    assert eudr_heading("400121").commodity == "rubber"  # type: ignore[union-attr]
    assert eudr_heading("010229").commodity == "cattle"  # type: ignore[union-attr]
    assert eudr_heading("120190").commodity == "soya"  # type: ignore[union-attr]
    assert eudr_heading("040900") is None  # honey
    assert eudr_heading("710121") is None  # pearls
    assert eudr_heading("940390") is None  # furniture of other materials (bamboo, rattan)


def test_a_point_and_a_square_inside_the_regency_pass() -> None:
    assert issues(f"{LAT:.6f}, {LON:.6f}") == []
    # 0.003° ≈ 330 m × 330 m ≈ 10.9 ha at 8.7° S, on the ellipsoid
    area = rules.area_ha(rules.parse_text(square())[0].geometry)
    assert Decimal("10.5") < area < Decimal("11.3")
    assert issues(square(), area=str(area)) == []
    assert issues(square(), area=str(area * Decimal("1.09"))) == []


def test_each_problem_is_named() -> None:
    assert issues(f"{LAT:.4f}, {LON:.6f}") == [Issue.DECIMALS]
    assert issues(square(bow=True), area="10") == [Issue.SELF_INTERSECTING]
    assert issues(square(), area="5") == [Issue.AREA_MISMATCH]
    assert issues(f"{LAT:.6f}, {LON:.6f}", area="4.5") == [Issue.NEEDS_POLYGON]
    assert issues(f"{LAT:.6f}, {LON:.6f}", area=None) == [Issue.AREA_MISSING]
    assert issues(f"{LAT:.6f}, {LON:.6f}", regency="51.71") == [Issue.OUTSIDE_REGENCY]
    assert issues(f"{LON:.6f}, {LAT:.6f}") == [Issue.RANGE]  # longitude first
    assert issues("here, there") == [Issue.UNREADABLE]
    assert issues(f"{LAT:.6f}, {LON:.6f}\n{LAT + 0.001:.6f}, {LON:.6f}") == [
        Issue.TOO_FEW_CORNERS]
    assert issues("") == [Issue.EMPTY]


def test_small_area_differences_are_within_the_stated_tolerance() -> None:
    assert rules.area_agrees(Decimal("1.0"), Decimal("1.09"))
    assert rules.area_agrees(Decimal("0.5"), Decimal("0.6"))  # 0.1 ha beats 10 % here
    assert not rules.area_agrees(Decimal("0.5"), Decimal("0.61"))
    assert not rules.area_agrees(Decimal("10"), Decimal("11.1"))


def test_near_the_border_is_within_the_tolerance_far_is_not() -> None:
    regency = rules.regency_shapes()["52.04"]
    edge = regency.exterior.coords[0] if hasattr(regency, "exterior") else max(
        regency.geoms, key=lambda g: g.area).exterior.coords[0]
    lon, lat = edge
    # ~500 m and ~5 km to the north and south of a border corner: one side is outside
    near = [rules.distance_outside_m(rules.parse_text(f"{lat + d:.6f}, {lon:.6f}")[0].geometry,
                                     regency) for d in (0.0045, -0.0045)]
    far = [rules.distance_outside_m(rules.parse_text(f"{lat + d:.6f}, {lon:.6f}")[0].geometry,
                                    regency) for d in (0.045, -0.045)]
    assert max(near) < rules.REGENCY_TOLERANCE_M < max(far)


def test_geojson_decimals_are_counted_as_written() -> None:
    six = (b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
           b'{"Area":1.5,"ProductionPlace":"Kebun Tepal"},"geometry":{"type":"Point",'
           b'"coordinates":[' + f"{LON:.6f},{LAT:.6f}".encode() + b']}}]}')
    plots = rules.parse_geojson(six)
    assert plots[0].min_decimals == 6 and plots[0].area_ha == Decimal("1.5")
    assert plots[0].name == "Kebun Tepal"
    checked = rules.check_all(plots, declared_ha=None, regency_code="52.04")
    assert checked[0].declared_ha == Decimal("1.5")
    rounded = six.replace(f"{LON:.6f}".encode(), f"{LON:.3f}".encode())
    with pytest.raises(rules.PlotsRefused) as refused:
        rules.check_all(rules.parse_geojson(rounded), declared_ha=None, regency_code="52.04")
    assert [i.issue for i in refused.value.issues] == [Issue.DECIMALS]
    with pytest.raises(rules.PlotsRefused) as refused:
        rules.parse_geojson(b'{"type":"MultiPoint","coordinates":[[1,2]]}')
    assert refused.value.issues[0].issue is Issue.UNSUPPORTED


def test_kml_polygon_and_hostile_kml() -> None:
    ring = " ".join(f"{LON + dx:.6f},{LAT + dy:.6f},0" for dy, dx in
                    [(0, 0), (0.003, 0), (0.003, 0.003), (0, 0.003), (0, 0)])
    kml = (f'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
           f'<Placemark><name>Kebun Pak Made</name><Polygon><outerBoundaryIs><LinearRing>'
           f'<coordinates>{ring}</coordinates></LinearRing></outerBoundaryIs></Polygon>'
           f'</Placemark></Document></kml>').encode()
    plots = rules.parse_kml(kml)
    assert plots[0].name == "Kebun Pak Made" and plots[0].geometry.geom_type == "Polygon"
    bomb = (b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><kml><Placemark><name>&b;</name>'
            b'</Placemark></kml>')
    with pytest.raises(rules.PlotsRefused) as refused:
        rules.parse_kml(bomb)
    assert refused.value.issues[0].issue is Issue.UNREADABLE


def test_production_period() -> None:
    day = dt.date(2026, 12, 3)
    assert rules.check_period(dt.date(2026, 6, 1), dt.date(2026, 9, 30), day) == []
    assert rules.check_period(dt.date(2026, 9, 30), dt.date(2026, 6, 1), day)
    assert rules.check_period(None, dt.date(2026, 6, 1), day)
    assert rules.check_period(dt.date(2027, 1, 1), dt.date(2027, 2, 1), day)


def test_the_regency_tolerance_covers_how_far_neighbours_outlines_disagree() -> None:
    """The README's figures: along internal borders one regency's outline lies up to ~555 m
    from its neighbour's (simplified independently upstream). The 1 km tolerance must stay
    above that, or a plot on a border could be refused by both regencies."""
    import shapely
    from shapely.strtree import STRtree

    shapes = list(rules.regency_shapes().values())
    tree = STRtree(shapes)
    worst = 0.0
    for i, g in enumerate(shapes):
        others = [shapes[j] for j in tree.query(g.buffer(0.01)) if j != i]
        if not others:
            continue
        outline = shapely.union_all([o.boundary for o in others])
        near = shapely.union_all(others).buffer(0.005)
        corners = shapely.points(shapely.get_coordinates(g.boundary))
        corners = corners[shapely.intersects(corners, near)]
        if len(corners):
            worst = max(worst, float(shapely.distance(corners, outline).max()) * 111_000)
    assert 300 < worst < rules.REGENCY_TOLERANCE_M * 0.6
