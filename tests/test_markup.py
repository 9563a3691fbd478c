"""render_markdown: CommonMark, tables, strikethrough, fences and autolinks, always sanitised."""

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forum.markup import render_markdown

ATTACKS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<a href="#" onclick="alert(1)">x</a>',
    '<div onmouseover="alert(1)">hover</div>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](java&#x09;script:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml,<svg onload=alert(1)>)",
    '<iframe src="https://evil.example"></iframe>',
    '<object data="x.swf"></object>',
    "<embed src=x>",
    "<style>body{display:none}</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><script>alert(1)</script></mtext></math>",
    '<form action="https://evil.example"><input name=x></form>',
    "<meta http-equiv=refresh content=0;url=https://evil.example>",
    "<base href=https://evil.example>",
    "<link rel=stylesheet href=https://evil.example/x.css>",
    "[x](vbscript:msgbox(1))",
    '<a href="javascript&colon;alert(1)">x</a>',
    "<<script>script>alert(1)<</script>/script>",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "| a |\n|---|\n| <script>alert(1)</script> |",
    "<details open ontoggle=alert(1)>",
    '[x](https://ok.example "title" onclick=alert(1))',
]

FORBIDDEN_TAGS = {
    "script",
    "iframe",
    "object",
    "embed",
    "style",
    "svg",
    "math",
    "form",
    "input",
    "meta",
    "base",
    "link",
    "img",
    "details",
}
SAFE_SCHEMES = ("http:", "https:", "mailto:")


class _Elements(HTMLParser):
    """Collects the real elements and attributes of some HTML (text that looks like tags is not)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.elements


def assert_safe(html: str) -> None:
    for tag, attrs in elements(html):
        assert tag not in FORBIDDEN_TAGS, f"<{tag}> in {html!r}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"{name}= on <{tag}> in {html!r}"
            assert name != "style" or value.replace(" ", "").startswith("text-align:"), html
            if name in {"href", "src"}:
                # What a browser takes as the scheme (it drops tabs, newlines and spaces first).
                scheme = re.match(r"^([a-z][a-z0-9+.-]*):", "".join(value.split()).lower())
                assert scheme is None or scheme.group(0) in SAFE_SCHEMES, (
                    f"unsafe URL {value!r} in {html!r}"
                )


@pytest.mark.parametrize("attack", ATTACKS)
def test_dangerous_markup_never_survives(attack):
    assert_safe(render_markdown(attack))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "<script>",
                "</script>",
                "<img src=x onerror=alert(1)>",
                "[a](",
                "javascript:",
                "data:text/html,",
                ")",
                "](",
                "<iframe>",
                "**",
                "`",
                "\n",
                "|",
                "-",
                "<",
                ">",
                '"',
                "'",
                "alert(1)",
                " ",
                "<style>",
                "&#x6a;",
                "onload=",
                "<a href=",
                "<svg",
            ]
        ),
        max_size=30,
    ).map("".join)
)
def test_random_mixtures_of_attack_fragments_stay_safe(text):
    assert_safe(render_markdown(text))


def test_commonmark_basics_render():
    html = render_markdown(
        "# Title\n\n**bold** and *italic* and `code`\n\n- one\n- two\n\n> quoted"
    )
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html and "<em>italic</em>" in html
    assert "<code>code</code>" in html
    assert "<li>one</li>" in html
    assert "<blockquote>" in html


def test_tables_strikethrough_and_fenced_code_render():
    html = render_markdown("| a | b |\n|---|--:|\n| 1 | 2 |\n\n~~gone~~\n\n```python\nx = 1\n```")
    assert "<table>" in html and "<td>1</td>" in html
    assert 'style="text-align:right;"' in html
    assert "<s>gone</s>" in html
    assert '<pre><code class="language-python">x = 1' in html


def test_bare_urls_become_links_with_nofollow_ugc_noopener():
    html = render_markdown("See https://arxiv.org/abs/2302.12173 for details")
    assert '<a href="https://arxiv.org/abs/2302.12173" rel="nofollow ugc noopener">' in html


def test_markdown_links_get_rel_and_keep_mailto():
    html = render_markdown("[paper](https://example.org/p) or [write](mailto:a@example.org)")
    assert 'href="https://example.org/p" rel="nofollow ugc noopener"' in html
    assert 'href="mailto:a@example.org"' in html


def test_other_url_schemes_are_dropped():
    html = render_markdown("[ftp](ftp://example.org/x) [file](file:///etc/passwd)")
    assert [attrs["href"] for tag, attrs in elements(html) if "href" in attrs] == []


def test_raw_html_is_shown_as_text_not_markup():
    html = render_markdown("<b>bold?</b>")
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html


def test_images_become_links_so_no_remote_image_loads():
    html = render_markdown("![diagram](https://example.org/d.png)")
    assert "<img" not in html
    assert '<a href="https://example.org/d.png" rel="nofollow ugc noopener">diagram</a>' in html


def test_arabic_text_passes_through_unchanged():
    assert "مرحبا بالعالم" in render_markdown("مرحبا بالعالم")
