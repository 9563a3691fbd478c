"""Papers (issue 18, item 3): members start papers and lead them; drafts are for their authors
and moderators; members ask to join and the lead author decides; the deadlines page and its
calendar; BibTeX that parses; reminders a week and a day before, once each, to co-authors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import bibtexparser
import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import AuditEntry, AuthorState, Paper, PaperReminder, PaperStatus
from forum.permissions import can, readable_papers
from forum.services import paper_authors, paper_deadlines, papers
from forum.services.papers import Deadline, PaperDetails, PaperProblem
from tests.factories import make_agenda_item, make_user
from tests.helpers import field_error


def make_paper(lead, **overrides) -> Paper:
    values = {"title": "Membership inference on instruction-tuned models", **overrides}
    return papers.create_paper(lead, PaperDetails(**values))


def visible_ids(viewer) -> set[int]:
    return set(db.session.scalars(select(Paper.id).where(readable_papers(viewer))))


def join_and_accept(paper, lead, member) -> None:
    request = paper_authors.ask_to_join(member, paper)
    paper_authors.accept_coauthor(lead, paper, request.id)


# --- Starting a paper and who sees it ------------------------------------------------------------


def test_member_starts_a_paper_and_becomes_its_lead_author(client, member, moderator):
    item = make_agenda_item(moderator, title="Do refusals transfer across languages?")
    client.login(member)

    response = client.post(
        "/papers/new",
        data={
            "title": "Refusal transfer in multilingual models",
            "abstract": "We measure it.",
            "status": "drafting",
            "venue": "USENIX Security 2027",
            "doi": "https://doi.org/10.1145/ABC.123",
            "arxiv_id": "arXiv:2302.12173v2",
            "full_deadline": "2027-01-10T23:59",
            "full_deadline_zone": "AoE",
            "agenda_items": [str(item.id)],
        },
    )

    assert response.status_code == 302
    paper = db.session.scalar(select(Paper))
    assert response.location.endswith(f"/papers/{paper.id}")
    assert paper.lead_id == member.id and [a.user_id for a in paper.byline] == [member.id]
    assert paper.doi == "10.1145/abc.123" and paper.arxiv_id == "2302.12173"
    # 23:59 anywhere on earth (UTC-12) is 11:59 UTC the next day
    assert paper.full_deadline == datetime(2027, 1, 11, 11, 59, tzinfo=UTC)
    assert paper.full_deadline_zone == "AoE"
    assert [i.id for i in paper.agenda_items] == [item.id]
    page = client.get(f"/papers/{paper.id}").get_data(as_text=True)
    assert "Refusal transfer in multilingual models" in page and "Lead author" in page
    assert "Do refusals transfer across languages?" in page


def test_bad_doi_and_zone_are_refused_at_their_fields_and_kept(client, member):
    client.login(member)
    response = client.post(
        "/papers/new",
        data={
            "title": "Keep this title",
            "status": "idea",
            "doi": "not a doi",
            "full_deadline": "2027-01-10T23:59",
            "full_deadline_zone": "Mars/Olympus",
        },
    )
    assert response.status_code == 400
    assert "not a DOI" in field_error(response, "doi")
    assert 'value="Keep this title"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Paper)) == 0
    with pytest.raises(PaperProblem) as problem:
        papers.create_paper(
            member,
            PaperDetails(title="T", full_deadline=Deadline(datetime(2027, 1, 1), "Mars/Olympus")),
        )
    assert problem.value.field == "full_deadline_zone"


def test_drafts_are_seen_by_their_authors_and_moderators_only(
    client, member, other_member, moderator
):
    draft = make_paper(member, status=PaperStatus.DRAFTING)
    submitted = make_paper(member, title="Submitted one", status=PaperStatus.SUBMITTED)
    outsider = make_user()

    for viewer, expected in [
        (member, {draft.id, submitted.id}),
        (moderator, {draft.id, submitted.id}),
        (other_member, {submitted.id}),
        (outsider, {submitted.id}),
        (None, set()),
    ]:
        assert visible_ids(viewer) == expected
        for paper in (draft, submitted):  # the SQL clause and the Python rule agree
            assert bool(can(viewer, "view_paper", paper)) == (paper.id in expected)

    client.login(other_member)
    assert client.get(f"/papers/{draft.id}").status_code == 404  # as a missing id
    assert client.get(f"/papers/{draft.id}.bib").status_code == 404
    assert client.get(f"/papers/{submitted.id}").status_code == 200
    listed = client.get("/papers").get_data(as_text=True)
    assert "Submitted one" in listed and draft.title not in listed


def test_visitors_are_sent_to_log_in_for_the_papers_list(client, member):
    make_paper(member, status=PaperStatus.SUBMITTED)
    response = client.get("/papers")
    assert response.status_code == 302 and "/login" in response.location


def test_only_the_lead_author_edits_and_the_decisions_are_audited(client, member, other_member):
    paper = make_paper(member, status=PaperStatus.UNDER_REVIEW)
    join_and_accept(paper, member, other_member)
    client.login(other_member)
    assert client.get(f"/papers/{paper.id}/edit").status_code == 403
    client.logout()
    client.login(member)
    edit_page = client.get(f"/papers/{paper.id}/edit").get_data(as_text=True)
    assert '<option selected value="under_review">' in edit_page  # the form shows it as stored

    response = client.post(
        f"/papers/{paper.id}/edit",
        data={"title": "Retitled", "status": "accepted", "full_deadline_zone": "AoE"},
    )

    assert response.status_code == 302
    db.session.refresh(paper)
    assert paper.title == "Retitled" and paper.status == PaperStatus.ACCEPTED
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions == ["paper.coauthor_accepted", "paper.accepted"]
    log = client.get("/moderation/log").get_data(as_text=True)
    assert "accepted a co-author on a paper" in log and "marked a paper as accepted" in log


# --- Co-authors ---------------------------------------------------------------------------------


def test_member_asks_to_join_and_the_lead_author_accepts_then_orders(client, member, other_member):
    paper = make_paper(member, status=PaperStatus.SUBMITTED)
    third = make_user(display_name="Tess Third")
    client.login(other_member)
    assert client.post(f"/papers/{paper.id}/join").status_code == 302
    again = client.get(f"/papers/{paper.id}").get_data(as_text=True)
    assert "You have asked to join" in again
    client.logout()

    client.login(member)
    page = client.get(f"/papers/{paper.id}").get_data(as_text=True)
    assert "Asking to join" in page and "Omar Other" in page
    [request] = paper.requests
    assert client.post(f"/papers/{paper.id}/authors/{request.id}/accept").status_code == 302
    client.post(f"/papers/{paper.id}/authors", data={"name": "Ada Outsider"})
    join_and_accept(paper, member, third)
    db.session.expire_all()
    assert [a.display_name for a in paper.byline] == [
        "Maya Member", "Omar Other", "Ada Outsider", "Tess Third",
    ]  # fmt: skip
    tess = paper.byline[3]
    client.post(f"/papers/{paper.id}/authors/{tess.id}/up")
    client.post(f"/papers/{paper.id}/authors/{tess.id}/up")
    client.post(f"/papers/{paper.id}/authors/{tess.id}/up")  # the lead author stays first
    db.session.expire_all()
    assert [a.display_name for a in paper.byline] == [
        "Maya Member", "Tess Third", "Omar Other", "Ada Outsider",
    ]  # fmt: skip


def test_lead_author_declines_and_others_cannot_decide(client, member, other_member):
    paper = make_paper(member, status=PaperStatus.SUBMITTED)
    request = paper_authors.ask_to_join(other_member, paper)
    client.login(other_member)
    assert client.post(f"/papers/{paper.id}/authors/{request.id}/accept").status_code == 403
    client.logout()
    client.login(member)
    client.post(f"/papers/{paper.id}/authors/{request.id}/decline")
    db.session.expire_all()
    assert [a.user_id for a in paper.authors] == [member.id]
    assert not paper.is_author(other_member.id)


def test_member_cannot_ask_to_join_a_draft_they_cannot_see(client, member, other_member):
    draft = make_paper(member, status=PaperStatus.IDEA)
    client.login(other_member)
    assert client.post(f"/papers/{draft.id}/join").status_code == 404
    assert [a.state for a in draft.authors] == [AuthorState.AUTHOR]


# --- Deadlines, calendar, BibTeX ----------------------------------------------------------------


def test_deadlines_page_shows_aoe_and_the_calendar_has_utc_times(client, member):
    now = datetime.now(UTC)
    year = now.year + 1
    make_paper(
        member,
        title="Paper with deadlines",
        status=PaperStatus.DRAFTING,
        abstract_deadline=Deadline(datetime(year, 3, 1, 23, 59), "AoE"),
        full_deadline=Deadline(datetime(year, 3, 8, 17, 0), "America/New_York"),
    )
    make_paper(member, title="Past", full_deadline=Deadline(datetime(2020, 1, 1), "UTC"))
    client.login(member)

    page = client.get("/papers/deadlines").get_data(as_text=True)

    assert page.count("Paper with deadlines") == 2 and "Past" not in page
    assert ">AoE</abbr>" in page and "stated in America/New_York" in page
    assert page.index("Abstract deadline") < page.index("Full paper deadline")
    response = client.get("/papers/deadlines.ics")
    assert response.mimetype == "text/calendar"
    events = Calendar.from_ical(response.data).walk("VEVENT")
    starts = sorted(event.decoded("dtstart") for event in events)
    # AoE is UTC-12; New York in March after the DST change is UTC-4
    assert starts == [
        datetime(year, 3, 2, 11, 59, tzinfo=UTC),
        datetime(year, 3, 8, 22, 0, tzinfo=UTC)
        if _est_on(year, 3, 8)
        else datetime(year, 3, 8, 21, 0, tzinfo=UTC),
    ]
    assert all("Paper with deadlines" in str(event["summary"]) for event in events)


def _est_on(year: int, month: int, day: int) -> bool:
    """Whether New York is still on standard time (UTC-5) that day (DST starts the 2nd Sunday
    of March)."""
    from zoneinfo import ZoneInfo

    offset = datetime(year, month, day, 17, tzinfo=ZoneInfo("America/New_York")).utcoffset()
    return offset == timedelta(hours=-5)


def test_bibtex_of_a_paper_and_of_an_agenda_item_parses(client, member, other_member):
    item = make_agenda_item(member)
    paper = make_paper(
        member,
        title="Attacks & defences: 100% {robust}?",
        status=PaperStatus.ACCEPTED,
        venue="IEEE S&P 2027",
        doi="10.1109/SP.2027.1",
        arxiv_id="https://arxiv.org/abs/2302.12173v3",
        agenda_item_ids=[item.id],
    )
    join_and_accept(paper, member, other_member)
    draft = make_paper(member, title="Hidden draft", agenda_item_ids=[item.id])
    make_paper(member, title="Unlinked", status=PaperStatus.SUBMITTED)

    client.login(other_member)
    one = bibtexparser.parse_string(client.get(f"/papers/{paper.id}.bib").get_data(as_text=True))
    [entry] = one.entries
    assert entry.entry_type == "inproceedings"
    assert entry.fields_dict["title"].value == r"{Attacks \& defences: 100\% \{robust\}?}"
    assert entry.fields_dict["author"].value == "{Maya Member} and {Omar Other}"
    assert entry.fields_dict["doi"].value == "10.1109/sp.2027.1"
    assert entry.fields_dict["eprint"].value == "2302.12173"
    assert not one.failed_blocks

    listed = client.get(f"/agenda/{item.id}/papers.bib").get_data(as_text=True)
    library = bibtexparser.parse_string(listed)
    assert [e.key for e in library.entries] == [f"forum-paper-{paper.id}"]  # not the draft
    assert not library.failed_blocks
    client.logout()
    client.login(member)  # the draft's author gets it too
    mine = bibtexparser.parse_string(
        client.get(f"/agenda/{item.id}/papers.bib").get_data(as_text=True)
    )
    assert {e.key for e in mine.entries} == {f"forum-paper-{paper.id}", f"forum-paper-{draft.id}"}
    assert client.get("/agenda/99999999/papers.bib").status_code == 404


# --- Reminders ----------------------------------------------------------------------------------


def test_reminders_go_a_week_and_a_day_before_once_each_to_coauthors_only(
    app, mail_server, member, other_member
):
    deadline = datetime(2031, 5, 20, 12, 0, tzinfo=UTC)
    paper = make_paper(
        member,
        title="Reminded paper",
        status=PaperStatus.SUBMITTED,
        full_deadline=Deadline(deadline.replace(tzinfo=None), "UTC"),
    )
    join_and_accept(paper, member, other_member)
    asker = make_user(display_name="Only Asking")
    paper_authors.ask_to_join(asker, paper)  # not a co-author until accepted
    remind = paper_deadlines.send_deadline_reminders

    assert remind(now=deadline - timedelta(days=8)).sent == 0
    week = remind(now=deadline - timedelta(days=6, hours=23))
    week_again = remind(now=deadline - timedelta(days=6))
    day = remind(now=deadline - timedelta(hours=20))
    day_again = remind(now=deadline - timedelta(hours=2))
    after = remind(now=deadline + timedelta(hours=1))

    assert (week.sent, week_again.sent, day.sent, day_again.sent, after.sent) == (2, 0, 2, 0, 0)
    messages = mail_server.wait_for(4)
    assert sorted(m["To"] for m in messages) == sorted([member.email, other_member.email] * 2)
    assert asker.email not in {m["To"] for m in messages}
    assert all(m["Subject"] == "Paper deadline soon: Reminded paper" for m in messages)
    bodies = [m.get_body(("plain",)).get_content() for m in messages]
    assert sum("is in 7 days" in b for b in bodies) == 2
    assert sum("is in 1 day" in b for b in bodies) == 2
    assert all(f"/papers/{paper.id}" in b for b in bodies)
    assert db.session.scalar(select(func.count()).select_from(PaperReminder)) == 4


def test_remind_command_runs_twice_and_sends_once(app, runner, mail_server, member):
    soon = datetime.now(UTC) + timedelta(hours=5)
    make_paper(
        member,
        status=PaperStatus.DRAFTING,
        abstract_deadline=Deadline(soon.replace(tzinfo=None, second=0, microsecond=0), "UTC"),
    )
    first = runner.invoke(args=["papers", "remind"])
    second = runner.invoke(args=["papers", "remind"])
    assert "1 deadline reminders sent, 0 to try again." in first.output
    assert "0 deadline reminders sent, 0 to try again." in second.output
    [message] = mail_server.wait_for(1)
    assert "Abstract deadline soon" in message["Subject"]


def test_calendar_times_follow_the_zone_across_a_daylight_saving_change(app, member):
    # Berlin moves from UTC+1 to UTC+2 on 28 March 2027: noon before it is 11:00 UTC, after 10:00.
    make_paper(
        member,
        title="Across the change",
        abstract_deadline=Deadline(datetime(2027, 3, 27, 12, 0), "Europe/Berlin"),
        full_deadline=Deadline(datetime(2027, 3, 29, 12, 0), "Europe/Berlin"),
    )
    ics = paper_deadlines.deadlines_calendar(member, now=datetime(2027, 1, 1, tzinfo=UTC))
    events = Calendar.from_ical(ics).walk("VEVENT")
    assert sorted(event.decoded("dtstart") for event in events) == [
        datetime(2027, 3, 27, 11, 0, tzinfo=UTC),
        datetime(2027, 3, 29, 10, 0, tzinfo=UTC),
    ]


def test_a_deadline_past_what_a_date_holds_is_a_message_at_its_field(client, member):
    client.login(member)
    response = client.post(
        "/papers/new",
        data={
            "title": "Far future",
            "status": "idea",
            "full_deadline": "9999-12-31T23:59",
            "full_deadline_zone": "AoE",  # UTC-12: past the year 9999 in UTC
            "abstract": "x" * 50_000,
        },
    )
    assert response.status_code == 400
    assert field_error(response, "abstract") == "Keep this under 20000 characters."
    response = client.post(
        "/papers/new",
        data={
            "title": "Far future",
            "status": "idea",
            "full_deadline": "9999-12-31T23:59",
            "full_deadline_zone": "AoE",
        },
    )
    assert response.status_code == 400
    assert field_error(response, "full_deadline") == "Give a date between the years 1 and 9999."
    assert db.session.scalar(select(func.count()).select_from(Paper)) == 0


def test_a_reminder_the_mail_server_refused_is_sent_on_the_next_run(app, mail_server, member):
    deadline = datetime(2031, 5, 20, 12, 0, tzinfo=UTC)
    make_paper(member, full_deadline=Deadline(deadline.replace(tzinfo=None), "UTC"))
    port = app.config["FORUM_MAIL_PORT"]
    app.config["FORUM_MAIL_PORT"] = 9  # nothing listens there: the server is "down"
    down = paper_deadlines.send_deadline_reminders(now=deadline - timedelta(hours=3))
    app.config["FORUM_MAIL_PORT"] = port
    assert (down.sent, down.failed) == (0, 1)
    assert db.session.scalar(select(func.count()).select_from(PaperReminder)) == 0

    up = paper_deadlines.send_deadline_reminders(now=deadline - timedelta(hours=2))

    assert (up.sent, up.failed) == (1, 0)
    [message] = mail_server.wait_for(1)
    assert message["To"] == member.email
