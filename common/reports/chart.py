"""Per-item durations as an inline SVG bar chart (no plotting library: a few rectangles suffice).

One bar per item in the order the items started, its height the item's duration in seconds,
its colour its outcome; a dashed line marks the median. Hovering a bar shows item and seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

COLOURS = {"done": "#2e7d32", "business": "#f9a825", "system": "#c62828", "released": "#757575",
           "unfinished": "#757575", "human": "#6a1b9a"}
WIDTH, HEIGHT = 860, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 14, 34


def _nice_step(maximum: float, ticks: int = 4) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about `ticks` ticks up to `maximum`."""
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power


def durations_svg(bars: Sequence[tuple[int, str, float]]) -> str:
    """An `<svg>` element: `bars` are (item id, outcome, duration in seconds), in start order.

    Returns an empty string when there are no bars (the report then says so in words).
    """
    if not bars:
        return ""
    longest = max(seconds for _, _, seconds in bars)
    step = _nice_step(longest) if longest > 0 else 1.0
    top_value = step * max(1, math.ceil(longest / step))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(bars)
    bar_w = max(slot * 0.8, 0.5)

    def y(seconds: float) -> float:
        return TOP + plot_h - plot_h * seconds / top_value

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="{WIDTH}" height="{HEIGHT}" aria-label="Duration per item in seconds">']
    value = 0.0
    while value <= top_value + 1e-9:
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     f'stroke="#ddd"/><text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
                     f'font-size="11">{value:g}</text>')
        value += step
    for index, (item_id, outcome, seconds) in enumerate(bars):
        x = LEFT + index * slot + (slot - bar_w) / 2
        parts.append(f'<rect x="{x:.2f}" y="{y(seconds):.2f}" width="{bar_w:.2f}" '
                     f'height="{max(y(0) - y(seconds), 0.5):.2f}" fill="{COLOURS.get(outcome, "#1565c0")}">'
                     f'<title>item {item_id}: {seconds:.1f} s ({escape(outcome)})</title></rect>')
    ordered = sorted(seconds for _, _, seconds in bars)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(median):.1f}" y2="{y(median):.1f}" '
                 f'stroke="#000" stroke-dasharray="4 3"/><text x="{WIDTH - RIGHT}" y="{y(median) - 4:.1f}" '
                 f'text-anchor="end" font-size="11">median {median:.1f} s</text>')
    parts.append(f'<text x="{LEFT}" y="{HEIGHT - 8}" font-size="11">items in start order ({len(bars)})</text>'
                 f'<text x="12" y="{TOP + plot_h / 2:.0f}" font-size="11" transform="rotate(-90 12 '
                 f'{TOP + plot_h / 2:.0f})" text-anchor="middle">seconds</text></svg>')
    return "".join(parts)
