"""The plot rules without a web server: reading pasted text, GeoJSON and KML, and each check
(issue 18 §3). Coordinates are real places in Sumbawa (52.04) and Denpasar (51.71)."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

import numpy as np
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


# ---------------------------------------------------------------- each issue, exactly
# (found by mutation testing: which plot an issue names, its details, and the limits)


def refused(read: Any, *args: Any) -> list[rules.PlotIssue]:
    with pytest.raises(rules.PlotsRefused) as caught:
        read(*args)
    return caught.value.issues


def point_line(dlat: float = 0.0, dlon: float = 0.0, places: int = 6) -> str:
    return f"{LAT + dlat:.{places}f}, {LON + dlon:.{places}f}"


def test_pasted_text_plot_by_plot() -> None:
    # Blank lines before, between and after plots; a ring given closed or open.
    text = f"\n\n{point_line()}\n\n\n{square()}\n{point_line()}\n\n"
    plots = rules.parse_text(text)
    assert [p.geometry.geom_type for p in plots] == ["Point", "Polygon"]
    assert len(plots[1].geometry.exterior.coords) == 5  # four corners, closed once
    triangle = "\n".join(point_line(dy, dx) for dy, dx in ((0, 0), (0.003, 0), (0, 0.003)))
    assert rules.parse_text(triangle)[0].geometry.area > 0
    assert refused(rules.parse_text, "\n \n") == [rules.PlotIssue(Issue.EMPTY, 0)]
    assert refused(rules.parse_text, f"{point_line()}\n\n{point_line()}\nsomewhere " + "x" * 80
                   ) == [rules.PlotIssue(Issue.UNREADABLE, 2,
                                         {"line": 2, "text": "somewhere " + "x" * 50})]
    two = f"{point_line()}\n{point_line(0.001)}"
    assert refused(rules.parse_text, f"{point_line()}\n\n{two}\n{point_line()}") == [
        rules.PlotIssue(Issue.TOO_FEW_CORNERS, 2)]


def test_at_most_500_plots_and_5000_corners() -> None:
    many = "\n\n".join(point_line(i * 1e-5) for i in range(500))
    assert len(rules.parse_text(many)) == 500
    assert refused(rules.parse_text, many + "\n\n" + point_line()) == [
        rules.PlotIssue(Issue.TOO_MANY, 0, {"max": 500})]
    ring = [(LAT + 0.001 * np.sin(a), LON + 0.001 * np.cos(a))
            for a in np.linspace(0, 2 * np.pi, 5000, endpoint=False)]
    text = "\n".join(f"{lat:.7f}, {lon:.7f}" for lat, lon in ring)
    assert len(rules.parse_text(text)[0].geometry.exterior.coords) == 5001
    assert refused(rules.parse_text, text + f"\n{LAT:.7f}, {LON + 0.0005:.7f}") == [
        rules.PlotIssue(Issue.TOO_MANY, 1, {"max": 5000})]


def test_the_fewest_decimals_are_remembered_with_the_number_written() -> None:
    text = "\n".join([f"{LAT:.7f}, {LON:.8f}", f"{LAT + 0.003:.6f}, {LON:.7f}",
                      f"{LAT + 0.003:.7f}, {LON + 0.003:.7f}"])
    plot = rules.parse_text(text)[0]
    assert (plot.min_decimals, plot.worst) == (6, f"{LAT + 0.003:.6f}")
    assert rules._decimals("12") == 0
    assert rules._decimals(" -8.120 ") == 3
    assert rules._decimals("1.5e-3") == 4  # 0.0015
    assert rules._decimals("1.15E2") == 0
    assert rules._decimals("1e3") == 0
    assert rules._decimals("1e") == 0


def feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def geojson(*features: dict[str, Any]) -> bytes:
    """Coordinates given as text ("117.493000") are written as numbers with those decimals."""
    text = json.dumps({"type": "FeatureCollection", "features": list(features)})
    return re.sub(r'"(-?[0-9]+\.[0-9]+)"', r"\1", text).encode()


def at(lon: float, lat: float, places: int = 6) -> list[str]:
    return [f"{lon:.{places}f}", f"{lat:.{places}f}"]


def square_ring(side: float = 0.003) -> list[list[str]]:
    corners = [(0, 0), (0, side), (side, side), (side, 0), (0, 0)]
    return [at(LON + dx, LAT + dy) for dy, dx in corners]


def test_geojson_polygons_points_and_names() -> None:
    point = {"type": "Point", "coordinates": [*at(LON, LAT), "12.5"]}
    hole = [at(LON + 0.001, LAT + 0.001), at(LON + 0.002, LAT + 0.001),
            at(LON + 0.002, LAT + 0.002), at(LON + 0.001, LAT + 0.001, places=3)]
    plots = rules.parse_geojson(geojson(
        feature(point, name="Kebun Bawah", Area="-1"),
        feature({"type": "Polygon", "coordinates": [square_ring()]}, area=3),
        feature({"type": "Polygon", "coordinates": [square_ring(), hole]},
                ProductionPlace="P" * 250, Area=0)))
    assert [p.geometry.geom_type for p in plots] == ["Point", "Polygon", "Polygon"]
    assert (plots[0].geometry.x, plots[0].geometry.y) == (round(LON, 6), round(LAT, 6))
    assert plots[0].name == "Kebun Bawah" and plots[0].area_ha is None
    assert plots[1].area_ha == 3 and plots[1].name == "" and plots[1].min_decimals == 6
    assert len(plots[2].geometry.interiors) == 1
    assert plots[2].geometry.exterior.coords[0] == tuple(map(float, square_ring()[0]))
    assert plots[2].min_decimals == 3  # a hole's coordinates count too
    assert plots[2].name == "P" * 200 and plots[2].area_ha is None
    assert rules._declared("NaN") is None and rules._declared("abc") is None
    assert rules._declared(None) is None and rules._declared("0.5") == Decimal("0.5")
    # A bare geometry and a lone feature are read too.
    bare = geojson(feature(point))[len('{"type": "FeatureCollection", "features": ['):-2]
    assert len(rules.parse_geojson(bare)) == 1
    assert len(rules.parse_geojson(bare.split(b'"geometry": ')[1][:-1])) == 1


def test_each_geojson_problem_names_its_feature() -> None:
    unreadable = rules.PlotIssue(Issue.UNREADABLE, 0, {"format": "GeoJSON"})
    for data in (b"\xff\xfe", b"{not json", b"[1, 2]",
                 b'{"type": "FeatureCollection", "features": "none"}'):
        assert refused(rules.parse_geojson, data) == [unreadable], data
    assert refused(rules.parse_geojson, geojson()) == [rules.PlotIssue(Issue.EMPTY, 0)]
    assert refused(rules.parse_geojson, b"{}") == [
        rules.PlotIssue(Issue.UNSUPPORTED, 1, {"kind": "None"})]
    point = {"type": "Point", "coordinates": at(LON, LAT)}
    assert len(rules.parse_geojson(geojson(*[feature(point)] * 500))) == 500
    assert refused(rules.parse_geojson, geojson(*[feature(point)] * 501)) == [
        rules.PlotIssue(Issue.TOO_MANY, 0, {"max": 500})]
    found = refused(rules.parse_geojson, geojson(
        feature(point), {"type": "Feature", "geometry": None},
        feature({"type": "LineString", "coordinates": []}),
        feature({"type": "Point", "coordinates": at(LON, LAT)[:1]}),
        feature({"type": "Polygon", "coordinates": [square_ring()[:2] + square_ring()[:1]]}),
        feature({"type": "Polygon", "coordinates": [
            [at(LON + i * 1e-6, LAT) for i in range(5001)]]}),
        feature(point)))
    assert found == [rules.PlotIssue(Issue.UNREADABLE, 2, {"format": "GeoJSON"}),
                     rules.PlotIssue(Issue.UNSUPPORTED, 3, {"kind": "LineString"}),
                     rules.PlotIssue(Issue.UNREADABLE, 4, {"format": "GeoJSON"}),
                     rules.PlotIssue(Issue.TOO_FEW_CORNERS, 5),
                     rules.PlotIssue(Issue.TOO_MANY, 6, {"max": 5000})]


def kml(*placemarks: str, namespace: bool = True) -> bytes:
    xmlns = ' xmlns="http://www.opengis.net/kml/2.2"' if namespace else ""
    return (f'<?xml version="1.0"?><kml{xmlns}><Document>{"".join(placemarks)}</Document>'
            f"</kml>").encode()


def kml_ring(ring: list[list[str]]) -> str:
    return " ".join(f"{lon},{lat},0" for lon, lat in ring)


def test_kml_outer_boundary_point_and_names() -> None:
    inner = [at(LON + 0.001, LAT + 0.001), at(LON + 0.002, LAT + 0.001),
             at(LON + 0.002, LAT + 0.002), at(LON + 0.001, LAT + 0.001)]
    polygon = ("<Placemark><styleUrl>#kebun</styleUrl><name> Kebun Atas </name><Polygon>"
               "<tessellate>1</tessellate><innerBoundaryIs><LinearRing><coordinates>"
               f"{kml_ring(inner)}</coordinates></LinearRing></innerBoundaryIs>"
               "<outerBoundaryIs><LinearRing><coordinates>"
               f"{kml_ring(square_ring())}</coordinates></LinearRing></outerBoundaryIs>"
               "</Polygon></Placemark>")
    point = (f"<Placemark><name>{'K' * 250}</name><Point><coordinates>{round(LON, 6)},"
             f"{round(LAT, 6)}</coordinates></Point></Placemark>")
    for namespace in (True, False):
        first, second = rules.parse_kml(kml(polygon, point, namespace=namespace))
        assert first.name == "Kebun Atas" and second.name == "K" * 200
        assert first.geometry.exterior.coords[0] == tuple(map(float, square_ring()[0]))
        assert second.geometry.geom_type == "Point"
        assert (second.geometry.x, second.geometry.y) == (round(LON, 6), round(LAT, 6))


def test_each_kml_problem_names_its_placemark() -> None:
    assert refused(rules.parse_kml, b"<kml><Placemark>") == [
        rules.PlotIssue(Issue.UNREADABLE, 0, {"format": "KML"})]
    assert refused(rules.parse_kml, kml()) == [rules.PlotIssue(Issue.EMPTY, 0)]
    point = (f"<Placemark><Point><coordinates>{round(LON, 6)},{round(LAT, 6)}</coordinates>"
             "</Point></Placemark>")
    assert len(rules.parse_kml(kml(*[point] * 500))) == 500
    assert refused(rules.parse_kml, kml(*[point] * 501)) == [
        rules.PlotIssue(Issue.TOO_MANY, 0, {"max": 500})]
    found = refused(rules.parse_kml, kml(
        point, "<Placemark><name>leer</name></Placemark>",
        "<Placemark><LineString><coordinates>1,2 3,4</coordinates></LineString></Placemark>",
        f"<Placemark><Point><coordinates>{LON}</coordinates></Point></Placemark>",
        "<Placemark><Point><coordinates> </coordinates></Point></Placemark>",
        f"<Placemark><Polygon><outerBoundaryIs><coordinates>{LON},{LAT}</coordinates>"
        "</outerBoundaryIs></Polygon></Placemark>",
        "<Placemark><Polygon><outerBoundaryIs><coordinates>"
        f"{kml_ring(square_ring()[:2])}</coordinates></outerBoundaryIs></Polygon></Placemark>",
        point))
    assert found == [rules.PlotIssue(Issue.UNSUPPORTED, 2, {"kind": "-"}),
                     rules.PlotIssue(Issue.UNSUPPORTED, 3, {"kind": "LineString"}),
                     rules.PlotIssue(Issue.UNREADABLE, 4, {"format": "KML"}),
                     rules.PlotIssue(Issue.UNREADABLE, 5, {"format": "KML"}),
                     rules.PlotIssue(Issue.TOO_FEW_CORNERS, 6),
                     rules.PlotIssue(Issue.TOO_FEW_CORNERS, 7)]


def test_files_by_their_extension() -> None:
    point = {"type": "Point", "coordinates": [LON, LAT]}
    assert len(rules.parse_file("Kebun.GeoJSON", json.dumps(point).encode())) == 1
    assert len(rules.parse_file("kebun.json", json.dumps(point).encode())) == 1
    assert refused(rules.parse_file, "kebun.kml", kml()) == [rules.PlotIssue(Issue.EMPTY, 0)]
    assert refused(rules.parse_file, "kebun.v2.SHP", b"") == [
        rules.PlotIssue(Issue.UNSUPPORTED, 0, {"kind": "shp"})]


def parsed(geometry: Any, decimals: int = 6) -> rules.ParsedPlot:
    return rules.ParsedPlot(geometry, decimals, "")


def test_check_at_the_limits() -> None:
    from shapely.geometry import Point

    nowhere = {"declared_ha": Decimal(1), "regency_code": "00.00"}  # no outline to check
    for lon, lat in ((180, 90), (-180, -90)):
        ok, found = rules.check(parsed(Point(lon, lat)), 1, **nowhere)  # type: ignore[arg-type]
        assert found == [] and ok is not None and ok.kind == "point"
    for lon, lat in ((180.5, 0), (0, 90.5), (181, 1)):
        assert rules.check(parsed(Point(lon, lat)), 3, **nowhere) == (  # type: ignore[arg-type]
            None, [rules.PlotIssue(Issue.RANGE, 3)])
    ok, found = rules.check(parsed(Point(LON, LAT), decimals=8), 1, declared_ha=Decimal(4),
                            regency_code="52.04")
    assert found == [] and ok is not None and ok.declared_ha == 4 and ok.measured_ha is None
    assert rules.check(parsed(Point(LON, LAT), decimals=5), 2, declared_ha=Decimal(1),
                       regency_code="52.04")[1] == [
        rules.PlotIssue(Issue.DECIMALS, 2, {"text": "", "decimals": 5})]


def test_where_a_problem_lies_is_said() -> None:
    bow = rules.parse_text(square(bow=True))[0]
    [issue] = rules.check(bow, 1, declared_ha=Decimal(10), regency_code="52.04")[1]
    assert issue.issue is Issue.SELF_INTERSECTING
    assert abs(float(issue.detail["lat"]) - (LAT + 0.0015)) < 1e-6
    assert abs(float(issue.detail["lon"]) - (LON + 0.0015)) < 1e-6
    mataram = rules.regency_shapes()["52.01"].representative_point()  # Lombok Barat
    plot = rules.parse_text(f"{mataram.y:.6f}, {mataram.x:.6f}")[0]
    [issue] = rules.check(plot, 4, declared_ha=Decimal(1), regency_code="52.04")[1]
    km = round(rules.distance_outside_m(plot.geometry, rules.regency_shapes()["52.04"])
               / 1000, 1)
    assert issue == rules.PlotIssue(Issue.OUTSIDE_REGENCY, 4,
                                    {"km": km, "regency": "52.04", "found": "52.01"})
    assert 50 < km < 500 and km != int(km)
    hole_outside = geojson(feature({"type": "Polygon", "coordinates": [
        square_ring(), [at(LON + 0.01, LAT + 0.01), at(LON + 0.011, LAT + 0.01),
                        at(LON + 0.011, LAT + 0.011), at(LON + 0.01, LAT + 0.01)]]}))
    [issue] = rules.check(rules.parse_geojson(hole_outside)[0], 1, declared_ha=Decimal(10),
                          regency_code="52.04")[1]
    assert issue == rules.PlotIssue(Issue.INVALID, 1, {"reason": "Hole lies outside shell"})


def test_the_forms_area_is_for_a_single_plot() -> None:
    two = rules.parse_text(f"{point_line()}\n\n{point_line(0.001)}")
    with pytest.raises(rules.PlotsRefused) as caught:
        rules.check_all(two, declared_ha=Decimal(2), regency_code="52.04")
    assert caught.value.issues == [rules.PlotIssue(Issue.AREA_MISSING, 1),
                                   rules.PlotIssue(Issue.AREA_MISSING, 2)]
    [one] = rules.check_all(two[:1], declared_ha=Decimal(2), regency_code="52.04")
    assert one.declared_ha == 2
    assert rules.area_agrees(Decimal(10), Decimal("10.9"))
    assert rules.check_period(None, None, dt.date(2026, 12, 3)) == [
        rules.PlotIssue(Issue.PERIOD, 0)]


def test_stored_geometry_and_the_regency_kept() -> None:
    from shapely.geometry import Point

    assert rules.geometry_json(Point(117.123456789, -8.123456789)) == (
        '{"type":"Point","coordinates":[117.1234568,-8.1234568]}')
    polygon = rules.parse_text(square())[0].geometry
    stored = json.loads(rules.geometry_json(polygon))
    assert stored["type"] == "Polygon" and len(stored["coordinates"][0]) == 5
    assert all(len(f"{c:.10f}".rstrip("0").split(".")[1]) <= 7
               for xy in stored["coordinates"][0] for c in xy)
    inside = rules.geometry_json(Point(LON, LAT))
    denpasar = rules.regency_shapes()["51.71"].representative_point()
    assert rules.all_near_regency([inside, rules.geometry_json(polygon)], "52.04")
    assert not rules.all_near_regency([inside, rules.geometry_json(denpasar)], "52.04")
    assert not rules.all_near_regency([inside], "00.00")
    assert rules.all_near_regency([], "52.04")


def test_checked_plots_are_values() -> None:
    import dataclasses

    [checked] = rules.check_all(rules.parse_text(point_line()), declared_ha=Decimal(1),
                                regency_code="52.04")
    with pytest.raises(dataclasses.FrozenInstanceError):
        checked.name = "x"  # type: ignore[misc]


def test_areas_tolerances_and_limits_exactly() -> None:
    from shapely.geometry import Point

    assert rules.area_ha(rules.parse_text(square())[0].geometry) == Decimal("10.9531")
    assert rules.area_agrees(Decimal(10), Decimal(11))  # 10 % exactly
    assert rules.area_agrees(Decimal(5), Decimal("5.5"))
    assert not rules.area_agrees(Decimal(5), Decimal("5.505"))
    assert rules.distance_outside_m(Point(LON, LAT), rules.regency_shapes()["52.04"]) == 0.0
    day = dt.date(2026, 12, 3)
    assert rules.check_period(day, day, day) == []  # one day, today
    assert refused(rules.parse_geojson, geojson(feature({"type": "X" * 40}))) == [
        rules.PlotIssue(Issue.UNSUPPORTED, 1, {"kind": "X" * 30})]
    triangle = [at(LON, LAT), at(LON + 0.003, LAT), at(LON, LAT + 0.003), at(LON, LAT)]
    [plot] = rules.parse_geojson(geojson(feature({"type": "Polygon",
                                                  "coordinates": [triangle]})))
    assert len(plot.geometry.exterior.coords) == 4


def _part(dlon: float, dlat: float, side: float = 0.002) -> list[list[str]]:
    corners = [(0, 0), (0, side), (side, side), (side, 0), (0, 0)]
    return [at(LON + dlon + dx, LAT + dlat + dy) for dy, dx in corners]


def test_a_plot_of_several_parcels_is_one_multipolygon() -> None:
    """A plot of land made of separate parcels is a MultiPolygon, as the EU's GeoJSON file
    description allows and GIS programs write even for one parcel: its parts are checked
    each, its area is theirs together, and one part is kept as a plain Polygon."""
    two = {"type": "MultiPolygon", "coordinates": [[_part(0, 0)], [_part(0.004, 0)]]}
    one = {"type": "MultiPolygon", "coordinates": [[_part(0, 0.004)]]}
    first, second = rules.parse_geojson(geojson(feature(two, Area=1), feature(one, Area=1)))
    assert first.geometry.geom_type == "MultiPolygon" and len(first.geometry.geoms) == 2
    assert second.geometry.geom_type == "Polygon"
    assert first.min_decimals == 6
    # The area is both parts' (each ≈ 4.9 ha), whichever way each ring runs.
    each = rules.area_ha(rules.parse_geojson(geojson(feature(
        {"type": "Polygon", "coordinates": [_part(0, 0)]})))[0].geometry)
    reversed_second = {"type": "MultiPolygon", "coordinates": [
        [_part(0, 0)], [list(reversed(_part(0.004, 0)))]]}
    for geometry in (two, reversed_second):
        plot = rules.parse_geojson(geojson(feature(geometry)))[0]
        assert abs(rules.area_ha(plot.geometry) - 2 * each) <= Decimal("0.01")
        checked = rules.check_all([plot], declared_ha=2 * each, regency_code="52.04")
        assert checked[0].kind == "polygon" and checked[0].measured_ha == rules.area_ha(
            plot.geometry)
        stored = json.loads(rules.geometry_json(checked[0].geometry))
        assert stored["type"] == "MultiPolygon" and len(stored["coordinates"]) == 2
    assert issues_of(two, area=each) == [Issue.AREA_MISMATCH]  # one part's area declared


def issues_of(geometry: dict[str, Any], area: Decimal | None = None) -> list[Issue]:
    try:
        rules.check_all(rules.parse_geojson(geojson(feature(geometry))), regency_code="52.04",
                        declared_ha=area or Decimal("9"))
    except rules.PlotsRefused as exc:
        return [i.issue for i in exc.issues]
    return []


def test_a_multipolygons_parts_are_checked_like_polygons() -> None:
    overlapping = {"type": "MultiPolygon", "coordinates": [[_part(0, 0)], [_part(0.001, 0)]]}
    with pytest.raises(rules.PlotsRefused) as caught:
        rules.check_all(rules.parse_geojson(geojson(feature(overlapping))),
                        regency_code="52.04", declared_ha=Decimal("9"))
    (issue,) = caught.value.issues
    assert issue.issue == Issue.PARTS_OVERLAP and issue.plot == 1
    assert set(issue.detail) == {"lat", "lon"}
    bow = [at(LON, LAT), at(LON + 0.002, LAT + 0.002), at(LON + 0.002, LAT),
           at(LON, LAT + 0.002), at(LON, LAT)]
    assert issues_of({"type": "MultiPolygon", "coordinates": [[_part(0.004, 0)], [bow]]}) == [
        Issue.SELF_INTERSECTING]
    coarse = [at(LON + 0.004 + dx, LAT + dy, places=4) for dx, dy in
              [(0, 0), (0.002, 0), (0.002, 0.002), (0, 0.002), (0, 0)]]
    assert Issue.DECIMALS in issues_of({"type": "MultiPolygon",
                                        "coordinates": [[_part(0, 0)], [coarse]]})
    far = _part(2, 2)
    assert Issue.OUTSIDE_REGENCY in issues_of(
        {"type": "MultiPolygon", "coordinates": [[_part(0, 0)], [far]]})
    unreadable = [rules.PlotIssue(Issue.UNREADABLE, 1, {"format": "GeoJSON"})]
    for coordinates in ([], [[]], "x", [[_part(0, 0)[:2]]]):
        found_issues = refused(rules.parse_geojson, geojson(feature(
            {"type": "MultiPolygon", "coordinates": coordinates})))
        assert found_issues in (unreadable, [rules.PlotIssue(Issue.TOO_FEW_CORNERS, 1)]), (
            coordinates, found_issues)
    # The corners' limit is for the whole plot.
    many = [[[*at(LON + i * 1e-6, LAT)] for i in range(2600)]]
    assert refused(rules.parse_geojson, geojson(feature(
        {"type": "MultiPolygon", "coordinates": [many, many]}))) == [
        rules.PlotIssue(Issue.TOO_MANY, 1, {"max": 5000})]


def test_kml_multigeometry_of_polygons_is_a_multipolygon() -> None:
    def polygon(ring: list[list[str]]) -> str:
        return ("<Polygon><outerBoundaryIs><LinearRing><coordinates>"
                f"{kml_ring(ring)}</coordinates></LinearRing></outerBoundaryIs></Polygon>")

    point = (f"<Point><coordinates>{round(LON, 6)},{round(LAT, 6)}</coordinates></Point>")
    both = rules.parse_kml(kml(
        f"<Placemark><name>Dua petak</name><MultiGeometry>{polygon(_part(0, 0))}"
        f"{polygon(_part(0.004, 0))}</MultiGeometry></Placemark>",
        f"<Placemark><MultiGeometry>{polygon(_part(0, 0.004))}</MultiGeometry></Placemark>"))
    assert [p.geometry.geom_type for p in both] == ["MultiPolygon", "Polygon"]
    assert both[0].name == "Dua petak" and len(both[0].geometry.geoms) == 2
    assert refused(rules.parse_kml, kml(
        f"<Placemark><MultiGeometry>{polygon(_part(0, 0))}{point}</MultiGeometry>"
        "</Placemark>")) == [rules.PlotIssue(Issue.UNSUPPORTED, 1, {"kind": "MultiGeometry"})]
