"""The formatting help page's examples (issue 17): Markdown a member types, and what it becomes.

Each example is rendered by forum/markup.py when the page is shown, never written out by hand,
so the page cannot promise what posts do not do. The sources are translated: an Arabic reader
sees Arabic examples (the syntax stays the same).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from markupsafe import Markup

from forum.markup import MAX_ELEMENTS, MAX_LINKS, render_markdown, safe_html
from forum.models.discussions import BODY_MAX_LENGTH

# The handle the mention example links, as if a member had it.
EXAMPLE_HANDLE = "maya"


@dataclass(frozen=True)
class Section:
    key: str  # the anchor: /help/formatting#tables
    title: LazyString
    note: LazyString
    source: LazyString | str


@dataclass(frozen=True)
class RenderedSection:
    key: str
    title: str
    note: str
    source: str
    html: Markup


SECTIONS = (
    Section(
        "emphasis",
        _l("Bold, italic and struck out"),
        _l("Two stars for bold, one for italic, two tildes to strike out."),
        _l("**Bold**, *italic* and ~~struck out~~ text."),
    ),
    Section(
        "paragraphs",
        _l("Paragraphs and headings"),
        _l("A blank line starts a new paragraph; # signs at the start of a line make a heading."),
        _l("## A heading\n\nA first paragraph.\n\nA second paragraph."),
    ),
    Section(
        "links",
        _l("Links"),
        _l(
            "Text in brackets, then the address in parentheses. A bare address becomes a link "
            "by itself. Images are shown as links, so that no reader's address reaches "
            "another site."
        ),
        _l(
            "Read [the paper](https://arxiv.org/abs/2307.15043) or https://example.org\n\n"
            "![A figure](https://example.org/figure.png)"
        ),
    ),
    Section(
        "lists",
        _l("Lists"),
        _l("A dash or a star for bullets, a number and a full stop for numbered lists."),
        _l("- Privacy\n- Safety\n\n1. Read\n2. Discuss\n3. Vote"),
    ),
    Section(
        "quotes",
        _l("Quotes"),
        _l("A > at the start of each line. The Quote button under a post fills one in."),
        _l("> Refusal rates drop in low-resource languages."),
    ),
    Section(
        "code",
        _l("Code"),
        _l(
            "Backticks around code in a sentence; three backticks on their own lines around a "
            "block (name the language after the first three)."
        ),
        "Call `generate()` twice.\n\n```python\nprint(model.generate(prompt))\n```",
    ),
    Section(
        "tables",
        _l("Tables"),
        _l(
            "Cells between | signs, a line of dashes under the header; a colon sets the "
            "alignment of a column."
        ),
        _l("| Model | Refusals |\n| :--- | ---: |\n| A | 92% |\n| B | 87% |"),
    ),
    Section(
        "mentions",
        _l("Mentions"),
        _l(
            "@ and a member's handle links to them and lets them know. A handle that no member "
            "has stays plain text."
        ),
        _l("Thanks @maya, and @nobody-here."),
    ),
    Section(
        "html",
        _l("HTML"),
        _l("HTML is not interpreted: it is shown as you typed it."),
        "<b>not bold</b>",
    ),
)


def rendered_sections() -> list[RenderedSection]:
    """Every example with the HTML markup.py gives it, in the reader's language."""
    return [
        RenderedSection(
            key=section.key,
            title=str(section.title),
            note=str(section.note),
            source=str(section.source),
            html=safe_html(render_markdown(str(section.source), mention_handles={EXAMPLE_HANDLE})),
        )
        for section in SECTIONS
    ]


def limits() -> dict[str, str]:
    """What one post may hold, written the reader's way."""
    return {
        "characters": format_number(BODY_MAX_LENGTH),
        "elements": format_number(MAX_ELEMENTS),
        "links": format_number(MAX_LINKS),
    }
