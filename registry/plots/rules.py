"""Production plots for EU due diligence (Regulation (EU) 2023/1115, "EUDR"): reading what an
exporter pastes or uploads, and checking each plot (issue 18 §3).

Pure: no Flask, no database. Geometry is shapely's (validity, self-intersection); areas and
distances are pyproj's, on the WGS84 ellipsoid, so a hectare is a hectare at 8–11° S.

What a plot must be, as the EU information system asks it:
- WGS84 longitude/latitude with at least six decimals (≈ 0.1 m) in every coordinate;
- a point only for plots of at most 4 ha, a polygon above (a polygon is fine below too);
- a polygon is valid: closed, at least three distinct corners, its sides never crossing;
- a plot of separate parcels is one MultiPolygon (the EU's GeoJSON file description allows
  it; GIS programs write one even for a single parcel, which is kept as a Polygon): each
  part a valid polygon, the parts never overlapping, the area theirs together.
And as the registry asks it:
- the declared area agrees with the polygon's own area within ``AREA_TOLERANCE_PERCENT``
  or ``AREA_TOLERANCE_HA``, whichever is larger (GPS walks round a field are rough);
- the plot lies inside the batch's origin regency, or within ``REGENCY_TOLERANCE_M`` of it:
  the regency outlines are simplified (neighbours' borders disagree by up to ~550 m, measured
  on registry/reference/regencies.geojson; see README "Plot geolocation").
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from typing import Any

import numpy as np
import shapely
from defusedxml import DefusedXmlException, ElementTree
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from registry.reference.maps import GEOJSON as REGENCIES_GEOJSON

MIN_DECIMALS = 6
POINT_MAX_HA = Decimal("4")
AREA_TOLERANCE_PERCENT = Decimal("10")
AREA_TOLERANCE_HA = Decimal("0.1")
REGENCY_TOLERANCE_M = 1000
MAX_PLOTS = 500  # in one paste or file: a cooperative's members, not a national cadastre
MAX_VERTICES = 5000  # in one polygon
MAX_AREA_HA = Decimal("100000")  # the form's field; a larger "plot" is a mistake
GEOD = Geod(ellps="WGS84")


class Issue(StrEnum):
    """What is wrong with a plot. The values are what the API answers: never change one."""

    EMPTY = "plot_empty"
    UNREADABLE = "plot_unreadable"
    UNSUPPORTED = "plot_unsupported"
    TOO_MANY = "plot_too_many"
    DECIMALS = "plot_decimals"
    RANGE = "plot_coordinate_range"
    TOO_FEW_CORNERS = "plot_too_few_corners"
    SELF_INTERSECTING = "plot_self_intersecting"
    PARTS_OVERLAP = "plot_parts_overlap"
    INVALID = "plot_invalid"
    AREA_MISSING = "plot_area_missing"
    NEEDS_POLYGON = "plot_needs_polygon"
    AREA_MISMATCH = "plot_area_mismatch"
    OUTSIDE_REGENCY = "plot_outside_regency"
    PERIOD = "plot_period"


@dataclass(frozen=True)
class PlotIssue:
    issue: Issue
    plot: int  # its number in what was sent, from 1; 0 when about everything sent
    detail: dict[str, Any] = field(default_factory=dict)


class PlotsRefused(ValueError):
    """What was sent cannot be recorded; ``issues`` says why, plot by plot."""

    def __init__(self, issues: list[PlotIssue]) -> None:
        super().__init__("; ".join(f"{i.plot}: {i.issue.value}" for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class ParsedPlot:
    """A plot as read from the exporter's text or file, before the checks."""

    geometry: BaseGeometry  # Point, Polygon or MultiPolygon, x = longitude, y = latitude
    min_decimals: int  # the fewest decimals any coordinate was written with
    worst: str  # that coordinate as written (for the message)
    name: str = ""  # a name the file gave it (KML Placemark name, GeoJSON ProductionPlace)
    area_ha: Decimal | None = None  # an area the file gave it (GeoJSON "Area")


