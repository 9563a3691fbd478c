"""The composer (issue 17): its toolbar on every post body, the live preview the server renders,
and the formatting help page whose examples markup.py itself renders."""

import re

import pytest

from forum.extensions import db
from forum.models import UserState
from tests.factories import make_post, make_user

PREVIEW = "/api/preview"


def _preview(client, body, *, csrf: bool = True):
    headers = {"X-CSRFToken": client.csrf_token()} if csrf else {}
    return client.post(PREVIEW, json={"body": body}, headers=headers, csrf=False)


def test_member_sees_the_sanitised_html_their_text_will_have(client, member, other_member):
    client.login(member)
    response = _preview(client, f"**bold** and @{other_member.handle}\n\n<script>alert(1)</script>")
    assert response.status_code == 200
    html = response.get_json()["html"]
    assert "<strong>bold</strong>" in html
    assert f'<a href="/@{other_member.handle}" class="mention"' in html  # as the post will link
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_preview_without_the_csrf_token_is_refused_as_json(client, member):
    client.login(member)
    response = _preview(client, "**bold**", csrf=False)
    assert response.status_code == 400
    assert "expired" in response.get_json()["error"]


def test_visitor_gets_a_json_refusal_not_a_login_page(client):
    response = _preview(client, "**bold**")
    assert response.status_code == 403
    assert response.get_json()["error"] == "Please log in to take part."


def test_suspended_member_gets_a_json_refusal(client, member):
    member.state = UserState.SUSPENDED
    db.session.commit()
    client.login(member)
    response = _preview(client, "**bold**")
    assert response.status_code == 403
    assert "suspended" in response.get_json()["error"]


def test_a_body_over_the_limit_gets_the_fields_own_message(client, member):
    client.login(member)
    response = _preview(client, "a" * 50_001)
    assert response.status_code == 400
    assert response.get_json()["error"] == "Keep it under 50,000 characters."
    assert _preview(client, "a" * 50_000).status_code == 200


def test_a_body_with_too_much_markup_gets_the_fields_message(client, member):
    client.login(member)
    response = _preview(client, "\n\n".join(["x"] * 600))
    assert response.status_code == 400
    assert "Too much formatting" in response.get_json()["error"]


@pytest.mark.parametrize(
    "sent", [{"body": "a\x00b"}, {"body": 12}, {"text": "x"}, ["body"], None, {"body": "\x01"}]
)
def test_hostile_preview_requests_get_400_json_not_500(client, member, sent):
    client.login(member)
    response = client.post(
        PREVIEW, json=sent, headers={"X-CSRFToken": client.csrf_token()}, csrf=False
    )
    assert response.status_code == 400
    assert response.get_json()["error"]


def test_preview_of_a_huge_number_or_long_line_answers(client, member):
    client.login(member)
    assert _preview(client, "9" * 40_000).status_code == 200


def test_the_toolbar_and_live_preview_come_with_every_post_body(client, member, topic):
    client.login(member)
    post = make_post(topic, author=member)
    for path in (
        "/c/privacy/new",
        f"/t/{topic.id}/reply",
        f"/t/{topic.id}/{topic.slug}",
        f"/p/{post.id}/edit",
        "/reports/new",
    ):
        page = client.get(path).get_data(as_text=True)
        assert 'class="composer-toolbar"' in page, path
        buttons = re.findall(
            r'<button type="button" class="toolbar-button" data-format="(\w+)"', page
        )
        assert buttons == ["bold", "italic", "link", "quote", "code", "list", "table"], path
        assert '<span class="visually-hidden">Bold</span>' in page
        assert 'aria-keyshortcuts="Control+B Meta+B"' in page
        assert 'href="/help/formatting"' in page
        assert 'data-preview-url="/api/preview"' in page
        assert "/static/composer." in page


def test_arabic_toolbar_labels_are_translated(client, member):
    client.login(member)
    client.post("/language", data={"locale": "ar", "next": "/"})
    page = client.get("/c/privacy/new").get_data(as_text=True)
    assert '<span class="visually-hidden">عريض</span>' in page
    assert "مساعدة التنسيق" in page


def test_the_help_page_shows_each_example_as_markup_py_renders_it(client):
    page = client.get("/help/formatting")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    tables = re.search(r'id="tables".*?</section>', html, re.S).group(0)
    assert "<table>" in tables and "<td" in tables
    assert "| Model | Refusals |" in tables  # the source, as typed
    emphasis = re.search(r'id="emphasis".*?</section>', html, re.S).group(0)
    assert "<strong>Bold</strong>" in emphasis and "<s>struck out</s>" in emphasis
    links = re.search(r'id="links".*?</section>', html, re.S).group(0)
    assert 'href="https://arxiv.org/abs/2307.15043" rel="nofollow ugc noopener"' in links
    assert "<img" not in links  # images become links
    mentions = re.search(r'id="mentions".*?</section>', html, re.S).group(0)
    assert '<a href="/@maya" class="mention"' in mentions and "/@nobody-here" not in mentions
    raw = re.search(r'id="html".*?</section>', html, re.S).group(0)
    assert "<b>" not in raw
    assert "50,000 characters" in html


def test_the_help_page_reads_in_arabic_with_arabic_examples(client):
    client.post("/language", data={"locale": "ar", "next": "/"})
    html = client.get("/help/formatting").get_data(as_text=True)
    assert 'dir="rtl"' in html
    assert "مساعدة التنسيق" in html
    tables = re.search(r'id="tables".*?</section>', html, re.S).group(0)
    assert "<table>" in tables and "النموذج" in tables
    assert "٥٠٬٠٠٠" in html or "50,000" in html


def test_the_shortcut_list_is_on_every_page_and_translated(client):
    page = client.get("/").get_data(as_text=True)
    assert '<dialog class="shortcuts-dialog" id="shortcuts-dialog"' in page
    assert "Next post" in page and "/static/shortcuts." in page
    client.post("/language", data={"locale": "ar", "next": "/"})
    assert "اختصارات لوحة المفاتيح" in client.get("/").get_data(as_text=True)


def test_the_non_script_preview_links_mentions_as_the_post_will(client, member, topic):
    someone = make_user(display_name="Sam Someone")
    client.login(member)
    response = client.post(
        f"/t/{topic.id}/reply", data={"body": f"Ask @{someone.handle}", "preview": "1"}
    )
    assert response.status_code == 200
    preview = re.search(
        r'<section class="preview card".*?</section>', response.get_data(as_text=True), re.S
    )
    assert f'href="/@{someone.handle}"' in preview.group(0)


def test_the_admin_page_editor_gets_the_toolbar_but_no_post_sized_live_preview(client, admin):
    client.login(admin)
    page = client.get("/admin/pages/about").get_data(as_text=True)
    assert 'data-format="table"' in page
    assert "live-preview" not in page and "data-preview-url" not in page


def test_the_preview_is_exactly_the_html_the_posted_reply_gets(client, member, other_member, topic):
    from forum.models import Post

    table = "| a | b |\n| --- | ---: |\n| `x` | [y](https://example.org) |"
    body = f"{table}\n\nHi @{other_member.handle}"
    client.login(member)
    previewed = _preview(client, body).get_json()["html"]
    assert client.post(f"/t/{topic.id}/reply", data={"body": body}).status_code == 302
    posted = db.session.query(Post).filter_by(body=body).one()
    assert previewed == posted.body_html
