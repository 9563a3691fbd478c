"""An agenda item's path from question to result (issue 18, item 4): the timeline on its page,
what each reader may see of it, and marking an item "addressed" by what addressed it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import (
    AddressedByKind,
    AgendaAddressedBy,
    AgendaStatus,
    AgendaStatusChange,
    AuditEntry,
    GuidelineState,
    PaperStatus,
)
from forum.models.types import utcnow
from forum.services import agenda, agenda_path, guidelines, papers, voting, workshop_sessions
from forum.services.agenda_path import EntryKind
from forum.services.papers import PaperDetails
from tests.factories import close_round, make_agenda_item, make_round, make_user, make_workshop

SECRET_PAPER = "Unsubmitted paper on jailbreak transfer"
DRAFT_HEADING = "Draft section on disclosure windows"
DRAFT_GUIDELINE = "Draft guideline nobody may read yet"


def _guideline(moderator, *, title: str, heading: str, item, publish: bool):
    document = guidelines.create_guideline(moderator, title=title, editor_emails=[moderator.email])
    section = guidelines.add_section(
        moderator, document, heading=heading, body="Release weights in stages.", reason="First"
    )
    guidelines.edit_section(
        moderator,
        section,
        heading=heading,
        body=section.body,
        reason="",
        base_version=section.changed_in,
        agenda_item_refs=[f"/agenda/{item.id}"],
    )
    if publish:
        guidelines.change_state(moderator, document, to=GuidelineState.OPEN)
        guidelines.change_state(moderator, document, to=GuidelineState.PUBLISHED)
    return document, section


@pytest.fixture
def path(app, member, other_member, moderator):
    """An item that was on a closed round (tied first), taken up by a workshop session, addressed
    by a submitted paper and a published guideline's section; and linked to things most readers
    may not see: an unsubmitted paper of another member and a section of a draft guideline."""
    item = make_agenda_item(member, title="Can we detect training-data extraction?")
    week_ago = utcnow() - timedelta(days=7)  # proposed before the round (as a real item is)
    item.topic.created_at = item.created_at = week_ago
    for change in db.session.scalars(select(AgendaStatusChange)):
        change.created_at = week_ago
    db.session.commit()
    other = make_agenda_item(member)
    round_ = make_round(moderator, [item, other], method="budget", title="Spring priorities")
    voting.cast_ballot(make_user(), round_, entries={item.id: 3})
    voting.cast_ballot(make_user(), round_, entries={other.id: 3})
    round_ = close_round(round_)
    agenda.change_status(moderator, item, AgendaStatus.PRIORITISED, note="Top of the round.")
    workshop = make_workshop(moderator, title="Extraction workshop")
    session = workshop_sessions.add_session(
        moderator,
        workshop,
        workshop_sessions.SessionDraft(
            title="Extraction attacks in practice",
            starts_at=workshop.starts_at,
            ends_at=workshop.starts_at + timedelta(hours=1),
            agenda_item_refs=[str(item.id)],
        ),
    )
    paper = papers.create_paper(
        member,
        PaperDetails(
            title="Measuring extraction", status=PaperStatus.SUBMITTED, agenda_item_ids=[item.id]
        ),
    )
    secret = papers.create_paper(
        other_member, PaperDetails(title=SECRET_PAPER, agenda_item_ids=[item.id])
    )
    published, section = _guideline(
        moderator, title="Responsible release", heading="Staged release", item=item, publish=True
    )
    draft, draft_section = _guideline(
        moderator, title=DRAFT_GUIDELINE, heading=DRAFT_HEADING, item=item, publish=False
    )
    return {
        "item": item,
        "round": round_,
        "session": session,
        "paper": paper,
        "secret": secret,
        "section": section,
        "draft_section": draft_section,
        "guideline": published,
    }


def test_member_sees_the_items_path_in_time_order(path, member):
    entries = agenda_path.timeline(member, path["item"])
    kinds = [e.kind for e in entries]
    assert kinds[0] == EntryKind.DISCUSSION
    assert [e.when for e in entries] == sorted(e.when for e in entries)
    rounds = [e.round for e in entries if e.kind == EntryKind.ROUND]
    assert [(r.round.title, r.rank_text) for r in rounds] == [("Spring priorities", "=1")]
    shown = {(e.kind, e.target.title) for e in entries if e.target is not None}
    assert shown == {
        (EntryKind.SESSION, "Extraction attacks in practice"),
        (EntryKind.PAPER, "Measuring extraction"),
        (EntryKind.SECTION, "Staged release"),
    }
    statuses = [e.change.to_status for e in entries if e.kind == EntryKind.STATUS]
    assert statuses == [AgendaStatus.PROPOSED, AgendaStatus.ON_BALLOT, AgendaStatus.PRIORITISED]
    # The session lies a month ahead: it comes after everything that happened today.
    assert kinds[-1] == EntryKind.SESSION


def test_nothing_a_reader_may_not_see_is_on_the_timeline(path, member, moderator):
    def titles(viewer) -> set[str]:
        return {e.target.title for e in agenda_path.timeline(viewer, path["item"]) if e.target}

    everything = titles(moderator)
    assert {SECRET_PAPER, DRAFT_HEADING} <= everything
    assert SECRET_PAPER not in titles(member) and DRAFT_HEADING not in titles(member)
    visitor = titles(None)
    assert visitor == {"Extraction attacks in practice", "Staged release"}  # papers: members'


def test_visitor_and_member_pages_do_not_leak_hidden_titles(client, path, member, moderator):
    url = f"/agenda/{path['item'].id}"
    page = client.get(url).get_data(as_text=True)
    assert "Staged release" in page and "Extraction attacks in practice" in page
    for hidden in (SECRET_PAPER, DRAFT_HEADING, DRAFT_GUIDELINE, "Measuring extraction"):
        assert hidden not in page
    client.login(member)
    page = client.get(url).get_data(as_text=True)
    assert "Measuring extraction" in page and "=1" in page
    for hidden in (SECRET_PAPER, DRAFT_HEADING, DRAFT_GUIDELINE):
        assert hidden not in page
    assert re.search(r"<ol class=\"path-timeline\">.*<time", page, re.S)


def test_addressed_without_a_choice_is_refused_and_keeps_the_note(client, path, moderator):
    item = path["item"]
    client.login(moderator)
    response = client.post(
        f"/agenda/{item.id}/status",
        data={"status": "addressed", "note": "The workshop settled it, mostly."},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose what addressed it" in page
    assert "The workshop settled it, mostly." in page
    db.session.refresh(item)
    assert item.status == AgendaStatus.PRIORITISED


def test_moderator_marks_an_item_addressed_by_a_session_and_a_paper(
    client, path, member, moderator
):
    item = path["item"]
    session, paper = path["session"], path["paper"]
    client.login(moderator)
    form = client.get(f"/agenda/{item.id}").get_data(as_text=True)
    assert f'value="section:{path["draft_section"].id}"' in form  # moderators see drafts
    response = client.post(
        f"/agenda/{item.id}/status",
        data={
            "status": "addressed",
            "note": "Done.",
            "addressed_by": [f"session:{session.id}", f"paper:{paper.id}"],
        },
    )
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.status == AgendaStatus.ADDRESSED
    stored = {(r.kind, r.target_id) for r in db.session.scalars(select(AgendaAddressedBy))}
    assert stored == {(AddressedByKind.SESSION, session.id), (AddressedByKind.PAPER, paper.id)}
    entry = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "agenda.status")
        .order_by(AuditEntry.seq.desc())
    ).first()
    assert entry.public["addressed_by"] == sorted([f"paper:{paper.id}", f"session:{session.id}"])
    client.logout()
    client.login(member)
    page = client.get(f"/agenda/{item.id}").get_data(as_text=True)
    addressed = page[page.index("Addressed by:") :]
    assert "Extraction attacks in practice" in addressed and "Measuring extraction" in addressed
    assert f"/papers/{paper.id}" in addressed


def test_a_visitor_sees_addressed_by_without_the_paper_they_may_not_see(path, moderator):
    item, session, paper = path["item"], path["session"], path["paper"]
    agenda.change_status(
        moderator,
        item,
        AgendaStatus.ADDRESSED,
        note="Done.",
        addressed_by=[f"session:{session.id}", f"paper:{paper.id}"],
    )
    last = agenda_path.timeline(None, item)
    change = next(e for e in last if e.kind == EntryKind.STATUS and e.addressed_by)
    assert [t.title for t in change.addressed_by] == ["Extraction attacks in practice"]


def test_choosing_what_is_not_linked_or_not_visible_is_refused(path, member, moderator):
    item = path["item"]
    unlinked = papers.create_paper(
        member, PaperDetails(title="Unrelated", status=PaperStatus.SUBMITTED)
    )
    for key in (f"paper:{unlinked.id}", "paper:999999999", "workshop:1", "session:x"):
        with pytest.raises(agenda.AgendaError, match="Choose only among"):
            agenda.change_status(
                moderator, item, AgendaStatus.ADDRESSED, note="x", addressed_by=[key]
            )
    db.session.rollback()
    assert db.session.scalars(select(AgendaAddressedBy)).all() == []


def test_a_choice_the_actor_may_not_see_is_refused(app, path, member, moderator):
    """A moderator who may not see a linked thing cannot name it: candidates are drawn through
    the actor's visibility (here a member standing in as the reader of the rule)."""
    item = path["item"]
    member_choices = {t.key for t in agenda_path.addressed_candidates(member, item)}
    assert f"paper:{path['secret'].id}" not in member_choices
    assert f"section:{path['draft_section'].id}" not in member_choices
    assert f"paper:{path['secret'].id}" in {
        t.key for t in agenda_path.addressed_candidates(moderator, item)
    }