@dataclass(frozen=True)
class CheckedPlot:
    geometry: BaseGeometry
    kind: str  # "point" or "polygon" (a Polygon or a MultiPolygon)
    declared_ha: Decimal
    measured_ha: Decimal | None  # a polygon's geodesic area; None for a point
    name: str


# ---------------------------------------------------------------- reading


def _decimals(text: str) -> int:
    text = text.strip().lower()
    if "e" in text:  # 1.15e2: as many decimals as its value shows
        try:
            exponent = Decimal(text).normalize().as_tuple().exponent
        except InvalidOperation:
            return 0
        return max(0, -int(exponent))
    return len(text.split(".", 1)[1]) if "." in text else 0


NUMBER = r"[-+]?\d+(?:\.\d*)?"
LINE = re.compile(rf"^\s*({NUMBER})\s*[,;\s]\s*({NUMBER})\s*$")


def _coordinates(texts: list[tuple[str, str]]) -> tuple[list[tuple[float, float]], int, str]:
    """(lon, lat) pairs from pairs of texts already in (lon, lat) order."""
    points, fewest, worst = [], 99, ""
    for lon_text, lat_text in texts:
        for t in (lon_text, lat_text):
            n = _decimals(t)
            if n < fewest:
                fewest, worst = n, t.strip()
        points.append((float(lon_text), float(lat_text)))
    return points, fewest, worst


def _geometry(points: list[tuple[float, float]], plot: int) -> BaseGeometry:
    if len(points) == 1:
        return Point(points[0])
    if len(points) > MAX_VERTICES:
        raise PlotsRefused([PlotIssue(Issue.TOO_MANY, plot, {"max": MAX_VERTICES})])
    ring = points[:-1] if len(points) > 1 and points[0] == points[-1] else points
    if len(set(ring)) < 3:
        raise PlotsRefused([PlotIssue(Issue.TOO_FEW_CORNERS, plot)])
    return Polygon(ring)


def parse_text(text: str) -> list[ParsedPlot]:
    """Pasted coordinates: one "latitude, longitude" a line (as phones and GPS units show
    them); one line is a point, three or more a polygon's ring; a blank line starts the next
    plot."""
    blocks: list[list[str]] = [[]]
    for raw in text.splitlines():
        if raw.strip():
            blocks[-1].append(raw)
        elif blocks[-1]:
            blocks.append([])
    blocks = [b for b in blocks if b]
    if not blocks:
        raise PlotsRefused([PlotIssue(Issue.EMPTY, 0)])
    if len(blocks) > MAX_PLOTS:
        raise PlotsRefused([PlotIssue(Issue.TOO_MANY, 0, {"max": MAX_PLOTS})])
    plots, issues = [], []
    for number, block in enumerate(blocks, start=1):
        pairs = []
        for line_no, raw in enumerate(block, start=1):
            found = LINE.match(raw)
            if found is None:
                issues.append(PlotIssue(Issue.UNREADABLE, number,
                                        {"line": line_no, "text": raw.strip()[:60]}))
                break
            lat, lon = found.groups()
            pairs.append((lon, lat))
        else:
            points, fewest, worst = _coordinates(pairs)
            try:
                plots.append(ParsedPlot(_geometry(points, number), fewest, worst))
            except PlotsRefused as exc:
                issues += exc.issues
    if issues:
        raise PlotsRefused(issues)
    return plots


def _as_float(value: Any) -> Any:
    if isinstance(value, list):
        return [_as_float(v) for v in value]
    return float(value)


def _texts(value: Any) -> list[str]:
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return [str(value)]


