"""The scaling behind the figures' charts (registry/figures/charts.py): round axis maxima, the
map's quantile classes and colours, and bar lengths. No app."""

from __future__ import annotations

import re

import pytest

from registry.figures.charts import (
    PALETTE,
    Bar,
    bar_chart,
    class_breaks,
    colour_for,
    line_chart,
    nice_ceiling,
)
from registry.reference.maps import NODATA


@pytest.mark.parametrize(("value", "ceiling"), [
    (1, 1), (1.5, 2), (2, 2), (2.1, 2.5), (2.5, 2.5), (2.6, 5), (3, 5), (5, 5), (5.1, 10),
    (7, 10), (9.99, 10), (10, 10), (11, 20), (1234, 2000), (2_400_000, 2_500_000),
    (999_999, 1_000_000), (0.3, 0.5), (0.07, 0.1), (0.001, 0.001), (0.0012, 0.002),
])
def test_axis_maxima_are_round(value: float, ceiling: float) -> None:
    assert nice_ceiling(value) == pytest.approx(ceiling, rel=1e-12)


@pytest.mark.parametrize("value", [0, -0.0, -5, -1e9])
def test_an_empty_axis_still_reaches_one(value: float) -> None:
    assert nice_ceiling(value) == 1.0


def test_class_breaks_of_nothing() -> None:
    assert class_breaks([]) == []
    assert class_breaks([0, -3, 0.0]) == []


@pytest.mark.parametrize(("values", "breaks"), [
    ([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]),
    ([5, 4, 3, 2, 1], [1, 2, 3, 4, 5]),
    (list(range(1, 11)), [2, 4, 6, 8, 10]),
    (list(range(1, 8)), [2, 3, 5, 6, 7]),
    ([7], [7]),
    ([3, 3, 3], [3]),
    ([1, 1, 1, 1, 9], [1, 9]),
    ([0, 0, 4, 2, -8], [2, 4]),
    ([0.5, 100.0, 2.5], [0.5, 2.5, 100.0]),
])
def test_class_breaks_are_upper_bounds_of_quantiles(values: list[float],
                                                    breaks: list[float]) -> None:
    assert class_breaks(values) == breaks


def test_equal_values_make_one_class() -> None:
    # Sums as the database returns them: equal numbers in separate float objects.
    values = [float(text) for text in ["2.5", "2.5", "2.5", "7.5"]]
    assert class_breaks(values) == [2.5, 7.5]


def test_fewer_classes_when_asked() -> None:
    assert class_breaks([1, 2, 3, 4, 5, 6], classes=3) == [2, 4, 6]
    assert class_breaks([1, 2, 3, 4, 5, 6], classes=1) == [6]
    assert class_breaks(list(range(1, 101)), classes=4) == [25, 50, 75, 100]


@pytest.mark.parametrize(("value", "colour"), [
    (0.5, PALETTE[0]), (1, PALETTE[0]), (1.5, PALETTE[1]), (2, PALETTE[1]), (3, PALETTE[2]),
    (4.5, PALETTE[4]), (5, PALETTE[4]), (6, PALETTE[4]), (1e12, PALETTE[4]),
])
def test_colours_rise_with_the_value(value: float, colour: str) -> None:
    assert colour_for(value, [1, 2, 3, 4, 5]) == colour


def test_few_classes_use_the_darker_end() -> None:
    assert colour_for(5, [10, 20]) == PALETTE[3]
    assert colour_for(15, [10, 20]) == PALETTE[4]
    assert colour_for(25, [10, 20]) == PALETTE[4]
    assert colour_for(3, [3]) == PALETTE[4]


@pytest.mark.parametrize(("value", "breaks"), [(0, [1, 2]), (-1, [1, 2]), (5, []), (0, [])])
def test_no_data_is_grey(value: float, breaks: list[float]) -> None:
    assert colour_for(value, breaks) == NODATA


def test_the_palette_runs_light_to_dark() -> None:
    def lightness(colour: str) -> int:
        return sum(int(colour[i:i + 2], 16) for i in (1, 3, 5))

    assert len(PALETTE) == 5
    assert [lightness(c) for c in PALETTE] == sorted((lightness(c) for c in PALETTE),
                                                     reverse=True)


def test_the_longest_bar_spans_the_plot_and_the_others_scale() -> None:
    svg = bar_chart("c", [Bar("a", 10, "10"), Bar("b", 5, "5"), Bar("c", -1, "-1")],
                    title="t", desc="d")
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([0-9.]+)"', svg)]
    assert widths == [320.0, 160.0, 0.0]  # 640 less the label and value columns; none < 0


def test_bars_of_only_zeros_are_empty_not_a_division_by_zero() -> None:
    svg = bar_chart("c", [Bar("a", 0, "0")], title="t", desc="d")
    assert re.findall(r'<rect [^>]*width="([0-9.]+)"', svg) == ["0.0"]


def test_the_line_charts_axis_reaches_a_round_maximum() -> None:
    svg = line_chart("m", [Bar("Jan", 0, "0"), Bar("Feb", 340, "340")], title="t", desc="d",
                     axis=lambda v: f"{v:g}")
    labels = re.findall(r'text-anchor="end" font-size="11" fill="[^"]+">([^<]+)<', svg)
    assert labels == ["0", "125", "250", "375", "500"]
