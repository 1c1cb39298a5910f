"""The map shapes' outline simplification (registry/reference/maps.py): Douglas-Peucker and a
ring's extent. No app."""

from __future__ import annotations

import pytest

from registry.reference.maps import _dp, _extent


@pytest.mark.parametrize(("ring", "extent"), [
    ([(0.0, 0.0), (3.0, 0.0), (3.0, 3.0), (0.0, 3.0)], 3.0),
    ([(1.5, 1.0), (9.5, 1.0), (9.5, 3.0), (1.5, 3.0)], 8.0),
    ([(1.0, 1.25), (3.0, 1.25), (3.0, 12.5), (1.0, 12.5)], 11.25),
    ([(5.0, 5.0)], 0.0),
])
def test_a_ring_extends_as_far_as_its_longer_side(ring: list[tuple[float, float]],
                                                  extent: float) -> None:
    assert _extent(ring) == extent


def test_short_outlines_are_kept_as_they_are() -> None:
    line = [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)]
    assert _dp(line, 0.7) == line
    assert _dp(line[:2], 0.7) == line[:2]


def test_points_on_a_straight_line_are_dropped() -> None:
    assert _dp([(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (3.0, 0.0)], 0.7) == [(0.0, 0.0),
                                                                         (3.0, 0.0)]
    diagonal = [(float(i), float(i)) for i in range(10)]
    assert _dp(diagonal, 0.1) == [(0.0, 0.0), (9.0, 9.0)]


def test_a_peak_farther_than_the_tolerance_stays() -> None:
    zig = [(0.0, 0.0), (1.0, 0.0), (2.0, 5.0), (3.0, 0.0), (4.0, 0.0)]
    assert _dp(zig, 1.0) == [(0.0, 0.0), (2.0, 5.0), (4.0, 0.0)]
    assert _dp(zig, 6.0) == [(0.0, 0.0), (4.0, 0.0)]
    assert _dp(zig, 0.5) == zig


def test_a_point_exactly_at_the_tolerance_goes() -> None:
    points = [(0.0, 0.0), (1.0, 1.0), (2.0, 0.0), (4.0, 0.0)]
    assert _dp(points, 1.0) == [(0.0, 0.0), (4.0, 0.0)]
    assert _dp(points, 0.99) == [(0.0, 0.0), (1.0, 1.0), (4.0, 0.0)]


def test_the_farthest_point_is_kept_first() -> None:
    # Both bumps exceed the tolerance; the lower one survives only as its own split's peak.
    points = [(0.0, 0.0), (1.0, 3.0), (2.0, 0.0), (3.0, 0.0), (4.0, 1.5), (5.0, 0.0),
              (6.0, 0.0)]
    assert _dp(points, 1.0) == [(0.0, 0.0), (1.0, 3.0), (2.0, 0.0), (4.0, 1.5), (6.0, 0.0)]
    assert _dp(points, 2.0) == [(0.0, 0.0), (1.0, 3.0), (2.0, 0.0), (6.0, 0.0)]


def test_of_two_points_as_far_the_first_is_kept() -> None:
    # Both peaks lie 1 from the base line; keeping the first decides what the rest becomes.
    points = [(0.0, 0.0), (1.0, 1.0), (2.0, 0.0), (3.0, 1.0), (4.0, 0.0)]
    assert _dp(points, 0.7) == [(0.0, 0.0), (1.0, 1.0), (4.0, 0.0)]


def test_a_closed_ring_away_from_the_origin() -> None:
    # Distances from the ring's start point: a vertex near the straight side goes.
    ring = [(7.0, 8.0), (4.0, 4.0), (6.0, 3.0), (7.0, 6.0), (7.0, 8.0)]
    assert _dp(ring, 1.0) == [(7.0, 8.0), (4.0, 4.0), (6.0, 3.0), (7.0, 8.0)]


def test_a_closed_ring_keeps_its_corners() -> None:
    # First and last point coincide: distances are then measured from that point.
    square = [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (2.0, 1.0), (2.0, 2.0), (1.0, 2.0),
              (0.0, 2.0), (0.0, 1.0), (0.0, 0.0)]
    assert _dp(square, 0.5) == [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0), (0.0, 0.0)]


def test_a_ring_offset_from_the_origin() -> None:
    # The line distance uses both end points: the same shape moved must simplify alike.
    zig = [(10.0, 20.0), (11.0, 20.0), (12.0, 25.0), (13.0, 20.0), (14.0, 20.0)]
    assert _dp(zig, 1.0) == [(10.0, 20.0), (12.0, 25.0), (14.0, 20.0)]
    slanted = [(10.0, 10.0), (12.0, 13.0), (14.0, 14.0), (16.0, 15.0), (18.0, 18.0)]
    assert _dp(slanted, 0.5) == [(10.0, 10.0), (12.0, 13.0), (16.0, 15.0), (18.0, 18.0)]