def parse_geojson(data: bytes) -> list[ParsedPlot]:
    """A GeoJSON file (RFC 7946: longitude first): a FeatureCollection, a Feature or a bare
    geometry, of Points, Polygons and MultiPolygons. Numbers are read as written, so their
    decimals count."""
    try:
        doc = json.loads(data.decode("utf-8-sig"), parse_float=Decimal, parse_int=Decimal)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise PlotsRefused([PlotIssue(Issue.UNREADABLE, 0, {"format": "GeoJSON"})]) from None
    if not isinstance(doc, dict):
        raise PlotsRefused([PlotIssue(Issue.UNREADABLE, 0, {"format": "GeoJSON"})])
    if doc.get("type") == "FeatureCollection":
        features = doc.get("features")
    elif doc.get("type") == "Feature":
        features = [doc]
    else:
        features = [{"type": "Feature", "geometry": doc, "properties": {}}]
    if not isinstance(features, list):
        raise PlotsRefused([PlotIssue(Issue.UNREADABLE, 0, {"format": "GeoJSON"})])
    if not features:
        raise PlotsRefused([PlotIssue(Issue.EMPTY, 0)])
    if len(features) > MAX_PLOTS:
        raise PlotsRefused([PlotIssue(Issue.TOO_MANY, 0, {"max": MAX_PLOTS})])
    plots, issues = [], []
    for number, feature in enumerate(features, start=1):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        properties = (feature.get("properties") or {}) if isinstance(feature, dict) else {}
        if not isinstance(geometry, dict) or not isinstance(properties, dict):
            issues.append(PlotIssue(Issue.UNREADABLE, number, {"format": "GeoJSON"}))
            continue
        kind = geometry.get("type")
        if kind not in ("Point", "Polygon", "MultiPolygon"):
            issues.append(PlotIssue(Issue.UNSUPPORTED, number, {"kind": str(kind)[:30]}))
            continue
        coordinates: Any = geometry.get("coordinates")
        try:
            texts = _texts(coordinates)
            # Each polygon as its rings (a point as one ring of one position).
            polygons: Any = ([[[coordinates]]] if kind == "Point" else
                             [coordinates] if kind == "Polygon" else coordinates)
            if not isinstance(polygons, list) or not polygons:
                raise ValueError("no polygon")
            fewest, worst = 99, ""
            for rings in polygons:
                if any(len(p) < 2 for p in rings[0]):
                    raise ValueError("position")
                _points, part_fewest, part_worst = _coordinates(
                    [(str(p[0]), str(p[1])) for p in rings[0]])
                if part_fewest < fewest:
                    fewest, worst = part_fewest, part_worst
            # Holes count towards the decimals too.
            for t in texts:
                if _decimals(t) < fewest:
                    fewest, worst = _decimals(t), t
            if kind == "Point":
                geom: BaseGeometry = Point(_as_float(coordinates[:2]))
            else:
                geom = _polygons(polygons, number)
        except PlotsRefused as exc:
            issues += exc.issues
            continue
        except (TypeError, ValueError, IndexError, KeyError, shapely.errors.GEOSException):
            issues.append(PlotIssue(Issue.UNREADABLE, number, {"format": "GeoJSON"}))
            continue
        area = _declared(properties.get("Area", properties.get("area")))
        name = str(properties.get("ProductionPlace") or properties.get("name") or "")[:200]
        plots.append(ParsedPlot(geom, fewest, worst, name=name, area_ha=area))
    if issues:
        raise PlotsRefused(issues)
    return plots


def _polygons(polygons: list[Any], plot: int) -> BaseGeometry:
    """A Polygon, or a MultiPolygon of several, from GeoJSON coordinates: at most
    ``MAX_VERTICES`` outer corners in all, at least three distinct ones in each part."""
    if sum(len(rings[0]) for rings in polygons) > MAX_VERTICES:
        raise PlotsRefused([PlotIssue(Issue.TOO_MANY, plot, {"max": MAX_VERTICES})])
    for rings in polygons:
        if len({(float(p[0]), float(p[1])) for p in rings[0]}) < 3:
            raise PlotsRefused([PlotIssue(Issue.TOO_FEW_CORNERS, plot)])
    parts = [Polygon(rings[0], rings[1:]) for rings in _as_float(polygons)]
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _declared(value: Any) -> Decimal | None:
    try:
        area = Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None
    return area if area is not None and area.is_finite() and area > 0 else None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _kml_coordinates(text: str | None) -> list[tuple[str, str]]:
    pairs = []
    for tuple_text in (text or "").split():
        parts = tuple_text.split(",")
        if len(parts) < 2:
            raise ValueError("coordinate")
        pairs.append((parts[0], parts[1]))  # KML: longitude,latitude[,altitude]
    return pairs


