"""Guideline releases (issue 18, item 2): publishing makes v1.0, v1.1 ... that never change, at a
stable address, with a changelog of accepted suggestions, citations in BibTeX (parsed here with
bibtexparser), CSL-JSON and plain text, and members' endorsements counted by institution."""

from __future__ import annotations

import json

import bibtexparser
import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import AuditEntry, GuidelineState
from forum.models.guidelines import VersionIsImmutable
from forum.services import guideline_releases as releases
from forum.services import guideline_suggestions as suggestions
from forum.services import guidelines, institutions
from forum.services.guidelines import GuidelineProblem
from tests.factories import make_user


@pytest.fixture
def editor(app):
    return make_user(display_name="Eda Editor")


@pytest.fixture
def document(app, moderator, editor):
    made = guidelines.create_guideline(
        moderator, title="Open models: risks & {mitigations} 100%", editor_emails=[editor.email]
    )
    guidelines.add_section(
        editor, made, heading="Scope", body="Open weights releases.", reason="First draft"
    )
    guidelines.change_state(editor, made, to=GuidelineState.OPEN)
    return made


def accept(document, editor, member, body, reason):
    section = document.sections[0]
    db.session.refresh(section)
    made = suggestions.suggest_edit(
        member, section, body=body, reason=reason, base_version=section.changed_in
    )
    return suggestions.accept_suggestion(editor, made)


def test_publishing_makes_v1_0_then_v1_1_each_with_the_changes_accepted_since(
    document, editor, member
):
    accept(document, editor, member, "Open weights and data releases.", "Data too")
    guidelines.change_state(editor, document, to=GuidelineState.PUBLISHED)
    first = releases.latest_release(document)
    assert first.label == "1.0" and first.version_number == 2
    assert [c["reason"] for c in releases.changelog(first)] == ["Data too"]

    guidelines.change_state(editor, document, to=GuidelineState.OPEN)
    accept(document, editor, member, "Open weights, code and data releases.", "Code too")
    guidelines.change_state(editor, document, to=GuidelineState.PUBLISHED)
    second = releases.latest_release(document)

    assert second.label == "1.1"
    assert [c["reason"] for c in releases.changelog(second)] == ["Code too"]
    assert "Open weights and data releases." in first.text  # v1.0 kept as it was published
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("guideline.release") == 2


def test_a_published_release_never_changes(document, editor):
    guidelines.change_state(editor, document, to=GuidelineState.PUBLISHED)
    release = releases.latest_release(document)
    release.text = "history rewritten"
    with pytest.raises(VersionIsImmutable):
        db.session.flush()
    db.session.rollback()
    assert releases.latest_release(document).text == "## Scope\n\nOpen weights releases."
    guidelines.change_state(editor, document, to=GuidelineState.OPEN)
    with pytest.raises(GuidelineProblem, match="Nothing changed since release v1.0"):
        guidelines.change_state(editor, document, to=GuidelineState.PUBLISHED)


def test_the_release_page_and_its_citations(client, document, editor):
    guidelines.change_state(editor, document, to=GuidelineState.PUBLISHED)
    guidelines.change_state(editor, document, to=GuidelineState.OPEN)
    guidelines.change_state(editor, document, to=GuidelineState.DRAFT)  # stable address anyway
    base = f"/guidelines/{document.id}/v1.0"

    page = client.get(base)
    assert page.status_code == 200 and "Open weights releases." in page.get_data(as_text=True)
    bib = client.get(base + "/cite.bib")
    library = bibtexparser.parse_string(bib.get_data(as_text=True))
    assert not library.failed_blocks
    (entry,) = library.entries
    assert entry.entry_type == "misc"
    assert entry["title"] == r"{Open models: risks \& \{mitigations\} 100\%}"
    assert entry["author"] == "{Eda Editor}" and entry["version"] == "1.0"
    assert entry["url"].endswith(base)
    (item,) = json.loads(client.get(base + "/cite.json").get_data(as_text=True))
    assert item["title"] == "Open models: risks & {mitigations} 100%"
    assert item["version"] == "1.0" and item["author"] == [{"literal": "Eda Editor"}]
    text = client.get(base + "/cite.txt").get_data(as_text=True)
    assert text.startswith("Eda Editor (") and "(version 1.0)" in text
    assert client.get(f"/guidelines/{document.id}/v1.1").status_code == 404
    assert client.get(f"/guidelines/{document.id}/v1.99999").status_code == 404


def test_endorsements_are_counted_by_member_and_institution(client, document, editor):
    guidelines.change_state(editor, document, to=GuidelineState.PUBLISHED)
    release = releases.latest_release(document)
    endorsers = [make_user(display_name=f"E{n}") for n in range(3)]
    places = ["Cairo University", "Cairo University", "ETH Zurich"]
    for person, place in zip(endorsers, places, strict=True):
        institutions.link_user(person, place)
    db.session.commit()
    for person in endorsers:
        releases.endorse(person, release)
    releases.endorse(endorsers[0], release)  # again: still one

    counted = releases.endorsements(release)
    assert (counted.members, counted.institutions) == (3, 2)
    client.login(endorsers[2])
    page = client.get(f"/guidelines/{document.id}/v1.0").get_data(as_text=True)
    assert "Endorsed by 3 members from 2 institutions" in page
    assert "Withdraw my endorsement" in page
    client.post(f"/guidelines/{document.id}/v1.0/withdraw")
    assert releases.endorsements(release).members == 2


def test_a_visitor_cannot_endorse(client, document, editor):
    guidelines.change_state(editor, document, to=GuidelineState.PUBLISHED)
    response = client.post(f"/guidelines/{document.id}/v1.0/endorse")
    assert response.status_code == 302 and "/login" in response.location
