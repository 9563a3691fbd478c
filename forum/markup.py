"""The only path from user-written text to HTML: Markdown -> markdown-it-py -> bleach allowlist.

markdown-it-py is built with ``html=False`` so raw HTML in a post is shown as text, and bleach
cleans the result as a second layer; every sanitising call lives here so the sanitiser can be
swapped in one place (bleach is no longer maintained upstream, see ../shared/DESIGN.md).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from html.parser import HTMLParser

import bleach
from bleach import html5lib_shim
from bleach.css_sanitizer import CSSSanitizer
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup, escape

ALLOWED_TAGS = frozenset(
    {
        "a",
        "blockquote",
        "br",
        "code",
        "del",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "strong",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"
# The forum's own attached images (forum/services/attachments.py), the only <img> a post shows:
# src exactly /a/<22-character random key>, nothing else (no other host, no query).
ATTACHED_IMAGE_SRC = re.compile(r"^/a/[A-Za-z0-9_-]{22}$")
_IMAGE_SIZE = re.compile(r"^[1-9][0-9]{0,4}$")
_LANGUAGE_CLASS = re.compile(r"^language-[\w+#-]{1,30}$")
# @handle, not preceded by a word character (so email addresses are not mentions).
MENTION = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9_.-]{1,29})(?<![.-])", re.IGNORECASE)


# What one post may hold, so that any body the form accepts renders in under 150 ms (issue 13).
# Once html5lib's walker no longer goes quadratic (_TreeWalker), rendering is linear, but
# markdown-it and bleach's html5lib pipeline (parse, walk, sanitise, linkify, serialise) cost
# about 150 µs per element on this machine: what bounds the time is how much markup a body
# holds, not its length. Measured per shape by bench/markup.py (docs/performance.md).
MAX_ELEMENTS = 500  # HTML elements: paragraphs, headings, list items, table cells, links, code...
MAX_TABLE_ROWS = 150  # rows, all tables of the post together (header rows included)
MAX_LINKS = 150  # links: [text](url), bare URLs and <url>, images (shown as links), @handles
MAX_NESTING_DEPTH = 8  # lists and block quotes, one inside another, in levels
MAX_MARKS = 1_500  # runs of * _ ~ ` and single [ ] \ outside code: markdown-it pairs each one
MAX_ESCAPED_CHARACTERS = 1_500  # < > & " anywhere: html5lib takes each entity as a token
_ESCAPED = re.compile(r'[<>&"]')
_MARKS = re.compile(r"\*+|_+|~+|`+|[\[\]\\]")
_NESTING_OPEN = frozenset({"blockquote_open", "bullet_list_open", "ordered_list_open"})
_NESTING_CLOSE = frozenset({"blockquote_close", "bullet_list_close", "ordered_list_close"})
_LEAF_ELEMENTS = frozenset({"hr", "code_inline", "hardbreak", "image"})
_CODE_BLOCKS = frozenset({"fence", "code_block"})  # <pre><code>: two elements


class Bound(enum.Enum):
    """Something a post holds too much of to render in bounded time."""

    ELEMENTS = "elements"
    TABLE_ROWS = "table_rows"
    LINKS = "links"
    NESTING_DEPTH = "nesting_depth"
    MARKS = "marks"
    ESCAPED_CHARACTERS = "escaped_characters"


BOUNDS = {
    Bound.ELEMENTS: MAX_ELEMENTS,
    Bound.TABLE_ROWS: MAX_TABLE_ROWS,
    Bound.LINKS: MAX_LINKS,
    Bound.NESTING_DEPTH: MAX_NESTING_DEPTH,
    Bound.MARKS: MAX_MARKS,
    Bound.ESCAPED_CHARACTERS: MAX_ESCAPED_CHARACTERS,
}


@dataclass(frozen=True)
class Excess:
    bound: Bound
    limit: int
    found: int


def check_bounds(text: str) -> list[Excess]:
    """What the text holds more of than a post may (empty when it may be posted as it is).

    Counts on markdown-it's tokens, the same parse render_markdown does: first the blocks only
    (linear, and it finds code, where marks do not count), then, if nothing is over yet, the
    inline content too.
    """
    text = text or ""
    counts = dict.fromkeys(Bound, 0)
    counts[Bound.ESCAPED_CHARACTERS] = len(_ESCAPED.findall(text))
    counts[Bound.LINKS] = sum(1 for _ in MENTION.finditer(text))  # any may name a member
    depth = 0
    for token in _block_markdown().parse(text, {}):
        _count_element(token, counts)
        if token.type in _NESTING_OPEN:
            depth += 1
            counts[Bound.NESTING_DEPTH] = max(counts[Bound.NESTING_DEPTH], depth)
        elif token.type in _NESTING_CLOSE:
            depth -= 1
        elif token.type == "inline":
            counts[Bound.MARKS] += len(_MARKS.findall(token.content))
    if not _over(counts):
        for token in _markdown().parse(text, {}):
            for child in token.children or ():
                _count_element(child, counts)
    return [Excess(bound, BOUNDS[bound], counts[bound]) for bound in _over(counts)]


def _over(counts: dict[Bound, int]) -> list[Bound]:
    return [bound for bound in Bound if counts[bound] > BOUNDS[bound]]


def _count_element(token: Token, counts: dict[Bound, int]) -> None:
    if token.nesting == 1 or token.type in _LEAF_ELEMENTS:
        counts[Bound.ELEMENTS] += 1
    elif token.type in _CODE_BLOCKS:
        counts[Bound.ELEMENTS] += 2
    if token.type == "tr_open":
        counts[Bound.TABLE_ROWS] += 1
    elif token.type in {"link_open", "image"}:
        counts[Bound.LINKS] += 1


def mentioned_handles(text: str) -> set[str]:
    """Every @handle written in a post (lower-cased), known to the forum or not."""
    return {m.group(1).lower() for m in MENTION.finditer(text or "")}


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a":
        return name in {"href", "title", "rel"} or (name == "class" and value == "mention")
    if tag in {"td", "th"}:
        return name == "style"  # text-align only, enforced by the CSS sanitizer
    if tag == "ol":
        return name == "start" and value.isdigit()
    if tag == "code":
        return name == "class" and bool(_LANGUAGE_CLASS.match(value))
    if tag == "img":
        if name == "src":
            return bool(ATTACHED_IMAGE_SRC.match(value))
        if name in {"width", "height"}:
            return bool(_IMAGE_SIZE.match(value))
        return name == "alt" or (name == "loading" and value == "lazy")
    return False


def _set_link_rel(attrs: dict, new: bool = False) -> dict:
    attrs[(None, "rel")] = LINK_REL
    attrs.pop((None, "target"), None)
    return attrs


def _render_image_as_link(self, tokens, idx, options, env) -> str:
    # Remote images would leak every reader's address to another host: show a link instead.
    # An image attached to the forum itself (its size known: env["images"]) is shown.
    token = tokens[idx]
    src = token.attrGet("src") or ""
    alt = self.renderInlineAsText(token.children or [], options, env)
    size = (env.get("images") or {}).get(src[3:]) if ATTACHED_IMAGE_SRC.match(src) else None
    if size is not None:
        width, height = size
        return (
            f'<img src="{escape(src)}" alt="{escape(alt)}" width="{int(width)}" '
            f'height="{int(height)}" loading="lazy">'
        )
    return f'<a href="{escape(src)}">{escape(alt or src)}</a>'


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.enable(["table", "strikethrough", "linkify"])
    md.add_render_rule("image", _render_image_as_link)
    md.core.ruler.push("mentions", _link_mentions)
    return md


class _Ancestors(list):
    """The walker's stack of ancestor elements, each with its index in its own parent."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[int | None] = []

    def push(self, element, key: int | None) -> None:
        self.append(element)
        self.keys.append(key)


