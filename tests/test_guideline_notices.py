"""A member who suggested an edit to a guideline is told when an editor decides on it (issue 18):
a notification that opens the guideline, and an email with the editor's note."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import (
    Guideline,
    GuidelineState,
    GuidelineSuggestion,
    Notification,
    NotificationKind,
)
from forum.services import guideline_suggestions as suggestions
from forum.services import guidelines
from tests.factories import make_user


@pytest.fixture
def editor(app):
    return make_user(display_name="Eda Editor")


@pytest.fixture
def document(app, moderator, editor):
    document = guidelines.create_guideline(
        moderator, title="Releasing open models responsibly", editor_emails=[editor.email]
    )
    guidelines.add_section(
        editor, document, heading="Scope", body="Open weights releases.", reason="First draft"
    )
    guidelines.change_state(editor, document, to=GuidelineState.OPEN)
    return document


def suggest(document, member, body="Open weights and open data releases."):
    section = document.sections[0]
    return suggestions.suggest_edit(
        member, section, body=body, reason="Data too", base_version=section.changed_in
    )


def notices(user) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(
                Notification.user_id == user.id,
                Notification.kind == NotificationKind.SUGGESTION_DECIDED,
            )
        )
    )


def test_accepting_tells_the_member_once_and_the_notice_opens_the_guideline(
    app, client, document, editor, member, mail_server
):
    suggestions.accept_suggestion(editor, suggest(document, member))

    (notice,) = notices(member)
    assert notices(editor) == []
    (message,) = mail_server.wait_for(1)
    assert message["To"] == member.email
    assert "accepted" in str(message["Subject"])
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Eda Editor accepted your suggested edit" in text and "version 2" in text
    assert f"/guidelines/{document.id}" in text

    client.login(member)
    page = client.get("/notifications").get_data(as_text=True)
    assert "Eda Editor accepted your suggested edit to “Releasing open models responsibly”" in page
    opened = client.get(f"/notifications/{notice.id}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(
        f"/guidelines/{document.id}"
    )


def test_declining_tells_the_member_with_the_editors_note(
    app, client, document, editor, member, mail_server
):
    suggestions.decline_suggestion(
        editor, suggest(document, member), note="Out of scope for v1; see section 4."
    )

    assert len(notices(member)) == 1
    (message,) = mail_server.wait_for(1)
    assert "declined" in str(message["Subject"])
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Out of scope for v1; see section 4." in text
    client.login(member)
    page = client.get("/notifications").get_data(as_text=True)
    assert "Eda Editor declined your suggested edit" in page


def test_no_email_when_the_member_turned_immediate_emails_off_but_the_notice_stays(
    app, document, editor, member, mail_server
):
    member.email_immediate = False
    db.session.commit()
    suggestions.accept_suggestion(editor, suggest(document, member))
    assert len(notices(member)) == 1
    assert mail_server.messages == []


def test_an_editor_deciding_on_their_own_suggestion_is_not_told(app, document, editor, mail_server):
    suggestions.accept_suggestion(editor, suggest(document, editor))
    assert notices(editor) == []
    assert mail_server.messages == []


def test_another_member_cannot_open_the_notice(app, client, document, editor, member):
    suggestions.accept_suggestion(editor, suggest(document, member))
    (notice,) = notices(member)
    client.login(make_user())
    assert client.get(f"/notifications/{notice.id}").status_code == 404


# --- A guideline form sent twice (the Back button, a double click) ------------------------------

_TOKEN = re.compile(r'name="form_token"[^>]*value="([^"]+)"')


def token_of(response) -> str:
    return _TOKEN.search(response.get_data(as_text=True)).group(1)


def test_a_new_guideline_form_sent_twice_makes_one_and_lands_on_it(client, moderator, editor):
    client.login(moderator)
    data = {"title": "Red-teaming", "editors": editor.email}
    data["form_token"] = token_of(client.get("/guidelines/new"))
    first = client.post("/guidelines/new", data=data)
    again = client.post("/guidelines/new", data=data)
    assert first.status_code == again.status_code == 302
    assert again.location == first.location and "/guidelines/" in again.location
    assert db.session.scalar(select(func.count()).select_from(Guideline)) == 1
    assert "Nothing was posted twice" in client.get(again.location).get_data(as_text=True)


def test_a_suggestion_sent_twice_is_one_suggestion_and_lands_on_its_guideline(
    client, document, member
):
    section = document.sections[0]
    client.login(member)
    form = client.get(f"/guidelines/{document.id}/sections/{section.id}/suggest")
    data = {
        "body": "My careful rewording.",
        "reason": "Clarity",
        "base_version": str(section.changed_in),
        "form_token": token_of(form),
    }
    url = f"/guidelines/{document.id}/sections/{section.id}/suggest"
    client.post(url, data=data)
    again = client.post(url, data=data)
    assert again.status_code == 302 and again.location.endswith(f"/guidelines/{document.id}")
    count = select(func.count()).select_from(GuidelineSuggestion)
    assert db.session.scalar(count) == 1
