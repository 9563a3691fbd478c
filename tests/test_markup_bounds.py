"""Bounded rendering (issue 13): a body holding more markup than a post may is refused."""

from html.parser import HTMLParser

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from forum.extensions import db
from forum.markup import (
    MAX_ELEMENTS,
    MAX_ESCAPED_CHARACTERS,
    MAX_LINKS,
    MAX_MARKS,
    MAX_NESTING_DEPTH,
    MAX_TABLE_ROWS,
    Bound,
    check_bounds,
    render_markdown,
)
from forum.models import Post, Topic
from forum.services import posting


def table(rows: int) -> str:
    """A two-column table of ``rows`` rows, its header row included."""
    return "|a|b|\n|-|-|\n" + "|x|y|\n" * (rows - 1)


# (bound, a body holding n of it, n at the limit, what the member is told when over)
BODIES = [
    (
        Bound.ELEMENTS,
        lambda n: "a\n\n" * n,
        MAX_ELEMENTS,
        f"Too much formatting: a post may have at most {MAX_ELEMENTS:,} paragraphs, list items, "
        f"table cells, links and other formatted pieces (this one has {MAX_ELEMENTS + 1:,}).",
    ),
    (
        Bound.TABLE_ROWS,
        table,
        MAX_TABLE_ROWS,
        f"Tables may have at most {MAX_TABLE_ROWS:,} rows in one post "
        f"(these have {MAX_TABLE_ROWS + 1:,}).",
    ),
    (
        Bound.LINKS,
        lambda n: "[a](https://example.org) " * n,
        MAX_LINKS,
        f"A post may hold at most {MAX_LINKS:,} links, counting bare addresses and @mentions "
        f"(this one has {MAX_LINKS + 1:,}).",
    ),
    (
        Bound.NESTING_DEPTH,
        lambda n: "> " * n + "deep",
        MAX_NESTING_DEPTH,
        f"Lists and quotes may be nested at most {MAX_NESTING_DEPTH:,} levels deep "
        f"(these go {MAX_NESTING_DEPTH + 1:,} deep).",
    ),
    (
        Bound.MARKS,
        lambda n: "*a " * n,
        MAX_MARKS,
        f"A post may use at most {MAX_MARKS:,} formatting marks (* _ ~ ` [ ] \\) outside code "
        f"blocks (this one has {MAX_MARKS + 1:,}).",
    ),
    (
        Bound.ESCAPED_CHARACTERS,
        lambda n: "x <" * n,
        MAX_ESCAPED_CHARACTERS,
        f'A post may hold at most {MAX_ESCAPED_CHARACTERS:,} of the characters < > & " '
        f"(this one has {MAX_ESCAPED_CHARACTERS + 1:,}).",
    ),
]
IDS = [bound.value for bound, *_ in BODIES]


@pytest.mark.parametrize(("bound", "body", "limit", "message"), BODIES, ids=IDS)
def test_each_body_at_its_limit_is_within_bounds_and_one_more_is_not(bound, body, limit, message):
    assert check_bounds(body(limit)) == []
    assert [(e.bound, e.limit, e.found) for e in check_bounds(body(limit + 1))] == [
        (bound, limit, limit + 1)
    ]


@pytest.mark.parametrize(("bound", "body", "limit", "message"), BODIES, ids=IDS)
def test_member_whose_topic_holds_too_much_is_told_at_the_body_and_keeps_what_they_typed(
    client, member, bound, body, limit, message
):
    client.login(member)
    text = body(limit + 1)
    response = client.post(
        "/c/safety/new", data={"title": "A heavy post", "body": text, "kind": "discussion"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'class="field-message" id="body-error">{escape(message)}' in page
    assert f"{escape(text)}</textarea>" in page
    assert db.session.scalar(select(func.count()).select_from(Topic)) == 0


@pytest.mark.parametrize(("bound", "body", "limit", "message"), BODIES, ids=IDS)
def test_member_whose_topic_is_at_the_limit_posts_it(client, member, bound, body, limit, message):
    client.login(member)
    response = client.post(
        "/c/safety/new", data={"title": "A heavy post", "body": body(limit), "kind": "discussion"}
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Topic)).title == "A heavy post"


def test_member_whose_reply_has_too_many_links_is_told_and_sees_no_preview(client, member, topic):
    client.login(member)
    text = "https://example.org/paper " * (MAX_LINKS + 1)
    for extra in ({}, {"preview": "1"}):
        response = client.post(f"/t/{topic.id}/reply", data={"body": text, **extra})
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert f"at most {MAX_LINKS:,} links" in page
        assert '<a href="https://example.org/paper"' not in page  # not rendered as a preview
    assert db.session.scalar(select(func.count()).select_from(Post)) == 1


def test_posting_service_refuses_a_body_over_a_bound(member, topic):
    with pytest.raises(posting.ContentError):
        posting.post_reply(member, topic, body=table(MAX_TABLE_ROWS + 1))
    assert db.session.scalar(select(func.count()).select_from(Post)) == 1


def test_marks_inside_code_do_not_count_but_escaped_characters_do():
    code = "```\n" + "a[i] = *p_q;\n" * 400 + "```\n"
    assert check_bounds(code) == []
    assert [e.bound for e in check_bounds("```\n" + "<>" * MAX_ESCAPED_CHARACTERS + "\n```")] == [
        Bound.ESCAPED_CHARACTERS
    ]


class _Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.cells: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        if self.tags and self.tags[-1] in {"td", "th"} and data.strip():
            self.cells.append(data)


def test_a_table_at_the_row_limit_renders_every_row_and_cell():
    rows = ["|name|score|", "|:--|--:|"] + [f"|n{i}|{i}|" for i in range(MAX_TABLE_ROWS - 1)]
    html = render_markdown("\n".join(rows))
    structure = _Structure()
    structure.feed(html)
    assert structure.tags.count("table") == 1
    assert structure.tags.count("thead") == 1 and structure.tags.count("tbody") == 1
    assert structure.tags.count("tr") == MAX_TABLE_ROWS
    assert structure.tags.count("th") == 2
    assert structure.tags.count("td") == 2 * (MAX_TABLE_ROWS - 1)
    assert structure.cells[:4] == ["name", "score", "n0", "0"]
    assert structure.cells[-2:] == [f"n{MAX_TABLE_ROWS - 2}", str(MAX_TABLE_ROWS - 2)]
    assert html.count('<td style="text-align:right;">') == MAX_TABLE_ROWS - 1
    assert html.endswith("</tbody></table>") or html.rstrip().endswith("</table>")