def parse_kml(data: bytes) -> list[ParsedPlot]:
    """A KML file (Google Earth, GPS apps): each Placemark's Point or Polygon (its outer
    boundary), or a MultiGeometry of Polygons (a plot of several parcels). Read with
    defusedxml: entity expansion and external entities are refused."""
    try:
        root = ElementTree.fromstring(data)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        raise PlotsRefused([PlotIssue(Issue.UNREADABLE, 0, {"format": "KML"})]) from None
    placemarks = [e for e in root.iter() if _local(e.tag) == "Placemark"]
    if not placemarks:
        raise PlotsRefused([PlotIssue(Issue.EMPTY, 0)])
    if len(placemarks) > MAX_PLOTS:
        raise PlotsRefused([PlotIssue(Issue.TOO_MANY, 0, {"max": MAX_PLOTS})])
    plots, issues = [], []
    for number, placemark in enumerate(placemarks, start=1):
        name = next(((e.text or "").strip() for e in placemark if _local(e.tag) == "name"), "")
        shapes = [e for e in placemark.iter() if _local(e.tag) in ("Point", "Polygon",
                                                                     "LineString",
                                                                     "MultiGeometry")]
        first = shapes[0] if shapes else None
        if first is not None and _local(first.tag) == "MultiGeometry":
            inside = [_local(e.tag) for e in shapes[1:]]
            if inside and set(inside) == {"Polygon"}:  # a plot of several parcels
                shapes = shapes[1:]
            else:
                issues.append(PlotIssue(Issue.UNSUPPORTED, number, {"kind": "MultiGeometry"}))
                continue
        elif first is None or _local(first.tag) not in ("Point", "Polygon"):
            kind = _local(first.tag) if first is not None else "-"
            issues.append(PlotIssue(Issue.UNSUPPORTED, number, {"kind": kind}))
            continue
        else:
            shapes = [first]
        try:
            geom, fewest, worst = _kml_geometry(shapes, number)
        except PlotsRefused as exc:
            issues += exc.issues
            continue
        except ValueError:
            issues.append(PlotIssue(Issue.UNREADABLE, number, {"format": "KML"}))
            continue
        plots.append(ParsedPlot(geom, fewest, worst, name=name[:200]))
    if issues:
        raise PlotsRefused(issues)
    return plots


def _kml_geometry(shapes: list[Any], plot: int) -> tuple[BaseGeometry, int, str]:
    """A Point (``shapes``: one), a Polygon (one) or a MultiPolygon (several Polygons): each
    polygon its outer boundary; the fewest decimals of all and the coordinate written so."""
    if _local(shapes[0].tag) == "Point":
        text = next((e.text for e in shapes[0].iter() if _local(e.tag) == "coordinates"), None)
        points, fewest, worst = _coordinates(_kml_coordinates(text))
        if not points:
            raise ValueError("no coordinates")
        return Point(points[0]), fewest, worst
    parts: list[Polygon] = []
    fewest, worst = 99, ""
    for polygon in shapes:
        outer = next((e for e in polygon.iter() if _local(e.tag) == "outerBoundaryIs"),
                     polygon)
        text = next((e.text for e in outer.iter() if _local(e.tag) == "coordinates"), None)
        points, part_fewest, part_worst = _coordinates(_kml_coordinates(text))
        if not points:
            raise ValueError("no coordinates")
        if part_fewest < fewest:
            fewest, worst = part_fewest, part_worst
        geom = _geometry(points, plot)
        if not isinstance(geom, Polygon):
            raise PlotsRefused([PlotIssue(Issue.TOO_FEW_CORNERS, plot)])
        parts.append(geom)
    if sum(len(p.exterior.coords) - 1 for p in parts) > MAX_VERTICES:
        raise PlotsRefused([PlotIssue(Issue.TOO_MANY, plot, {"max": MAX_VERTICES})])
    return (parts[0] if len(parts) == 1 else MultiPolygon(parts)), fewest, worst


