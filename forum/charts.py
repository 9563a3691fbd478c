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
# Labels sit above their bars, wrapped onto at most LABEL_LINES lines: a narrow chart then has
# room for whole titles, and no label reaches past either edge, whichever side it starts from.
LABEL_LINE_CHARS = 40  # a line of 13px text in 324px, Latin or Arabic
LABEL_LINES = 2
LABEL_MAX_CHARS = LABEL_LINE_CHARS * LABEL_LINES  # longer titles end in …; whole in the tooltip
NOTE_LINE_CHARS = 44  # the note under the bars, at 12px
NOTE_LINES = 3
# 340px wide: shown at its own size on a 375px phone, so 13px text stays 13px (issue 17); the
# old 640px chart was scaled to about half there, its labels some 6px tall.
DEFAULT_WIDTH_PX = 340
TITLE_HEIGHT_PX = 32
LINE_HEIGHT_PX = 16
BAR_HEIGHT_PX = 18
ROW_GAP_PX = 10
BOTTOM_PADDING_PX = 8
EDGE_PADDING_PX = 8
VALUE_COLUMN_PX = 56
MIN_WIDTH_PX = 240
FONT_SIZE_PX = 13
TITLE_FONT_SIZE_PX = 14
# First-strong isolates: member-written text keeps its own direction inside a right-to-left
# chart ("Prompt injection?" not "?Prompt injection"; «Round 4» not »Round 4«).
ISOLATE, END_ISOLATE = "\u2068", "\u2069"

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


def isolated(text: str) -> str:
    """Member text to put inside a translated sentence: it keeps its own direction there."""
    return f"{ISOLATE}{text}{END_ISOLATE}"


def label_lines(label: str) -> list[str]:
    """The label as shown above its bar: whole words on at most LABEL_LINES lines of
    LABEL_LINE_CHARS, the last ending in … if the label is longer."""
    return wrapped(label, LABEL_LINE_CHARS, LABEL_LINES)


def wrapped(text: str, line_chars: int, most_lines: int) -> list[str]:
    """Whole words on at most ``most_lines`` lines of ``line_chars``; … ends a cut text."""
    lines: list[str] = []
    for word in " ".join(str(text).split()).split(" "):
        while len(word) > line_chars:  # one unbroken word longer than a line
            lines.append(word[:line_chars])
            word = word[line_chars:]
        if lines and len(lines[-1]) + 1 + len(word) <= line_chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > most_lines:
        last = lines[most_lines - 1][: line_chars - 1].rstrip()
        lines = [*lines[: most_lines - 1], last + "…"]
    return lines or [""]


def short_label(label: str) -> str:
    """The label's shown lines joined by spaces: at most LABEL_MAX_CHARS, ending in … if cut."""
    return " ".join(label_lines(label))


