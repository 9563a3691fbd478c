"""Bar charts of voting results as standalone, accessible SVG (no scripts, no external files).

Labels are agenda item titles written by members, so every piece of text is XML-escaped here
and the caller may mark the returned string safe. Text uses ``currentColor`` and the bars a mid
blue with at least 3:1 contrast on both white and black, so one chart suits light and dark mode.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence

BAR_COLOUR = "#3b6fd8"  # 4.6:1 against white and 4.6:1 against black
LABEL_MAX_CHARS = 40  # longer titles are cut with an ellipsis; the full one is in the tooltip
TITLE_HEIGHT_PX = 32
ROW_HEIGHT_PX = 28
BAR_HEIGHT_PX = 20
BOTTOM_PADDING_PX = 8
EDGE_PADDING_PX = 8
LABEL_COLUMN_SHARE = 0.4  # of the width; 40 characters at 12px fit in 256px of 640
VALUE_COLUMN_PX = 64
MIN_WIDTH_PX = 240
FONT_SIZE_PX = 12
TITLE_FONT_SIZE_PX = 14

# Characters XML 1.0 forbids even when escaped; a title containing one must not break the chart.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def plain_number(value: float) -> str:
    """12 for 12.0, 2.5 for 2.5, 0.33 for 1/3: scores without noise (not localised)."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def xml_text(text: str) -> str:
    """Text made safe for XML content and attribute values (& < > " ' and forbidden chars)."""
    text = _NOT_XML.sub("\ufffd", str(text))
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def short_label(label: str) -> str:
    """The label as shown next to its bar: at most LABEL_MAX_CHARS, ending in … if cut."""
    label = " ".join(str(label).split())
    if len(label) <= LABEL_MAX_CHARS:
        return label
    return label[: LABEL_MAX_CHARS - 1].rstrip() + "…"


def bar_chart_svg(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    value_label: Callable[[float], str] = plain_number,
    width: int = 640,
    rtl: bool = False,
    empty_message: str = "Nothing to show yet.",
    chart_id: str | None = None,
) -> str:
    """A horizontal bar chart, one bar per (label, value), longest bar = largest value.

    Preconditions: values are finite and ≥ 0; width ≥ MIN_WIDTH_PX. ``value_label`` formats
    values (pass a localised one); ``empty_message`` is shown when there are no bars (pass it
    translated). ``rtl`` mirrors the chart: labels on the right, bars growing leftwards.
    ``chart_id`` prefixes the element ids (two charts on one page need different ids; by
    default it is derived from the content).
    """
    if width < MIN_WIDTH_PX:
        raise ValueError(f"width must be at least {MIN_WIDTH_PX}px, got {width}")
    values = [float(value) for _label, value in bars]
    if any(not math.isfinite(value) or value < 0 for value in values):
        raise ValueError("bar values must be finite and not negative")
    prefix = chart_id or _content_id(title, bars)
    title_id, desc_id = f"{prefix}-title", f"{prefix}-desc"
    rows = max(len(bars), 1)
    height = TITLE_HEIGHT_PX + rows * ROW_HEIGHT_PX + BOTTOM_PADDING_PX
    label_column = round(width * LABEL_COLUMN_SHARE)
    bar_start = EDGE_PADDING_PX + label_column
    bar_room = width - bar_start - VALUE_COLUMN_PX - EDGE_PADDING_PX
    largest = max(values, default=0.0)
    shown = [
        (label, value, value_label(value))
        for (label, _raw), value in zip(bars, values, strict=True)
    ]
    description = (
        "; ".join(f"{' '.join(str(label).split())}: {text}" for label, _v, text in shown)
        or empty_message
    )

    def x(position: float, length: float = 0.0) -> str:
        # Left-to-right coordinates, mirrored for right-to-left pages.
        return _px(width - position - length if rtl else position)

    direction = ' direction="rtl"' if rtl else ""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{title_id} {desc_id}" font-size="{FONT_SIZE_PX}">',
        f'<title id="{title_id}">{xml_text(title)}</title>',
        f'<desc id="{desc_id}">{xml_text(description)}</desc>',
        f'<text class="bar-chart-title" x="{x(EDGE_PADDING_PX)}" y="{TITLE_HEIGHT_PX - 12}" '
        f'text-anchor="start" font-size="{TITLE_FONT_SIZE_PX}" font-weight="bold" '
        f'fill="currentColor"{direction}>{xml_text(title)}</text>',
    ]
    if not shown:
        parts.append(
            f'<text class="bar-chart-empty" x="{x(EDGE_PADDING_PX)}" '
            f'y="{TITLE_HEIGHT_PX + ROW_HEIGHT_PX // 2 + 4}" text-anchor="start" '
            f'fill="currentColor"{direction}>{xml_text(empty_message)}</text>'
        )
    for row, (label, value, text) in enumerate(shown):
        top = TITLE_HEIGHT_PX + row * ROW_HEIGHT_PX
        baseline = top + BAR_HEIGHT_PX // 2 + 4  # roughly centred on the bar at 12px
        length = bar_room * value / largest if largest > 0 else 0.0
        full_label = " ".join(str(label).split())
        parts += [
            '<g class="bar-chart-row">',
            f'<rect class="bar" x="{x(bar_start, length)}" y="{top}" width="{_px(length)}" '
            f'height="{BAR_HEIGHT_PX}" fill="{BAR_COLOUR}">'
            f"<title>{xml_text(full_label)}: {xml_text(text)}</title></rect>",
            f'<text class="bar-label" x="{x(bar_start - EDGE_PADDING_PX)}" y="{baseline}" '
            f'text-anchor="end" fill="currentColor"{direction}>'
            f"{xml_text(short_label(label))}</text>",
            f'<text class="bar-value" x="{x(bar_start + length + 4)}" y="{baseline}" '
            f'text-anchor="start" fill="currentColor"{direction}>{xml_text(text)}</text>',
            "</g>",
        ]
    parts.append("</svg>")
    return "\n".join(parts)


def _px(number: float) -> str:
    return plain_number(round(number, 2))


def _content_id(title: str, bars: Sequence[tuple[str, float]]) -> str:
    digest = hashlib.sha256(repr((title, [tuple(bar) for bar in bars])).encode()).hexdigest()
    return f"chart-{digest[:12]}"
