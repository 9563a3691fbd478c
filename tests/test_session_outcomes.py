"""A workshop session's notes and what came out of it (issue 18, item 1): its organisers write
them once the session has started; links to guideline sections, papers and agenda status changes
are shown to each reader only as far as they may see what they lead to; bad addresses are refused
at the field with what was typed kept; every save is in the audit log."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import (
    AgendaStatus,
    AuditEntry,
    GuidelineState,
    OutcomeKind,
    PaperStatus,
    WorkshopSessionOutcome,
)
from forum.models.types import utcnow
from forum.services import (
    agenda,
    guidelines,
    papers,
    session_outcomes,
    workshop_organisers,
    workshop_sessions,
)
from forum.services.papers import PaperDetails
from tests.factories import make_agenda_item, make_user, make_workshop
from tests.helpers import field_error

DRAFT_HEADING = "Disclosure windows (draft)"
SECRET_PAPER = "Unsubmitted extraction paper"


def _session(organiser, *, started: bool):
    starts = utcnow() + (timedelta(hours=-2) if started else timedelta(days=3))
    workshop = make_workshop(organiser, title="Extraction workshop", starts_at=starts)
    session = workshop_sessions.add_session(
        organiser,
        workshop,
        workshop_sessions.SessionDraft(
            title="Extraction in practice", starts_at=starts, ends_at=starts + timedelta(hours=1)
        ),
    )
    return workshop, session


def _section(moderator, *, title: str, heading: str, publish: bool):
    document = guidelines.create_guideline(moderator, title=title, editor_emails=[moderator.email])
    section = guidelines.add_section(
        moderator, document, heading=heading, body="Release weights in stages.", reason="First"
    )
    if publish:
        guidelines.change_state(moderator, document, to=GuidelineState.OPEN)
        guidelines.change_state(moderator, document, to=GuidelineState.PUBLISHED)
    return section


@pytest.fixture
def outcomes(app, moderator, member, other_member):
    """A session under way; a published section, a draft one, a submitted paper, an unsubmitted
    one of another member, and an agenda item moved on since the session started."""
    workshop, session = _session(moderator, started=True)
    item = make_agenda_item(member, title="Can extraction be detected?")
    agenda.change_status(moderator, item, AgendaStatus.IN_PROGRESS, note="After the workshop.")
    return {
        "workshop": workshop,
        "session": session,
        "section": _section(moderator, title="Responsible release", heading="Staged release",
                            publish=True),
        "draft": _section(moderator, title="Draft guideline", heading=DRAFT_HEADING,
                          publish=False),
        "paper": papers.create_paper(
            member, PaperDetails(title="Measuring extraction", status=PaperStatus.SUBMITTED)
        ),
        "secret": papers.create_paper(other_member, PaperDetails(title=SECRET_PAPER)),
        "item": item,
    }  # fmt: skip


def _form(session, notes: str, lines: list[str]) -> dict:
    return {f"s{session.id}-notes": notes, f"s{session.id}-outcomes": "\n".join(lines)}


def _url(o) -> str:
    return f"/workshops/{o['workshop'].id}/sessions/{o['session'].id}/outcomes"


def test_organiser_writes_notes_and_links_what_came_out_of_the_session(
    client, outcomes, moderator, member
):
    o = outcomes
    client.login(moderator)
    lines = [
        f"http://127.0.0.1:5000/guidelines/{o['section'].guideline_id}#section-{o['section'].id}",
        f"/guidelines/{o['draft'].guideline_id}#section-{o['draft'].id}",
        f"/papers/{o['paper'].id}",
        f"/papers/{o['secret'].id}",  # a moderator sees every paper
        f"/agenda/{o['item'].id}",
    ]
    response = client.post(
        _url(o), data=_form(o["session"], "We **agreed** on a benchmark.", lines)
    )
    assert response.status_code == 302
    assert response.location.endswith(f"/workshops/{o['workshop'].id}#session-{o['session'].id}")

    page = client.get(f"/workshops/{o['workshop'].id}").get_data(as_text=True)
    assert "<strong>agreed</strong>" in page
    for shown in ("Staged release", DRAFT_HEADING, "Measuring extraction", SECRET_PAPER,
                  "Can extraction be detected?", "In progress"):  # fmt: skip
        assert shown in page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "workshop.outcomes"))
    assert entry is not None and entry.target_id == o["workshop"].id

    # A member sees the published section, the submitted paper and the item; not the draft
    # guideline's section nor the other member's unsubmitted paper, not even their titles.
    client.login(member)
    page = client.get(f"/workshops/{o['workshop'].id}").get_data(as_text=True)
    assert "Staged release" in page and "Measuring extraction" in page
    assert "Can extraction be detected?" in page
    assert DRAFT_HEADING not in page and SECRET_PAPER not in page
    assert "Write notes and outcomes" not in page  # not an organiser
    client.logout()
    page = client.get(f"/workshops/{o['workshop'].id}").get_data(as_text=True)
    assert "Staged release" in page and "Measuring extraction" not in page  # papers: members


def test_the_python_rule_and_the_query_agree_on_what_each_reader_sees(
    app, outcomes, moderator, member, other_member
):
    o = outcomes
    session_outcomes.save_outcomes(
        moderator,
        o["session"],
        notes="",
        lines=[
            f"/guidelines/{o['draft'].guideline_id}#section-{o['draft'].id}",
            f"/guidelines/{o['section'].guideline_id}/sections/{o['section'].id}/edit",
            f"/papers/{o['secret'].id}",
            f"/papers/{o['paper'].id}",
            f"/agenda/{o['item'].id}",
        ],
    )
    from forum.permissions import can

    expected_kinds = {
        "section": lambda viewer, target: can(viewer, "view_guideline", target.guideline),
        "paper": lambda viewer, target: can(viewer, "view_paper", target),
    }
    targets = {
        OutcomeKind.SECTION: {o["draft"].id: o["draft"], o["section"].id: o["section"]},
        OutcomeKind.PAPER: {o["secret"].id: o["secret"], o["paper"].id: o["paper"]},
    }
    for viewer in (None, member, other_member, moderator, make_user()):
        from flask_login import AnonymousUserMixin

        reader = viewer or AnonymousUserMixin()
        shown = session_outcomes.outcomes_of(reader, [o["session"].id]).get(o["session"].id, [])
        for kind in (OutcomeKind.SECTION, OutcomeKind.PAPER):
            seen = {x.target_id for x in shown if x.kind is kind}
            allowed = {
                target_id
                for target_id, target in targets[kind].items()
                if expected_kinds[kind.value](reader, target)
            }
            assert seen == allowed, (viewer, kind)
        changes = [x for x in shown if x.kind is OutcomeKind.STATUS_CHANGE]
        assert [x.status for x in changes] == (
            [AgendaStatus.IN_PROGRESS] if can(reader, "view_agenda_item", o["item"]) else []
        )


def test_notes_wait_until_the_session_has_started(client, moderator):
    workshop, session = _session(moderator, started=False)
    client.login(moderator)
    page = client.get(f"/workshops/{workshop.id}").get_data(as_text=True)
    assert "Write notes and outcomes" not in page
    response = client.post(
        f"/workshops/{workshop.id}/sessions/{session.id}/outcomes",
        data=_form(session, "Too early", []),
    )
    assert response.status_code == 403
    assert "once the session has started" in response.get_data(as_text=True)
    db.session.refresh(session)
    assert session.notes == ""


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/nonsense/3", "is not the address of a guideline section, a paper or an agenda item"),
        ("/papers/99999999", "Nothing is found at"),
        ("/papers/999999999999999999999", "is not the address of"),
        ("/guidelines/1", "Name one section of the guideline"),
    ],
)
def test_a_bad_address_is_refused_at_its_field_and_what_was_typed_is_kept(
    client, outcomes, moderator, line, message
):
    o = outcomes
    client.login(moderator)
    response = client.post(_url(o), data=_form(o["session"], "Keep these notes", [line]))
    assert response.status_code == 400
    assert message in field_error(response, f"s{o['session'].id}-outcomes")
    page = response.get_data(as_text=True)
    assert "Keep these notes" in page and line in page
    assert db.session.scalar(select(WorkshopSessionOutcome)) is None


def test_an_agenda_item_that_has_not_moved_since_the_session_is_refused(
    client, outcomes, moderator, member
):
    o = outcomes
    still = make_agenda_item(member, title="Untouched question")
    client.login(moderator)
    response = client.post(_url(o), data=_form(o["session"], "", [f"/agenda/{still.id}"]))
    assert response.status_code == 400
    assert "has not changed status since the session started" in field_error(
        response, f"s{o['session'].id}-outcomes"
    )


def test_an_appointed_organiser_cannot_link_what_they_may_not_see(client, admin, outcomes, member):
    o = outcomes
    organiser = make_user(display_name="Olga Organiser")
    workshop_organisers.appoint_organiser(admin, organiser.handle)
    workshop, session = _session(organiser, started=True)
    client.login(organiser)
    url = f"/workshops/{workshop.id}/sessions/{session.id}/outcomes"
    for line in (
        f"/papers/{o['secret'].id}",
        f"/guidelines/{o['draft'].guideline_id}#section-{o['draft'].id}",
    ):
        response = client.post(url, data=_form(session, "", [line]))
        assert response.status_code == 400
        # The same words as for an address that never existed.
        assert "Nothing is found at" in field_error(response, f"s{session.id}-outcomes")
    response = client.post(url, data=_form(session, "", [f"/papers/{o['paper'].id}"]))
    assert response.status_code == 302


def test_others_may_not_write_and_ids_of_other_workshops_are_not_found(
    client, outcomes, moderator, member
):
    o = outcomes
    client.login(member)
    assert client.post(_url(o), data=_form(o["session"], "Mine", [])).status_code == 403
    client.logout()
    assert client.post(_url(o), data=_form(o["session"], "Mine", [])).status_code in (302, 403)
    client.login(moderator)
    other_workshop, _other = _session(moderator, started=True)
    wrong = f"/workshops/{other_workshop.id}/sessions/{o['session'].id}/outcomes"
    assert client.post(wrong, data=_form(o["session"], "x", [])).status_code == 404
    huge = f"/workshops/{o['workshop'].id}/sessions/99999999999999999999/outcomes"
    assert client.post(huge, data={}).status_code == 404
    db.session.refresh(o["session"])
    assert o["session"].notes == ""


def test_notes_too_long_are_refused_and_kept(client, outcomes, moderator):
    o = outcomes
    client.login(moderator)
    response = client.post(_url(o), data=_form(o["session"], "n" * 50_000, []))
    assert response.status_code == 400
    assert "under 20000 characters" in field_error(response, f"s{o['session'].id}-notes")
    assert re.search("n{50000}", response.get_data(as_text=True))


def test_saving_again_replaces_the_links_in_the_order_typed(app, outcomes, moderator):
    o = outcomes
    first = [f"/papers/{o['paper'].id}", f"/agenda/{o['item'].id}"]
    session_outcomes.save_outcomes(moderator, o["session"], notes="v1", lines=first)
    session_outcomes.save_outcomes(
        moderator, o["session"], notes="v2", lines=[first[1], first[0], first[0]]
    )
    shown = session_outcomes.outcomes_of(moderator, [o["session"].id])[o["session"].id]
    assert [x.kind for x in shown] == [OutcomeKind.STATUS_CHANGE, OutcomeKind.PAPER]
    assert [x.address for x in shown] == [first[1], first[0]]
    assert o["session"].notes == "v2"
