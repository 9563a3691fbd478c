"""Guidelines drafted together (issue 18, item 2): documents of sections written by their
editors, versions of the whole text with word-level diffs, and members' suggested edits that
never overwrite a newer text."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import AuditEntry, GuidelineState, GuidelineVersion, Role
from forum.models.guidelines import VersionIsImmutable
from forum.permissions import can
from forum.services import guideline_suggestions as suggestions
from forum.services import guidelines
from forum.services.guidelines import GuidelineProblem, SectionChanged
from tests.factories import make_user


@pytest.fixture
def editor(app):
    return make_user(display_name="Eda Editor", affiliation="ETH Zurich")


@pytest.fixture
def guideline(app, moderator, editor):
    document = guidelines.create_guideline(
        moderator, title="Releasing open models responsibly", editor_emails=[editor.email]
    )
    guidelines.add_section(
        editor,
        document,
        heading="Scope",
        body="These guidelines cover open weights releases.",
        reason="First draft",
    )
    return document


@pytest.fixture
def open_guideline(guideline, editor):
    guidelines.change_state(editor, guideline, to=GuidelineState.OPEN)
    return guideline


def versions(document) -> int:
    return db.session.scalar(
        select(func.count()).where(GuidelineVersion.guideline_id == document.id)
    )


# --- Services ------------------------------------------------------------------------------------


def test_accepting_a_suggestion_makes_exactly_one_new_version(open_guideline, editor, member):
    section = open_guideline.sections[0]
    suggestion = suggestions.suggest_edit(
        member,
        section,
        body="These guidelines cover open weights and open data releases.",
        reason="Data matters too",
        base_version=section.changed_in,
    )
    assert versions(open_guideline) == 1

    number = suggestions.accept_suggestion(editor, suggestion)

    assert number == 2 and versions(open_guideline) == 2
    assert section.body == "These guidelines cover open weights and open data releases."
    assert suggestion.state == "accepted" and suggestion.accepted_in == 2
    entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
    assert entry.action == "guideline.suggestion_accept" and entry.actor_id == editor.id


def test_a_suggestion_against_an_older_version_is_refused_and_nothing_is_overwritten(
    open_guideline, editor, member, other_member
):
    section = open_guideline.sections[0]
    base = section.changed_in
    first = suggestions.suggest_edit(
        member, section, body="Cover weights.", reason="Shorter", base_version=base
    )
    second = suggestions.suggest_edit(
        other_member, section, body="Cover weights and code.", reason="Code", base_version=base
    )
    suggestions.accept_suggestion(editor, first)

    with pytest.raises(SectionChanged, match="changed in version 2, after version 1"):
        suggestions.accept_suggestion(editor, second)
    db.session.rollback()

    assert section.body == "Cover weights." and versions(open_guideline) == 2
    assert second.state == "open"
    with pytest.raises(SectionChanged):  # sending against the old version is refused too
        suggestions.suggest_edit(
            other_member, section, body="Something else.", reason="Late", base_version=base
        )


def test_declining_a_suggestion_keeps_the_text_and_logs_who_declined(
    open_guideline, editor, member
):
    section = open_guideline.sections[0]
    suggestion = suggestions.suggest_edit(
        member, section, body="Nothing.", reason="Cut", base_version=section.changed_in
    )
    suggestions.decline_suggestion(editor, suggestion, note="Too short")

    assert suggestion.state == "declined" and suggestion.decision_note == "Too short"
    assert section.body == "These guidelines cover open weights releases."
    assert versions(open_guideline) == 1
    with pytest.raises(GuidelineProblem, match="already decided"):
        suggestions.accept_suggestion(editor, suggestion)


def test_a_version_never_changes_once_written(guideline):
    version = guidelines.version_of(guideline, 1)
    version.text = "rewritten history"
    with pytest.raises(VersionIsImmutable):
        db.session.flush()
    db.session.rollback()
    assert guidelines.version_of(guideline, 1).text.startswith("## Scope")


def test_diff_between_two_versions_shows_the_changed_words(guideline, editor):
    section = guideline.sections[0]
    guidelines.edit_section(
        editor,
        section,
        heading="Scope",
        body="These guidelines cover open <b>model</b> releases.",
        reason="Wording",
        base_version=1,
    )
    diff = guidelines.diff_versions(guideline, 1, 2)

    assert "<del>weights</del><ins>&lt;b&gt;model&lt;/b&gt;</ins>" in str(diff.html)
    assert diff.deleted == 1 and diff.inserted == 8  # "<", "b", ">", "model", "<", "/", "b", ">"


def test_reordering_sections_is_a_new_version(guideline, editor):
    second = guidelines.add_section(
        editor, guideline, heading="Risks", body="Misuse.", reason="More"
    )
    assert guidelines.move_section(editor, second, up=True)
    db.session.expire_all()
    assert [s.heading for s in guideline.sections] == ["Risks", "Scope"]
    assert guideline.version == 3
    assert guidelines.version_of(guideline, 3).text.startswith("## Risks")


def test_editor_moves_the_document_from_draft_to_open_to_published(guideline, editor):
    guidelines.change_state(editor, guideline, to=GuidelineState.OPEN)
    guidelines.change_state(editor, guideline, to=GuidelineState.PUBLISHED)
    assert guideline.state == "published"
    with pytest.raises(GuidelineProblem):
        guidelines.change_state(editor, guideline, to=GuidelineState.DRAFT)
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.target_type == "guideline")
    ).all()
    assert actions == ["guideline.state", "guideline.release", "guideline.state"]


def test_who_reads_a_guideline_follows_its_state(guideline, editor, member, moderator):
    from flask_login import AnonymousUserMixin

    visitor = AnonymousUserMixin()
    assert can(editor, "view_guideline", guideline) and can(moderator, "view_guideline", guideline)
    assert not can(member, "view_guideline", guideline)
    guidelines.change_state(editor, guideline, to=GuidelineState.OPEN)
    assert can(member, "view_guideline", guideline)
    assert not can(visitor, "view_guideline", guideline)
    guidelines.change_state(editor, guideline, to=GuidelineState.PUBLISHED)
    assert can(visitor, "view_guideline", guideline)
    assert not can(member, "edit_guideline", guideline)


def test_unknown_editor_address_is_refused_at_the_field(moderator):
    with pytest.raises(GuidelineProblem) as problem:
        guidelines.create_guideline(moderator, title="T", editor_emails=["nobody@example.org"])
    assert problem.value.field == "editors" and "nobody@example.org" in problem.value.message


def test_only_moderators_start_guidelines(member):
    assert not can(member, "create_guideline")
    assert can(make_user(role=Role.MODERATOR), "create_guideline")


# --- Pages ---------------------------------------------------------------------------------------


def test_member_suggests_an_edit_and_the_editor_accepts_it_through_the_pages(
    client, open_guideline, editor, member
):
    section = open_guideline.sections[0]
    client.login(member)
    form = client.get(f"/guidelines/{open_guideline.id}/sections/{section.id}/suggest")
    assert form.status_code == 200 and "Current text (version 1)" in form.get_data(as_text=True)

    sent = client.post(
        f"/guidelines/{open_guideline.id}/sections/{section.id}/suggest",
        data={"body": "These guidelines cover open weights and data.", "reason": "Data",
              "base_version": "1"},
    )  # fmt: skip
    assert sent.status_code == 302
    client.logout()
    client.login(editor)
    page = client.get(f"/guidelines/{open_guideline.id}").get_data(as_text=True)
    assert "<del>releases</del><ins>and data</ins>" in page
    suggestion = suggestions.open_suggestions(open_guideline)[0]

    accepted = client.post(f"/guidelines/{open_guideline.id}/suggestions/{suggestion.id}/accept")
    assert accepted.status_code == 302 and accepted.location.endswith("diff?old=1&new=2")
    diff = client.get(accepted.location).get_data(as_text=True)
    assert "<del>releases</del><ins>and data</ins>" in diff
    assert "Changes from version 1 to 2" in diff
    versions_page = client.get(f"/guidelines/{open_guideline.id}/versions").get_data(as_text=True)
    assert "Suggested by Maya Member: Data" in versions_page


def test_a_stale_suggestion_is_refused_with_its_text_kept(client, open_guideline, editor, member):
    section = open_guideline.sections[0]
    guidelines.edit_section(
        editor, section, heading="Scope", body="Changed meanwhile.", reason="Edit",
        base_version=1,
    )  # fmt: skip
    client.login(member)
    sent = client.post(
        f"/guidelines/{open_guideline.id}/sections/{section.id}/suggest",
        data={"body": "My careful rewording.", "reason": "Clarity", "base_version": "1"},
    )
    page = sent.get_data(as_text=True)
    assert sent.status_code == 409
    assert "This section changed in version 2, after version 1" in page
    assert "My careful rewording." in page
    assert section.body == "Changed meanwhile."


def test_a_draft_is_a_missing_page_for_members_and_visitors(client, guideline, member):
    assert client.get(f"/guidelines/{guideline.id}").status_code == 404
    assert client.get(f"/guidelines/{guideline.id}/versions/1").status_code == 404
    client.login(member)
    assert client.get(f"/guidelines/{guideline.id}").status_code == 404
    assert client.get(f"/guidelines/{guideline.id}/diff?old=0&new=1").status_code == 404
    assert "Releasing open models" not in client.get("/guidelines").get_data(as_text=True)


def test_a_published_guideline_and_its_versions_are_public(client, guideline, editor):
    guidelines.change_state(editor, guideline, to=GuidelineState.OPEN)
    guidelines.change_state(editor, guideline, to=GuidelineState.PUBLISHED)
    assert "Releasing open models" in client.get("/guidelines").get_data(as_text=True)
    version = client.get(f"/guidelines/{guideline.id}/versions/1").get_data(as_text=True)
    assert "These guidelines cover open weights releases." in version
    assert client.get(f"/guidelines/{guideline.id}/diff?old=1&new=99").status_code == 404
    assert client.get(f"/guidelines/{guideline.id}/diff?old=1&new=" + "9" * 60).status_code == 404


def test_moderator_starts_a_guideline_and_an_unknown_editor_is_shown_at_the_field(
    client, moderator, editor
):
    client.login(moderator)
    refused = client.post(
        "/guidelines/new", data={"title": "Red-teaming", "editors": "ghost@example.org"}
    )
    assert refused.status_code == 400
    assert "No member has the address ghost@example.org" in refused.get_data(as_text=True)
    made = client.post("/guidelines/new", data={"title": "Red-teaming", "editors": editor.email})
    assert made.status_code == 302
    assert "Red-teaming" in client.get(made.location).get_data(as_text=True)


def test_a_member_who_is_not_an_editor_cannot_add_sections(client, open_guideline, member):
    client.login(member)
    refused = client.post(
        f"/guidelines/{open_guideline.id}/sections",
        data={"heading": "Mine", "body": "Text", "reason": "Because"},
    )
    assert refused.status_code == 403 and "Only this guideline" in refused.get_data(as_text=True)
    assert len(open_guideline.sections) == 1


def test_the_guideline_list_and_the_document_check_agree_for_every_reader_and_state(
    app, moderator, editor, member
):
    from flask_login import AnonymousUserMixin

    from forum.models import Guideline, UserState
    from forum.permissions import readable_guidelines

    suspended_editor = make_user(display_name="Sam Suspended")
    suspended_moderator = make_user(role=Role.MODERATOR)
    documents = [
        Guideline(title=f"{state} {n}", state=state, editors=[editors])
        for state in ("draft", "open", "published")
        for n, editors in enumerate([editor, suspended_editor])
    ]
    db.session.add_all(documents)
    suspended_editor.state = suspended_moderator.state = UserState.SUSPENDED
    db.session.commit()
    readers = [AnonymousUserMixin(), member, editor, suspended_editor, moderator,
               suspended_moderator]  # fmt: skip
    for reader in readers:
        listed = set(db.session.scalars(select(Guideline.id).where(readable_guidelines(reader))))
        checked = {d.id for d in documents if can(reader, "view_guideline", d)}
        assert listed == checked, reader
    assert len({d.id for d in documents if can(member, "view_guideline", d)}) == 4


def test_the_public_log_says_who_decided_without_naming_a_draft(
    client, open_guideline, editor, member, moderator
):
    section = open_guideline.sections[0]
    made = suggestions.suggest_edit(
        member, section, body="Shorter.", reason="Brevity", base_version=section.changed_in
    )
    suggestions.decline_suggestion(editor, made, note="Keep it")
    page = client.get("/moderation/log").get_data(as_text=True)
    assert "A member declined a suggested edit to a guideline." in page
    assert "A member moved a guideline to a new state." in page
    assert "Releasing open models" not in page and "Keep it" not in page


def test_the_proposer_sees_how_their_suggestion_was_decided(client, open_guideline, editor, member):
    section = open_guideline.sections[0]
    made = suggestions.suggest_edit(
        member, section, body="Shorter.", reason="Brevity", base_version=section.changed_in
    )
    client.login(member)
    assert "waiting for the editors" in client.get(f"/guidelines/{open_guideline.id}").text
    suggestions.decline_suggestion(editor, made, note="We keep the full scope")
    page = client.get(f"/guidelines/{open_guideline.id}").get_data(as_text=True)
    assert "declined:" in page and "We keep the full scope" in page


def test_huge_or_hostile_input_is_a_message_at_the_field_not_an_error(
    client, open_guideline, member
):
    section = open_guideline.sections[0]
    client.login(member)
    address = f"/guidelines/{open_guideline.id}/sections/{section.id}/suggest"
    huge = client.post(
        address, data={"body": "x" * 50_000, "reason": "r" * 50_000, "base_version": "9" * 60}
    )
    assert huge.status_code == 400
    assert "Keep a section under 20000 characters." in huge.get_data(as_text=True)
    assert "Keep it under 500 characters." in huge.get_data(as_text=True)
    nul = client.post(address, data={"body": "a\x00b", "reason": "why", "base_version": "1"})
    assert nul.status_code == 400  # forum/input_checks.py refuses control characters first
    assert suggestions.open_suggestions(open_guideline) == []
    assert client.get(f"/guidelines/{open_guideline.id}/versions/" + "9" * 40).status_code == 404
