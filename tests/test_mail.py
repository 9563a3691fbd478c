"""Email: what arrives at a real SMTP server, in English and Arabic, and what happens when the
server is down."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest

from forum.mail import MailError, build_message, external_url, send_email, send_message

ARABIC_SUBJECT = "مرحبًا بك في المنتدى"
ARABIC_SITE_NAME = "منتدى خصوصية النماذج اللغوية الكبيرة وسلامتها وأمنها"


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML bodies, decoded."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_member_gets_a_plain_text_and_html_version(app, mail_server):
    link = external_url("discussions.home")
    send_email(
        to="maya@example.org", subject="Welcome", template="test_message", name="Maya", link=link
    )

    [message] = mail_server.wait_for(1)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["To"] == "maya@example.org"
    assert message["Subject"] == "Welcome"
    assert message["Content-Language"] == "en"
    assert mail_server.deliveries[0].recipients == ["maya@example.org"]
    text, html = parts(message)
    assert "Hello Maya" in text and link in text
    assert "Hello Maya" in html and f'href="{link}"' in html
    assert 'lang="en" dir="ltr"' in html
    assert "LLM Privacy, Safety &amp; Security Forum" in html


def test_arabic_reader_gets_an_arabic_subject_and_right_to_left_text(app, mail_server):
    send_email(
        to="mariam@example.org",
        subject=ARABIC_SUBJECT,
        template="test_message",
        locale="ar",
        name="مريم",
        link=external_url("discussions.home"),
    )

    [message] = mail_server.wait_for(1)
    assert message["Subject"] == ARABIC_SUBJECT
    assert message["Content-Language"] == "ar"
    text, html = parts(message)
    assert "مريم" in text
    assert ARABIC_SITE_NAME in text  # the footer was rendered in Arabic
    assert 'lang="ar" dir="rtl"' in html
    assert ARABIC_SITE_NAME in html
    # Encoded for any relay: no raw 8-bit bytes on the wire.
    assert mail_server.deliveries[0].content.isascii()


def test_operator_named_site_appears_in_the_footer(app, mail_server):
    app.config["FORUM_SITE_NAME"] = "Safety Reading Group"
    send_email(to="a@example.org", subject="Hi", template="test_message", name="A", link="x")

    text, html = parts(mail_server.wait_for(1)[0])
    assert "Safety Reading Group" in text and "Safety Reading Group" in html


def test_mail_comes_from_the_configured_sender(app, mail_server):
    app.config["FORUM_MAIL_SENDER"] = "Forum <noreply@forum.example>"
    message_id = send_email(
        to="maya@example.org", subject="Hi", template="test_message", name="Maya", link="x"
    )

    [message] = mail_server.wait_for(1)
    assert message["From"] == "Forum <noreply@forum.example>"
    assert mail_server.deliveries[0].sender == "noreply@forum.example"
    assert message["Message-ID"] == message_id
    assert message_id.endswith("@forum.example>")
    assert parsedate_to_datetime(message["Date"]).utcoffset().total_seconds() == 0


def test_a_given_message_id_and_extra_headers_are_kept(app, mail_server):
    message = build_message(
        to="maya@example.org",
        subject="Re: Evaluating refusal robustness",
        template="test_message",
        message_id="<topic-7@forum.example>",
        headers={"In-Reply-To": "<topic-7@forum.example>", "Auto-Submitted": "auto-generated"},
        name="Maya",
        link="x",
    )
    send_message(message)

    [received] = mail_server.wait_for(1)
    assert received["Message-ID"] == "<topic-7@forum.example>"
    assert received["In-Reply-To"] == "<topic-7@forum.example>"
    assert received["Auto-Submitted"] == "auto-generated"


def test_operator_sees_a_mail_error_when_the_server_is_down(app, mail_server):
    mail_server.stop()

    with pytest.raises(MailError, match=str(mail_server.port)):
        send_email(to="maya@example.org", subject="Hi", template="test_message", name="M", link="")


def test_operator_sees_a_mail_error_when_the_server_refuses_the_recipient(app, mail_server):
    mail_server.refused.add("gone@example.org")

    with pytest.raises(MailError):
        send_email(to="gone@example.org", subject="Hi", template="test_message", name="M", link="")
    assert mail_server.messages == []


def test_links_in_mail_point_to_the_public_address_outside_a_request(app):
    app.config["FORUM_BASE_URL"] = "https://forum.example"

    assert external_url("discussions.home") == "https://forum.example/"
    assert (
        external_url("discussions.topic", topic_id=7, slug="refusals", page=None, _anchor="post-3")
        == "https://forum.example/t/7/refusals#post-3"
    )


def test_links_in_mail_point_to_the_public_address_even_during_a_request(app):
    base = app.config["FORUM_BASE_URL"]

    with app.test_request_context("/", base_url="http://internal-host:8080/"):
        assert external_url("discussions.home") == base + "/"


def test_links_in_mail_keep_the_path_the_forum_is_served_under(app):
    app.config["FORUM_BASE_URL"] = "https://example.org/forum"

    assert external_url("discussions.home") == "https://example.org/forum/"
