"""Production plots in the reader's words: what is wrong with a plot, and the map.

The map is server-rendered SVG (no script, no tiles from elsewhere): the batch's origin
regency from registry/reference/regencies.geojson and the plots on it, numbered as listed."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from markupsafe import Markup, escape
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from registry.plots.models import Plot
from registry.plots.rules import (
    AREA_TOLERANCE_HA,
    AREA_TOLERANCE_PERCENT,
    MIN_DECIMALS,
    POINT_MAX_HA,
    REGENCY_TOLERANCE_M,
    Issue,
    PlotIssue,
    regency_shapes,
)
from registry.reference import regencies


def _regency_name(code: str | None) -> str:
    regency = regencies().get(code or "")
    return regency.name if regency else _("no regency of Bali, NTB or NTT")


def _number(value: Any) -> str:
    return format_decimal(value)


def issue_message(item: PlotIssue) -> str:
    """One problem of one plot, in the reader's language, saying what to do about it."""
    d = item.detail
    words: dict[Issue, Any] = {
        Issue.EMPTY: lambda: _("No coordinates were found: paste them or choose a file."),
        Issue.UNREADABLE: lambda: (
            _('Line %(line)s is not "latitude, longitude": %(text)s', line=d["line"],
              text=d["text"]) if "line" in d else
            _("The file could not be read as %(format)s.", format=d.get("format", "GeoJSON"))),
        Issue.UNSUPPORTED: lambda: _(
            "Only points and polygons are accepted, and for a plot of several parcels a "
            "MultiPolygon (found: %(kind)s). Upload .geojson or .kml.", kind=d.get("kind", "-")),
        Issue.TOO_MANY: lambda: _("At most %(max)s plots, or corners of one polygon, at a "
                                  "time.", max=_number(d["max"])),
        Issue.DECIMALS: lambda: _(
            "Coordinates need at least %(min)s decimals (about 10 cm); %(text)s has "
            "%(decimals)s. Copy them from the GPS or phone with full precision.",
            min=MIN_DECIMALS, text=d["text"], decimals=d["decimals"]),
        Issue.RANGE: lambda: _("A latitude must lie between -90 and 90 and a longitude between "
                               "-180 and 180: write the latitude first (about -8 to -11 here)."),
        Issue.TOO_FEW_CORNERS: lambda: _("A polygon needs at least three different corners."),
        Issue.SELF_INTERSECTING: lambda: (
            _("The polygon's sides cross each other near %(lat)s, %(lon)s: list the corners "
              "in order around the plot.", lat=d["lat"], lon=d["lon"]) if "lat" in d else
            _("The polygon's sides cross each other: list the corners in order around the "
              "plot.")),
        Issue.PARTS_OVERLAP: lambda: (
            _("The parcels of this plot overlap near %(lat)s, %(lon)s: give each piece of land "
              "once.", lat=d["lat"], lon=d["lon"]) if "lat" in d else
            _("The parcels of this plot overlap: give each piece of land once.")),
        Issue.INVALID: lambda: _("The polygon is not valid (%(reason)s).",
                                 reason=d.get("reason", "")),
        Issue.AREA_MISSING: lambda: _("Give the plot's area in hectares."),
        Issue.NEEDS_POLYGON: lambda: _(
            "A plot of %(area)s ha needs a polygon: a point is accepted only up to %(max)s ha.",
            area=_number(d["area"]), max=_number(POINT_MAX_HA)),
        Issue.AREA_MISMATCH: lambda: _(
            "The polygon measures %(measured)s ha but %(declared)s ha was declared: they must "
            "agree within %(percent)s %% or %(ha)s ha.", measured=_number(d["measured"]),
            declared=_number(d["declared"]), percent=_number(AREA_TOLERANCE_PERCENT),
            ha=_number(AREA_TOLERANCE_HA)),
        Issue.OUTSIDE_REGENCY: lambda: _(
            "The plot lies %(km)s km outside %(regency)s, the batch's origin (it is in "
            "%(found)s). Plots must lie in the origin regency or within %(tolerance)s km of "
            "its outline.", km=_number(d["km"]), regency=_regency_name(d["regency"]),
            found=_regency_name(d.get("found")),
            tolerance=_number(Decimal(REGENCY_TOLERANCE_M) / 1000)),
        Issue.PERIOD: lambda: _("Give the production period: its start no later than its end, "
                                "and not in the future."),
    }
    text = str(words[item.issue]())
    if item.plot:
        return _("Plot %(n)s: %(problem)s", n=item.plot, problem=text)
    return text


