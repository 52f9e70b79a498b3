"""The SVG charts' marks, from figures given directly (pure logic: no service behind them)."""

from __future__ import annotations

import re

from guidance_assessment.entrypoints.http import charts

MONTHS = [f"2025-{m:02d}" for m in range(1, 7)]


def test_a_month_with_nothing_measured_breaks_the_line() -> None:
    """Given a series measured in January, March and April, May–June and not in February: three runs,
    of which January alone is a point, so no segment joins January to March or April to June."""
    svg = str(charts.lines("c", "t", MONTHS, [("按期整改率", [50.0, None, 60.0, 70.0, None, 100.0])]))
    segments = re.findall(r'<polyline class="segment"[^>]*points="([^"]*)"', svg)
    assert len(segments) == 1 and len(segments[0].split()) == 2  # March–April only
    months = re.findall(r'data-month="([^"]*)"', svg)
    assert months == ["2025-01", "2025-03", "2025-04", "2025-06"]


def test_consecutive_months_are_one_segment() -> None:
    svg = str(charts.lines("c", "t", MONTHS[:3], [("书面指导比例", [0.0, 50.0, 100.0])]))
    segments = re.findall(r'<polyline class="segment"[^>]*points="([^"]*)"', svg)
    assert [len(s.split()) for s in segments] == [3]


def test_timeliness_bars_show_their_values_a_zero_and_what_was_not_measured() -> None:
    svg = str(
        charts.grouped_bars(
            "c", "t", ["回访率", "按期公开率"], [("县林业局", [0.0, None]), ("县住建局", [75.0, 100.0])]
        )
    )
    bars = re.findall(r'<rect class="bar"[^>]*width="([^"]*)"[^>]*data-label="([^"]*)"[^>]*data-value="([^"]*)"', svg)
    assert [(label, value) for _, label, value in bars] == [
        ("县林业局", "0.0"),
        ("县住建局", "75.0"),
        ("县住建局", "100.0"),
    ]
    assert float(bars[0][0]) > 0  # a measured zero is visible
    assert re.findall(r'class="value"[^>]*>([^<]*)<', svg) == ["0.0%", "75.0%", "100.0%"]
    assert re.findall(r'class="empty"[^>]*data-label="([^"]*)" data-series="([^"]*)">无数据', svg) == [
        ("县林业局", "按期公开率")
    ]
    assert "无数据" in str(charts.grouped_bars("c", "t", ["回访率"], []))
