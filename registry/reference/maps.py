"""The 41 regencies of Bali, NTB and NTT as map shapes, from ``regencies.geojson``: projected
to pixels and simplified once per process, and the locator map of the verification page.

Pure functions: no Flask, no database. The figures' choropleth (``registry.figures.charts``)
draws on the same shapes.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

GEOJSON = Path(__file__).resolve().parent / "regencies.geojson"
# A regency with no value (figures) or outside the three provinces' tints (locator).
NODATA = "#eceeea"
MAP_WIDTH = 820
TOLERANCE_PX = 0.7  # Douglas-Peucker tolerance: below what a screen pixel can show
MIN_RING_PX = 1.2  # islets smaller than this in both directions are dropped


Point = tuple[float, float]


def _dp(points: list[Point], tolerance: float) -> list[Point]:
    """Douglas-Peucker, iterative (Manggarai Barat's coast would overflow a recursive one)."""
    if len(points) < 4:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        (ax, ay), (bx, by) = points[a], points[b]
        dx, dy = bx - ax, by - ay
        norm = math.hypot(dx, dy)
        worst, index = 0.0, -1
        for i in range(a + 1, b):
            px, py = points[i]
            d = (abs(dy * px - dx * py + bx * ay - by * ax) / norm if norm
                 else math.hypot(px - ax, py - ay))
            if d > worst:
                worst, index = d, i
        if worst > tolerance and index > 0:
            keep[index] = True
            stack += [(a, index), (index, b)]
    return [p for p, k in zip(points, keep, strict=True) if k]


@dataclass(frozen=True)
class MapShape:
    code: str
    name: str
    province_code: str
    path: str  # SVG path data in map pixels


@cache
def map_shapes() -> tuple[tuple[MapShape, ...], float, float]:
    """The 41 regencies projected to pixels and simplified, computed once per process.

    Equirectangular with the longitude squeezed by cos(mean latitude): at 8–11° S the
    distortion is under 2 %, and the result is a fraction of the raw file's size.
    """
    features = json.loads(GEOJSON.read_text(encoding="utf-8"))["features"]
    lons = [x for f in features for poly in f["geometry"]["coordinates"] for ring in poly
            for x, _y in ring]
    lats = [y for f in features for poly in f["geometry"]["coordinates"] for ring in poly
            for _x, y in ring]
    k = math.cos(math.radians((min(lats) + max(lats)) / 2))
    scale = MAP_WIDTH / ((max(lons) - min(lons)) * k)
    height = (max(lats) - min(lats)) * scale
    west, north = min(lons), max(lats)

    def project(lon: float, lat: float) -> Point:
        return (lon - west) * k * scale, (north - lat) * scale

    shapes = []
    for f in features:
        props = f["properties"]
        rings = [[project(x, y) for x, y in poly[0]] for poly in f["geometry"]["coordinates"]]
        # Exterior rings only: the source has no meaningful holes at this scale.
        rings.sort(key=lambda r: -_extent(r))
        parts = []
        for i, ring in enumerate(rings):
            if i and _extent(ring) < MIN_RING_PX:
                continue  # an islet too small to see; the largest ring always stays
            simple = _dp(ring, TOLERANCE_PX)
            if len(simple) < 3:
                simple = ring[:: max(1, len(ring) // 4)]
            parts.append("M" + " ".join(f"{x:.1f},{y:.1f}" for x, y in simple) + "Z")
        shapes.append(MapShape(props["regency_code"], props["regency_name"],
                               props["province_code"], "".join(parts)))
    return tuple(shapes), float(MAP_WIDTH), height


def _extent(ring: list[Point]) -> float:
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return max(max(xs) - min(xs), max(ys) - min(ys))


PROVINCE_TINTS = {"51": "#e4e1d6", "52": "#d8e0da", "53": "#dfe5e9"}
ORIGIN_FILL = "#0b5d4b"
ORIGIN_MARK = "#f4c430"


@cache
def locator_map(code: str) -> str:
    """Bali, NTB and NTT with one regency marked, for the public verification page.

    Decorative (the page states the origin in words), so it is hidden from screen readers;
    a ring marks the regency too, because a kota is a few pixels wide at this scale."""
    shapes, width, height = map_shapes()
    parts: list[str] = []
    marker = ""
    for s in shapes:
        if s.code == code:
            continue
        fill = PROVINCE_TINTS.get(s.province_code, NODATA)
        parts.append(f'<path d="{s.path}" fill="{fill}" stroke="#ffffff" stroke-width="0.6"/>')
    origin = next((s for s in shapes if s.code == code), None)
    if origin is not None:
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", origin.path)]
        xs, ys = numbers[0::2], numbers[1::2]
        cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
        parts.append(f'<path d="{origin.path}" fill="{ORIGIN_FILL}" stroke="{ORIGIN_FILL}" '
                     f'stroke-width="1"/>')
        marker = (f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="11" fill="none" '
                  f'stroke="{ORIGIN_MARK}" stroke-width="3"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'aria-hidden="true" focusable="false">{"".join(parts)}{marker}</svg>')
