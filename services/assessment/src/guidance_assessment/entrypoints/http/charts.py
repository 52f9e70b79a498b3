"""Server-rendered inline SVG charts: no JavaScript, readable by any browser and by a test.

Each chart is an ``<svg class="chart" id="chart-…">``; each mark carries its datum in ``data-*``
attributes (``data-label``, ``data-value``), so what is drawn can be checked against the table it
came from. All text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 640
PALETTE = ("#1f5fa8", "#c8102e", "#2e8b57", "#d98c00", "#6a4c93")


def _svg(chart_id: str, title: str, height: int, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" id="{escape(chart_id)}" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def bars(chart_id: str, title: str, items: Sequence[tuple[str, float]], *, maximum: float = 100.0) -> Markup:
    """Horizontal bars, one per (label, value), scaled to ``maximum``."""
    row, left, span = 28, 170, WIDTH - 170 - 60
    body = []
    for index, (label, value) in enumerate(items):
        y = 10 + index * row
        length = 0 if maximum <= 0 else max(0.0, min(value, maximum)) / maximum * span
        body.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" font-size="12">{escape(label)}</text>'
            f'<rect class="bar" x="{left}" y="{y}" width="{length:.1f}" height="20" fill="{PALETTE[0]}" '
            f'data-label="{escape(label)}" data-value="{value}"/>'
            f'<text x="{left + length + 4:.1f}" y="{y + 15}" font-size="12">{value}</text>'
        )
    return _svg(chart_id, title, 20 + max(len(items), 1) * row, body)


def grouped_bars(
    chart_id: str, title: str, series: Sequence[str], items: Sequence[tuple[str, Sequence[float | None]]]
) -> Markup:
    """Per label, one bar per series (percentages) with its value written beside it; a zero draws a
    sliver so it is seen as measured, a missing value (nothing to measure) is written 无数据 in grey."""
    per, left, span = 16, 170, WIDTH - 170 - 60
    row = per * len(series) + 12
    body = [
        f'<text class="legend" x="{left + i * 150}" y="14" font-size="12" fill="{PALETTE[i % len(PALETTE)]}">'
        f"■ {escape(name)}</text>"
        for i, name in enumerate(series)
    ]
    for index, (label, values) in enumerate(items):
        y0 = 26 + index * row
        body.append(f'<text x="{left - 8}" y="{y0 + row / 2}" text-anchor="end" font-size="12">{escape(label)}</text>')
        for s, value in enumerate(values):
            y = y0 + s * per
            if value is None:
                body.append(
                    f'<text class="empty" x="{left + 2}" y="{y + per - 5}" font-size="10" fill="#999" '
                    f'data-label="{escape(label)}" data-series="{escape(series[s])}">无数据</text>'
                )
                continue
            length = max(1.5, max(0.0, min(value, 100.0)) / 100 * span)
            body.append(
                f'<rect class="bar" x="{left}" y="{y}" width="{length:.1f}" height="{per - 3}" '
                f'fill="{PALETTE[s % len(PALETTE)]}" data-label="{escape(label)}" data-series="{escape(series[s])}" '
                f'data-value="{value}"/>'
                f'<text class="value" x="{left + length + 4:.1f}" y="{y + per - 5}" font-size="10">{value}%</text>'
            )
    if not items:
        body.append(f'<text class="empty" x="{left}" y="44" font-size="12" fill="#999">无数据</text>')
    return _svg(chart_id, title, 30 + max(len(items), 1) * row, body)


def lines(
    chart_id: str, title: str, months: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]]
) -> Markup:
    """One group per series over the months (percent, 0–100): a polyline per run of consecutive
    measured months and a point for each; a month with nothing measured is a gap."""
    height, left, top, bottom = 260, 40, 30, 30
    plot_w, plot_h = WIDTH - left - 20, height - top - bottom
    step = plot_w / max(len(months) - 1, 1)
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#888"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#888"/>',
        f'<text x="4" y="{top + 4}" font-size="10">100%</text><text x="4" y="{top + plot_h}" font-size="10">0</text>',
    ]
    for i, month in enumerate(months):
        body.append(
            f'<text class="month" x="{left + i * step:.1f}" y="{height - 10}" font-size="10" '
            f'text-anchor="middle">{escape(month[5:])}</text>'
        )
    for s, (name, values) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        points = [
            (i, left + i * step, top + plot_h - max(0.0, min(v, 100.0)) / 100 * plot_h, months[i], v)
            for i, v in enumerate(values)
            if v is not None
        ]
        body.append(
            f'<text class="legend" x="{left + s * 150}" y="14" font-size="12" fill="{colour}">■ {escape(name)}</text>'
        )
        # a month with nothing measured breaks the line: joining across it would draw figures never taken
        body.append(f'<g class="series" data-series="{escape(name)}">')
        body += [
            f'<polyline class="segment" fill="none" stroke="{colour}" stroke-width="2" '
            f'points="{" ".join(f"{x:.1f},{y:.1f}" for _, x, y, _, _ in run)}"/>'
            for run in _runs(points)
            if len(run) > 1
        ]
        body.append("</g>")
        body += [
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}" data-series="{escape(name)}" '
            f'data-month="{escape(m)}" data-value="{v}"/>'
            for _, x, y, m, v in points
        ]
    return _svg(chart_id, title, height, body)


Point = tuple[int, float, float, str, float]


def _runs(points: Sequence[Point]) -> list[list[Point]]:
    """The points split where a month between them is missing (by their month index)."""
    runs: list[list[Point]] = []
    for point in points:
        if runs and runs[-1][-1][0] == point[0] - 1:
            runs[-1].append(point)
        else:
            runs.append([point])
    return runs
