"""A tiny inline SVG bar chart of papers per week, drawn at publish time.

The site has no runtime dependency and no build step, so the chart is plain SVG markup embedded in
the page. Colours come from the page's CSS (``currentColor`` and classes) so the chart follows the
light and dark themes; ``<title>``/``<desc>`` make it readable to screen readers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from markupsafe import Markup

__all__ = ["WEEKS", "week_start", "weekly_chart_svg", "weekly_series"]

WEEKS = 26
_WIDTH = 520
_HEIGHT = 120
_TOP = 16  # room for the max label
_BOTTOM = 18  # room for the date labels
_GAP = 2


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week: weeks are the chart's buckets."""
    return day - timedelta(days=day.weekday())


def weekly_series(
    counts: Mapping[date, int], *, end: date, weeks: int = WEEKS
) -> list[tuple[date, int]]:
    """Counts for the ``weeks`` weeks ending with ``end``'s week, oldest first, zeros included.

    ``counts`` is keyed by week start (see :func:`week_start`). The end date is passed in rather
    than taken from the clock so the same data always draws the same chart.
    """
    last = week_start(end)
    starts = [last - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
    return [(start, counts.get(start, 0)) for start in starts]


def _describe(series: Sequence[tuple[date, int]]) -> str:
    if not series:
        return "No data."
    total = sum(count for _, count in series)
    top_week, top = max(series, key=lambda item: (item[1], item[0]))
    first, last = series[0][0], series[-1][0]
    text = f"{total} papers in the {len(series)} weeks from {first} to {last}."
    if top:
        text += f" Busiest: week of {top_week} with {top}."
    return text


def _bars(series: Sequence[tuple[date, int]]) -> Markup:
    """One ``<rect>`` per week, each with its own tooltip title."""
    peak = max((count for _, count in series), default=0) or 1
    slot = _WIDTH / max(len(series), 1)
    usable = _HEIGHT - _TOP - _BOTTOM
    rects = []
    for index, (start, count) in enumerate(series):
        height = round(usable * count / peak, 1)
        rects.append(
            Markup(
                '<rect class="bar" x="{x}" y="{y}" width="{w}" height="{h}">'
                "<title>Week of {start}: {count}</title></rect>"
            ).format(
                x=round(index * slot + _GAP / 2, 1),
                y=round(_TOP + usable - height, 1),
                w=round(slot - _GAP, 1),
                h=height,
                start=start.isoformat(),
                count=count,
            )
        )
    return Markup("").join(rects)


def weekly_chart_svg(series: Sequence[tuple[date, int]], *, title: str, chart_id: str) -> Markup:
    """An accessible inline SVG of ``series``; ``title`` is escaped, ``chart_id`` must be unique
    in the page (it names the title and description elements)."""
    peak = max((count for _, count in series), default=0)
    first = series[0][0].isoformat() if series else ""
    last = series[-1][0].isoformat() if series else ""
    return Markup(
        '<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" '
        'role="img" aria-labelledby="{id}-title {id}-desc">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        '<line class="axis" x1="0" y1="{base}" x2="{w}" y2="{base}"/>'
        "{bars}"
        '<text class="label" x="0" y="11">max {peak}</text>'
        '<text class="label" x="0" y="{h_text}">{first}</text>'
        '<text class="label" x="{w}" y="{h_text}" text-anchor="end">{last}</text>'
        "</svg>"
    ).format(
        w=_WIDTH,
        h=_HEIGHT,
        id=chart_id,
        title=title,
        desc=_describe(series),
        base=_HEIGHT - _BOTTOM,
        bars=_bars(series),
        peak=peak,
        h_text=_HEIGHT - 4,
        first=first,
        last=last,
    )