class _TreeWalker(html5lib_shim.getTreeWalker("etree")):
    """html5lib's etree walker, but stepping back up to a parent in constant time.

    The vendored walker finds a parent's position with ``list(grandparent).count(parent)`` and
    ``.index(parent)`` each time it leaves the parent's last child, so cleaning an element with
    n children (a table's rows, a list's items, a paragraph's links) costs O(n**2): a 48 KB
    table took 6 s in bleach (issue 13). Here the stack remembers each ancestor's index; the
    nodes walked, and so the tokens the sanitiser sees, are the same.
    """

    def getFirstChild(self, node):
        if isinstance(node, tuple):
            element, key, parents, flag = node
        else:
            element, key, parents, flag = node, None, _Ancestors(), None
        if flag in ("text", "tail"):
            return None
        if element.text:
            return element, key, parents, "text"
        if len(element):
            parents.push(element, key)
            return element[0], 0, parents, None
        return None

    def getNextSibling(self, node):
        if not isinstance(node, tuple):
            return None
        element, key, parents, flag = node
        if flag == "text":
            if len(element):
                parents.push(element, key)
                return element[0], 0, parents, None
            return None
        if element.tail and flag != "tail":
            return element, key, parents, "tail"
        if key < len(parents[-1]) - 1:
            return parents[-1][key + 1], key + 1, parents, None
        return None

    def getParentNode(self, node):
        if not isinstance(node, tuple):
            return None
        element, key, parents, flag = node
        if flag == "text":
            return element if not parents else (element, key, parents, None)
        parent, parent_key = parents.pop(), parents.keys.pop()
        return parent if not parents else (parent, parent_key, parents, None)