# ---------------------------------------------------------------- the map

MAP_WIDTH = 640
MAP_HEIGHT_MAX = 480
PLOT_COLOUR = "#c2410c"
REGENCY_FILL = "#e4ebe6"
REGENCY_STROKE = "#0b5d4b"


@dataclass(frozen=True)
class PlotRow:
    number: int
    plot: Plot
    kind: str  # in the reader's words
    lat: str  # of its centre, for the list
    lon: str


def rows(plots: list[Plot]) -> list[PlotRow]:
    result = []
    for n, plot in enumerate(plots, start=1):
        geometry = shape(json.loads(plot.geometry))
        centre = geometry.centroid
        parts = len(getattr(geometry, "geoms", ()))
        kind = (_("Polygon of %(parts)s parcels", parts=parts) if parts > 1 else
                _("Polygon") if plot.kind == "polygon" else _("Point"))
        result.append(PlotRow(n, plot, kind, f"{centre.y:.6f}", f"{centre.x:.6f}"))
    return result


def plot_map(regency_code: str, plots: list[Plot]) -> Markup:
    """The regency's outline and the plots, numbered as in the list beside it. Framed on the
    plots (with a margin) when they are small against the regency, so a 1 ha field shows."""
    regency = regency_shapes().get(regency_code)
    geometries: list[BaseGeometry] = [shape(json.loads(p.geometry)) for p in plots]
    boxes = [g.bounds for g in geometries]
    if boxes:
        west = min(b[0] for b in boxes)
        south = min(b[1] for b in boxes)
        east = max(b[2] for b in boxes)
        north = max(b[3] for b in boxes)
        # At least ≈2 km around the plots: the regency's border or coast shows when near.
        pad = max((east - west) * 0.3, (north - south) * 0.3, 0.02)
        west, south, east, north = west - pad, south - pad, east + pad, north + pad
    elif regency is not None:
        west, south, east, north = regency.bounds
    else:
        return Markup("")
    k = math.cos(math.radians((south + north) / 2))
    scale = MAP_WIDTH / max((east - west) * k, 1e-9)
    height = min((north - south) * scale, MAP_HEIGHT_MAX)
    scale = min(scale, MAP_HEIGHT_MAX / max(north - south, 1e-9))
    width = (east - west) * k * scale

    def xy(lon: float, lat: float) -> str:
        return f"{(lon - west) * k * scale:.1f},{(north - lat) * scale:.1f}"

    def path(g: BaseGeometry) -> str:
        polygons = getattr(g, "geoms", [g])
        return "".join("M" + " ".join(xy(x, y) for x, y in p.exterior.coords) + "Z"
                       for p in polygons if hasattr(p, "exterior"))

    parts = []
    if regency is not None:
        parts.append(f'<path d="{path(regency)}" fill="{REGENCY_FILL}" '
                     f'stroke="{REGENCY_STROKE}" stroke-width="1.5"/>')
    for n, g in enumerate(geometries, start=1):
        c = g.centroid
        cx, cy = ((c.x - west) * k * scale, (north - c.y) * scale)
        if g.geom_type == "Point":
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{PLOT_COLOUR}"/>')
        else:
            parts.append(f'<path d="{path(g)}" fill="{PLOT_COLOUR}" fill-opacity="0.35" '
                         f'stroke="{PLOT_COLOUR}" stroke-width="2"/>')
        parts.append(f'<text x="{cx + 7:.1f}" y="{cy - 7:.1f}" font-size="14" '
                     f'font-weight="bold" fill="#1f2937">{n}</text>')
    label = _("Map of %(regency)s with %(count)s production plots", count=len(plots),
              regency=_regency_name(regency_code))
    # Only numbers and the escaped label go into the markup.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'role="img" aria-label="{escape(label)}" class="plot-map">{"".join(parts)}</svg>')