def parse_file(filename: str, data: bytes) -> list[ParsedPlot]:
    """By the file's extension (.geojson/.json or .kml); anything else is refused."""
    lower = filename.lower()
    if lower.endswith((".geojson", ".json")):
        return parse_geojson(data)
    if lower.endswith(".kml"):
        return parse_kml(data)
    raise PlotsRefused([PlotIssue(Issue.UNSUPPORTED, 0, {"kind": lower.rsplit(".", 1)[-1]})])


# ---------------------------------------------------------------- checking


@cache
def regency_shapes() -> dict[str, BaseGeometry]:
    features = json.loads(REGENCIES_GEOJSON.read_text(encoding="utf-8"))["features"]
    shapes = {f["properties"]["regency_code"]: shape(f["geometry"]) for f in features}
    for geom in shapes.values():
        shapely.prepare(geom)
    return shapes


def area_ha(geometry: BaseGeometry) -> Decimal:
    """A polygon's area on the WGS84 ellipsoid, in hectares (two decimals kept); a
    MultiPolygon's is its parts' together (each part's own: pyproj signs an area by the way
    its ring runs, so a sum over parts drawn either way could cancel)."""
    area = sum(abs(GEOD.geometry_area_perimeter(part)[0])
               for part in getattr(geometry, "geoms", [geometry]))
    return Decimal(str(round(area / 10_000, 4)))


def area_agrees(declared: Decimal, measured: Decimal) -> bool:
    allowed = max(declared * AREA_TOLERANCE_PERCENT / 100, AREA_TOLERANCE_HA)
    return abs(declared - measured) <= allowed


def distance_outside_m(geometry: BaseGeometry, regency: BaseGeometry) -> float:
    """How far the plot reaches beyond the regency, in metres (0 inside): measured in an
    azimuthal equidistant projection centred on the plot, true to a metre at this scale."""
    if regency.contains(geometry):
        return 0.0
    centre = geometry.centroid
    to_local = Transformer.from_crs(
        "EPSG:4326", f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m",
        always_xy=True)

    def project(g: BaseGeometry) -> BaseGeometry:
        return shapely.transform(g, lambda xy: np.column_stack(
            to_local.transform(xy[:, 0], xy[:, 1])))

    outside = geometry.difference(regency) if not isinstance(geometry, Point) else geometry
    local = project(regency)
    corners = shapely.points(shapely.get_coordinates(project(outside)))
    distances = np.atleast_1d(shapely.distance(corners, local))
    return float(distances.max()) if distances.size else 0.0


def regency_of(geometry: BaseGeometry) -> str | None:
    """The regency the plot's centre lies in, if any (for the message)."""
    centre = geometry.centroid
    return next((code for code, g in regency_shapes().items() if g.contains(centre)), None)


def check_period(start: dt.date | None, end: dt.date | None, today: dt.date) -> list[PlotIssue]:
    if start is None or end is None or end < start or start > today:
        return [PlotIssue(Issue.PERIOD, 0)]
    return []