@lru_cache(maxsize=1)
def _block_markdown() -> MarkdownIt:
    """The same parser, stopping at blocks: inline content is left as text, unparsed."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.enable(["table", "strikethrough", "linkify"])
    md.core.ruler.disable(["inline", "linkify", "text_join"])
    return md


class _CSSSanitizer(CSSSanitizer):
    """Aligned cells repeat one style: tinycss2 parses each style once, not once per cell."""

    @lru_cache(maxsize=16)  # noqa: B019 (one sanitiser for the process, kept by _cleaner)
    def sanitize_css(self, style: str) -> str:
        return super().sanitize_css(style)


@lru_cache(maxsize=1)
def _cleaner() -> bleach.sanitizer.Cleaner:
    cleaner = bleach.sanitizer.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=_allowed_attribute,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        css_sanitizer=_CSSSanitizer(allowed_css_properties=["text-align"]),
        filters=[partial(LinkifyFilter, callbacks=[_set_link_rel], skip_tags={"pre", "code"})],
    )
    cleaner.walker = _TreeWalker
    return cleaner


def _link_mentions(state) -> None:
    """A core rule: @handle of a known member becomes a link to /@handle (not inside code/links)."""
    known = state.env.get("mention_handles") or set()
    if not known:
        return
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children, in_link = [], 0
        for token in block.children:
            in_link += token.type == "link_open"
            in_link -= token.type == "link_close"
            if token.type != "text" or in_link or "@" not in token.content:
                children.append(token)
                continue
            position = 0
            for match in MENTION.finditer(token.content):
                handle = match.group(1).lower()
                if handle not in known:
                    continue
                if match.start() > position:
                    children.append(_text(state, token.content[position : match.start()]))
                opening = Token("link_open", "a", 1)
                opening.attrs = {"href": f"/@{handle}", "class": "mention"}
                children += [opening, _text(state, match.group(0)), Token("link_close", "a", -1)]
                position = match.end()
            if position < len(token.content):
                children.append(_text(state, token.content[position:]) if position else token)
        block.children = children


def _text(state, content: str):
    token = Token("text", "", 0)
    token.content = content
    return token


def render_markdown(
    text: str,
    *,
    mention_handles: Collection[str] = (),
    images: Mapping[str, tuple[int, int]] | None = None,
) -> str:
    """Render a user's Markdown to HTML that is safe to put in a page as it is.

    ``mention_handles``: the @handles in the text that belong to members; they become links.
    ``images``: attachment key -> (width, height) of the forum's own images the text shows
    (``![alt](/a/<key>)``); every other image stays a link.
    """
    env = {"mention_handles": {h.lower() for h in mention_handles}, "images": images or {}}
    html = _markdown().render(text or "", env)
    return _cleaner().clean(html)


def safe_html(stored_html: str) -> Markup:
    """Mark HTML that render_markdown produced (and the database stored) as safe for Jinja."""
    return Markup(stored_html)


# Elements after which the words of a plain-text summary are kept apart ("</p><p>" is a space).
_BLOCK_ELEMENTS = frozenset(
    {"p", "br", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th"}
)


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.handle_endtag(tag)

    def handle_endtag(self, tag) -> None:
        if tag in _BLOCK_ELEMENTS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_summary(stored_html: str, *, limit: int = 200) -> str:
    """The words of HTML that render_markdown produced, without its markup, in at most
    ``limit`` characters, cut at a word with an ellipsis: a page's description for search
    engines and link previews (``<meta name="description">``, Open Graph). Plain text, to be
    escaped like any other."""
    reader = _TextOnly()
    reader.feed(stored_html or "")
    reader.close()
    return shorten_text("".join(reader.parts), limit=limit)


def shorten_text(text: str, *, limit: int = 200) -> str:
    """Plain text with its white space collapsed, cut at a word to at most ``limit``
    characters (an ellipsis included)."""
    words = " ".join((text or "").split())
    if len(words) <= limit:
        return words
    cut = words[: limit - 1]
    if " " in cut and not words[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-") + "…"
