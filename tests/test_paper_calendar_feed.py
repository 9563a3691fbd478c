"""A member's secret, revocable calendar feed of paper deadlines (issue 18, item 3): what the
deadlines page shows them, for a calendar app that holds no session; the old address answers
404 once revoked or replaced, and nothing the owner may not see (now) is ever in it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from icalendar import Calendar

from forum.extensions import db
from forum.models import FeedKind, PaperStatus, UserState
from forum.services import calendar_feeds, paper_authors, papers
from forum.services.papers import Deadline, PaperDetails
from tests.factories import make_user

NEXT_YEAR = datetime.now(UTC).year + 1


def make_paper(lead, title: str, status=PaperStatus.DRAFTING, **overrides):
    details = PaperDetails(
        title=title,
        status=status,
        full_deadline=Deadline(datetime(NEXT_YEAR, 5, 10, 23, 59), "AoE"),
        **overrides,
    )
    return papers.create_paper(lead, details)


def feed_events(client, token: str) -> dict[str, datetime]:
    response = client.get(f"/papers/feed/{token}.ics")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/calendar"
    return {
        str(event["summary"]): event.decoded("dtstart")
        for event in Calendar.from_ical(response.data).walk("VEVENT")
    }


def test_a_calendar_app_reads_the_members_deadlines_at_aoe_until_they_revoke_the_address(
    client, member, other_member
):
    make_paper(member, "My draft")
    make_paper(other_member, "Someone else's draft")
    make_paper(other_member, "A submitted paper", status=PaperStatus.SUBMITTED)
    token = calendar_feeds.renew_feed(member, FeedKind.PAPER_DEADLINES)

    events = feed_events(client, token)  # no one is logged in: the token is the key

    assert events == {
        "Paper deadline: My draft": datetime(NEXT_YEAR, 5, 11, 11, 59, tzinfo=UTC),
        "Paper deadline: A submitted paper": datetime(NEXT_YEAR, 5, 11, 11, 59, tzinfo=UTC),
    }  # 23:59 anywhere on earth (UTC-12) is 11:59 UTC the next day
    calendar_feeds.revoke_feed(member, FeedKind.PAPER_DEADLINES)
    assert client.get(f"/papers/feed/{token}.ics").status_code == 404


def test_a_new_address_stops_the_old_one_and_leaves_the_workshop_feed_alone(client, member):
    make_paper(member, "My draft")
    workshops_token = calendar_feeds.renew_feed(member, FeedKind.WORKSHOPS)
    old = calendar_feeds.renew_feed(member, FeedKind.PAPER_DEADLINES)
    new = calendar_feeds.renew_feed(member, FeedKind.PAPER_DEADLINES)

    assert client.get(f"/papers/feed/{old}.ics").status_code == 404
    assert list(feed_events(client, new)) == ["Paper deadline: My draft"]
    # one kind's token opens nothing of the other kind
    assert client.get(f"/papers/feed/{workshops_token}.ics").status_code == 404
    assert client.get(f"/workshops/feed/{new}.ics").status_code == 404
    calendar_feeds.revoke_feed(member, FeedKind.PAPER_DEADLINES)
    assert client.get(f"/workshops/feed/{workshops_token}.ics").status_code == 200


def test_the_feed_follows_the_owners_rights_at_each_fetch(client, member, other_member):
    ours = make_paper(member, "Ours", PaperStatus.SUBMITTED)
    joined = paper_authors.ask_to_join(other_member, ours)
    paper_authors.accept_coauthor(member, ours, joined.id)
    ours.status = PaperStatus.DRAFTING  # back to a draft: its authors' alone again
    db.session.commit()
    token = calendar_feeds.renew_feed(other_member, FeedKind.PAPER_DEADLINES)
    assert list(feed_events(client, token)) == ["Paper deadline: Ours"]

    paper_authors.remove_author(member, ours, joined.id)

    assert feed_events(client, token) == {}


def test_a_suspended_members_feed_answers_404_until_the_suspension_ends(client, member):
    make_paper(member, "My draft")
    token = calendar_feeds.renew_feed(member, FeedKind.PAPER_DEADLINES)
    member.state = UserState.SUSPENDED
    db.session.commit()
    assert client.get(f"/papers/feed/{token}.ics").status_code == 404
    member.state = UserState.ACTIVE
    db.session.commit()
    assert list(feed_events(client, token)) == ["Paper deadline: My draft"]


def test_a_moderators_feed_loses_the_drafts_when_they_are_no_longer_one(client, member):
    from forum.models import Role

    moderator = make_user(role=Role.MODERATOR)
    make_paper(member, "A draft")
    token = calendar_feeds.renew_feed(moderator, FeedKind.PAPER_DEADLINES)
    assert list(feed_events(client, token)) == ["Paper deadline: A draft"]
    moderator.role = Role.MEMBER
    db.session.commit()
    assert feed_events(client, token) == {}


def test_made_up_huge_and_nul_tokens_are_404(client, member):
    calendar_feeds.renew_feed(member, FeedKind.PAPER_DEADLINES)
    for token in ("nope", "x" * 50_000):
        assert client.get(f"/papers/feed/{token}.ics").status_code == 404, token[:10]
    assert client.get("/papers/feed/a%00b.ics").status_code == 400  # as for any NUL in a URL


def test_member_makes_and_stops_their_address_on_the_calendar_page(client, member):
    assert client.get("/papers/calendar").status_code == 302  # a visitor is sent to log in
    make_paper(member, "My draft")
    client.login(member)
    assert "/papers/calendar" in client.get("/papers/deadlines").get_data(as_text=True)

    page = client.post("/papers/calendar", data={"action": "renew"}).get_data(as_text=True)

    shown = re.search(r'id="feed-url"[^>]* value="https?://[^/"]+/papers/feed/([^"/]+)\.ics"', page)
    assert shown, "the address is shown once, when made"
    token = shown.group(1)
    client.logout()
    assert list(feed_events(client, token)) == ["Paper deadline: My draft"]
    client.login(member)
    again = client.get("/papers/calendar").get_data(as_text=True)
    assert token not in again and "You have an address" in again
    assert client.post("/papers/calendar", data={"action": "revoke"}, csrf=False).status_code == 400
    done = client.post("/papers/calendar", data={"action": "revoke"}, follow_redirects=True)
    assert "no longer works" in done.get_data(as_text=True)
    assert client.get(f"/papers/feed/{token}.ics").status_code == 404
