"""The only path from user-written text to HTML: Markdown -> markdown-it-py -> bleach allowlist.

markdown-it-py is built with ``html=False`` so raw HTML in a post is shown as text, and bleach
cleans the result as a second layer; every sanitising call lives here so the sanitiser can be
swapped in one place (bleach is no longer maintained upstream, see ../shared/DESIGN.md).
"""

from __future__ import annotations

import re
from functools import lru_cache, partial

import bleach
from bleach.css_sanitizer import CSSSanitizer
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

ALLOWED_TAGS = frozenset(
    {
        "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
        "hr", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead",
        "tr", "ul",
    }
)  # fmt: skip
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"
_LANGUAGE_CLASS = re.compile(r"^language-[\w+#-]{1,30}$")


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a":
        return name in {"href", "title", "rel"}
    if tag in {"td", "th"}:
        return name == "style"  # text-align only, enforced by the CSS sanitizer
    if tag == "ol":
        return name == "start" and value.isdigit()
    if tag == "code":
        return name == "class" and bool(_LANGUAGE_CLASS.match(value))
    return False


def _set_link_rel(attrs: dict, new: bool = False) -> dict:
    attrs[(None, "rel")] = LINK_REL
    attrs.pop((None, "target"), None)
    return attrs


def _render_image_as_link(self, tokens, idx, options, env) -> str:
    # Remote images would leak every reader's address to another host: show a link instead.
    token = tokens[idx]
    src = token.attrGet("src") or ""
    alt = self.renderInlineAsText(token.children or [], options, env) or src
    return f'<a href="{escape(src)}">{escape(alt)}</a>'


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.enable(["table", "strikethrough", "linkify"])
    md.add_render_rule("image", _render_image_as_link)
    return md


@lru_cache(maxsize=1)
def _cleaner() -> bleach.sanitizer.Cleaner:
    return bleach.sanitizer.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=_allowed_attribute,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        css_sanitizer=CSSSanitizer(allowed_css_properties=["text-align"]),
        filters=[partial(LinkifyFilter, callbacks=[_set_link_rel], skip_tags={"pre", "code"})],
    )


def render_markdown(text: str) -> str:
    """Render a user's Markdown to HTML that is safe to put in a page as it is."""
    html = _markdown().render(text or "")
    return _cleaner().clean(html)


def safe_html(stored_html: str) -> Markup:
    """Mark HTML that render_markdown produced (and the database stored) as safe for Jinja."""
    return Markup(stored_html)