def test_addressed_by_form_refuses_a_forged_choice_and_keeps_the_note(client, path, moderator):
    item = path["item"]
    client.login(moderator)
    response = client.post(
        f"/agenda/{item.id}/status",
        data={"status": "addressed", "note": "Forged.", "addressed_by": ["paper:99999999999999"]},
    )
    assert response.status_code == 400
    assert "Choose only among" in response.get_data(as_text=True)
    assert "Forged." in response.get_data(as_text=True)


def test_editor_links_a_section_to_an_agenda_item_on_the_edit_form(client, member, moderator):
    item = make_agenda_item(member)
    document = guidelines.create_guideline(moderator, title="Doc", editor_emails=[moderator.email])
    section = guidelines.add_section(
        moderator, document, heading="Scope", body="Text.", reason="First"
    )
    client.login(moderator)
    url = f"/guidelines/{document.id}/sections/{section.id}/edit"
    base = {
        "heading": "Scope",
        "body": "Text.",
        "reason": "Link it",
        "base_version": section.changed_in,
    }
    refused = client.post(url, data={**base, "agenda_items": "not a number"})
    assert refused.status_code == 400
    assert "Give one agenda item number" in refused.get_data(as_text=True)
    assert client.post(url, data={**base, "agenda_items": f"/agenda/{item.id}"}).status_code == 302
    entries = agenda_path.timeline(moderator, item)
    assert [e.target.title for e in entries if e.kind == EntryKind.SECTION] == ["Scope"]
    assert f"{item.id}" in client.get(url).get_data(as_text=True)


def test_the_round_rank_is_shown_without_a_tie(app, member, moderator):
    item, other = make_agenda_item(member), make_agenda_item(member)
    round_ = make_round(moderator, [item, other], method="budget")
    voting.cast_ballot(make_user(), round_, entries={item.id: 2, other.id: 3})
    close_round(round_)
    open_round = make_round(moderator, [item, other], closes_in=timedelta(days=2))
    entries = agenda_path.timeline(member, item)
    places = {e.round.round.id: e.round.rank_text for e in entries if e.kind == EntryKind.ROUND}
    assert places == {round_.id: "2", open_round.id: None}  # no result yet for the open one
