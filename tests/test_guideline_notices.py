"""A member who suggested an edit to a guideline is told when an editor decides on it (issue 18):
a notification that opens the guideline, and an email with the editor's note."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import GuidelineState, Notification, NotificationKind
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


def test_an_editor_deciding_on_their_own_suggestion_is_not_told(
    app, document, editor, mail_server
):
    suggestions.accept_suggestion(editor, suggest(document, editor))
    assert notices(editor) == []
    assert mail_server.messages == []


def test_another_member_cannot_open_the_notice(app, client, document, editor, member):
    suggestions.accept_suggestion(editor, suggest(document, member))
    (notice,) = notices(member)
    client.login(make_user())
    assert client.get(f"/notifications/{notice.id}").status_code == 404