def check(plot: ParsedPlot, number: int, *, declared_ha: Decimal | None,
          regency_code: str) -> tuple[CheckedPlot | None, list[PlotIssue]]:
    """One plot against every rule; all its problems at once, so one correction suffices."""
    issues: list[PlotIssue] = []
    if plot.min_decimals < MIN_DECIMALS:
        issues.append(PlotIssue(Issue.DECIMALS, number, {"text": plot.worst,
                                                         "decimals": plot.min_decimals}))
    coords = shapely.get_coordinates(plot.geometry)
    if not (np.all(np.abs(coords[:, 1]) <= 90) and np.all(np.abs(coords[:, 0]) <= 180)):
        issues.append(PlotIssue(Issue.RANGE, number))
        return None, issues
    polygon = isinstance(plot.geometry, Polygon | MultiPolygon)
    if polygon and not plot.geometry.is_valid:
        issues.append(_invalid(plot.geometry, number))
        return None, issues
    area = declared_ha if declared_ha is not None else plot.area_ha
    measured = area_ha(plot.geometry) if polygon else None
    if area is None:
        issues.append(PlotIssue(Issue.AREA_MISSING, number))
    elif not polygon and area > POINT_MAX_HA:
        issues.append(PlotIssue(Issue.NEEDS_POLYGON, number, {"area": area}))
    elif measured is not None and not area_agrees(area, measured):
        issues.append(PlotIssue(Issue.AREA_MISMATCH, number,
                                {"declared": area, "measured": measured}))
    regency = regency_shapes().get(regency_code)
    if regency is not None:
        beyond = distance_outside_m(plot.geometry, regency)
        if beyond > REGENCY_TOLERANCE_M:
            issues.append(PlotIssue(Issue.OUTSIDE_REGENCY, number, {
                "km": round(beyond / 1000, 1), "regency": regency_code,
                "found": regency_of(plot.geometry)}))
    if issues or area is None:
        return None, issues
    return CheckedPlot(plot.geometry, "polygon" if polygon else "point", area, measured,
                       plot.name), []


def _invalid(geometry: BaseGeometry, number: int) -> PlotIssue:
    """What is wrong with an invalid polygon, or with the first invalid part of a
    MultiPolygon; parts that are each valid are invalid together where they overlap."""
    parts = list(getattr(geometry, "geoms", [geometry]))
    broken = next((p for p in parts if not p.is_valid), None)
    reason = explain_validity(broken if broken is not None else geometry)
    where = re.search(rf"\[({NUMBER}) ({NUMBER})\]", reason)
    at = {"lat": f"{float(where.group(2)):.6f}", "lon": f"{float(where.group(1)):.6f}"} \
        if where else {}
    if broken is None:
        return PlotIssue(Issue.PARTS_OVERLAP, number, at)
    if reason.startswith(("Self-intersection", "Ring Self-intersection")):
        return PlotIssue(Issue.SELF_INTERSECTING, number, at)
    return PlotIssue(Issue.INVALID, number, {"reason": reason.split("[")[0]})


def check_all(plots: list[ParsedPlot], *, declared_ha: Decimal | None,
              regency_code: str) -> list[CheckedPlot]:
    """Every plot checked; all or nothing. ``declared_ha`` (the form's area) is for a single
    plot; a file names each plot's area itself (GeoJSON "Area")."""
    if declared_ha is not None and len(plots) > 1:
        declared_ha = None
    checked, issues = [], []
    for number, plot in enumerate(plots, start=1):
        ok, found = check(plot, number, declared_ha=declared_ha, regency_code=regency_code)
        issues += found
        if ok is not None:
            checked.append(ok)
    if issues:
        raise PlotsRefused(issues)
    return checked


def geometry_json(geometry: BaseGeometry) -> str:
    """A geometry as stored and exported: GeoJSON, coordinates rounded to 7 decimals (1 cm;
    the exporter's six or more decimals survive, float noise does not)."""
    rounded = shapely.set_precision(geometry, 1e-7) \
        if isinstance(geometry, Polygon | MultiPolygon) else geometry
    data = mapping(rounded)
    return json.dumps(_round(data), separators=(",", ":"))


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 7)
    if isinstance(value, list | tuple):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def all_near_regency(geometries: list[str], regency_code: str) -> bool:
    """Whether every stored plot (GeoJSON text) still lies within the tolerance of the
    regency: the batch's origin may have been edited after its plots were recorded."""
    regency = regency_shapes().get(regency_code)
    if regency is None:
        return False
    return all(distance_outside_m(shape(json.loads(g)), regency) <= REGENCY_TOLERANCE_M
               for g in geometries)