def bar_chart_svg(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    value_label: Callable[[float], str] = plain_number,
    width: int = DEFAULT_WIDTH_PX,
    rtl: bool = False,
    empty_message: str = "Nothing to show yet.",
    note: str = "",
    chart_id: str | None = None,
) -> str:
    """A horizontal bar chart, one bar per (label, value), longest bar = largest value, each
    label above its bar.

    Preconditions: values are finite and ≥ 0; width ≥ MIN_WIDTH_PX. ``value_label`` formats
    values (pass a localised one); ``empty_message`` is shown when there are no bars (pass it
    translated); ``note``, if given, is a line under the bars (such as what a tie mark means).
    ``rtl`` mirrors the chart: labels from the right edge, bars growing leftwards, member text
    isolated so that its punctuation stays in place. ``chart_id`` prefixes the element ids (two
    charts on one page need different ids; by default it is derived from the content).
    """
    if width < MIN_WIDTH_PX:
        raise ValueError(f"width must be at least {MIN_WIDTH_PX}px, got {width}")
    values = [float(value) for _label, value in bars]
    if any(not math.isfinite(value) or value < 0 for value in values):
        raise ValueError("bar values must be finite and not negative")
    prefix = chart_id or _content_id(title, bars)
    title_id, desc_id = f"{prefix}-title", f"{prefix}-desc"
    bar_start = EDGE_PADDING_PX
    bar_room = width - bar_start - VALUE_COLUMN_PX - EDGE_PADDING_PX
    largest = max(values, default=0.0)
    shown = [
        (label, value, value_label(value), label_lines(label))
        for (label, _raw), value in zip(bars, values, strict=True)
    ]
    description = (
        "; ".join(f"{' '.join(str(label).split())}: {text}" for label, _v, text, _l in shown)
        or empty_message
    )
    if note:
        description += f". {note}"

    def x(position: float, length: float = 0.0) -> str:
        # Left-to-right coordinates, mirrored for right-to-left pages.
        return _px(width - position - length if rtl else position)

    def member_text(text: str) -> str:
        return xml_text(isolated(text) if rtl else text)

    note_lines = wrapped(note, NOTE_LINE_CHARS, NOTE_LINES) if note else []
    direction = ' direction="rtl"' if rtl else ""
    start = f'text-anchor="start" fill="currentColor"{direction}'
    rows_height = sum(
        len(lines) * LINE_HEIGHT_PX + BAR_HEIGHT_PX + ROW_GAP_PX for *_r, lines in shown
    )
    height = (
        TITLE_HEIGHT_PX
        + (rows_height or LINE_HEIGHT_PX * 2)
        + len(note_lines) * LINE_HEIGHT_PX
        + BOTTOM_PADDING_PX
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{title_id} {desc_id}" font-size="{FONT_SIZE_PX}">',
        f'<title id="{title_id}">{xml_text(title)}</title>',
        f'<desc id="{desc_id}">{xml_text(description)}</desc>',
        f'<text class="bar-chart-title" x="{x(EDGE_PADDING_PX)}" y="{TITLE_HEIGHT_PX - 12}" '
        f'font-size="{TITLE_FONT_SIZE_PX}" font-weight="bold" {start}>'
        f"{member_text(title)}</text>",
    ]
    if not shown:
        parts.append(
            f'<text class="bar-chart-empty" x="{x(EDGE_PADDING_PX)}" '
            f'y="{TITLE_HEIGHT_PX + LINE_HEIGHT_PX}" {start}>{xml_text(empty_message)}</text>'
        )
    top = TITLE_HEIGHT_PX
    for label, value, text, lines in shown:
        length = bar_room * value / largest if largest > 0 else 0.0
        full_label = " ".join(str(label).split())
        bar_top = top + len(lines) * LINE_HEIGHT_PX
        tspans = "".join(
            f'<tspan x="{x(EDGE_PADDING_PX)}" y="{top + (n + 1) * LINE_HEIGHT_PX - 4}">'
            f"{member_text(line)}</tspan>"
            for n, line in enumerate(lines)
        )
        parts += [
            '<g class="bar-chart-row">',
            f'<text class="bar-label" x="{x(EDGE_PADDING_PX)}" {start}>{tspans}</text>',
            f'<rect class="bar" x="{x(bar_start, length)}" y="{bar_top}" width="{_px(length)}" '
            f'height="{BAR_HEIGHT_PX}" fill="{BAR_COLOUR}">'
            f"<title>{xml_text(full_label)}: {xml_text(text)}</title></rect>",
            f'<text class="bar-value" x="{x(bar_start + length + 4)}" '
            f'y="{bar_top + BAR_HEIGHT_PX // 2 + 5}" {start}>{xml_text(text)}</text>',
            "</g>",
        ]
        top = bar_top + BAR_HEIGHT_PX + ROW_GAP_PX
    if note:
        lines = "".join(
            f'<tspan x="{x(EDGE_PADDING_PX)}" y="{top + (n + 1) * LINE_HEIGHT_PX - 4}">'
            f"{xml_text(line)}</tspan>"
            for n, line in enumerate(note_lines)
        )
        parts.append(f'<text class="bar-chart-note" font-size="12" {start}>{lines}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _px(number: float) -> str:
    return plain_number(round(number, 2))


def _content_id(title: str, bars: Sequence[tuple[str, float]]) -> str:
    digest = hashlib.sha256(repr((title, [tuple(bar) for bar in bars])).encode()).hexdigest()
    return f"chart-{digest[:12]}"
