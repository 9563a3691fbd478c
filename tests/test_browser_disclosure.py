"""Responsible disclosure in a real headless Chromium: a restricted topic from first post to
the end of its embargo."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from forum.extensions import db
from forum.models import Topic
from forum.models.types import utcnow
from tests.factories import PASSWORD, make_user
from tests.pages import Forum, TopicPage

pytestmark = pytest.mark.browser

TITLE = "Prompt injection through calendar invites"
BODY = "An invite with hidden instructions makes the assistant forward the inbox."


@dataclass
class DisclosurePanel:
    """The box on a restricted topic's page where its author lets people in."""

    page: Page

    def let_in(self, handle: str) -> None:
        self.page.get_by_label("Let in a member").fill(f"@{handle}")
        self.page.get_by_role("button", name="Let in", exact=True).click()

    @property
    def members(self):
        return self.page.locator(".let-in-list")


def open_restricted_topic(forum: Forum, *, until: str) -> TopicPage:
    page = forum.page
    page.get_by_role("link", name="New topic").click()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Kind").select_option(label="Discussion")
    page.get_by_label("Restricted until a date").check()
    page.get_by_label("Restricted until", exact=True).fill(until)
    page.get_by_label("Body").fill(BODY)
    page.get_by_role("button", name="Post topic").click()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    return TopicPage(page)


def assert_nowhere_for(forum: Forum, topic: Topic) -> None:
    page = forum.page
    forum.visit(f"/t/{topic.id}/{topic.slug}")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_text(BODY)).to_have_count(0)
    forum.visit("/latest")
    expect(page.get_by_role("heading", name="All topics")).to_be_visible()
    expect(page.get_by_text(TITLE)).to_have_count(0)
    forum.open_area("Security")
    expect(page.get_by_text(TITLE)).to_have_count(0)
    expect(page.locator(".bell-count")).to_have_count(0)
    forum.visit("/api/topics/similar?title=" + TITLE.replace(" ", "+"))
    assert json.loads(page.locator("body").inner_text()) == []


def test_restricted_topic_is_read_by_the_invited_member_only_until_its_embargo_ends(
    live_server, page, runner, member, other_member
):
    outsider = make_user(display_name="Olu Outsider", email="olu@outside.example")
    forum = Forum(page, live_server)
    forum.visit("/")
    forum.log_in(email=member.email, password=PASSWORD)
    forum.open_area("Security")
    thread = open_restricted_topic(forum, until=(date.today() + timedelta(days=30)).isoformat())
    expect(page.get_by_text("Restricted until", exact=False).first).to_be_visible()
    panel = DisclosurePanel(page)
    expect(panel.members).to_contain_text("Nobody yet")
    panel.let_in(other_member.handle)
    expect(page.get_by_text(f"{other_member.display_name} is let in and told.")).to_be_visible()
    expect(panel.members).to_contain_text(other_member.display_name)
    forum.log_out()

    forum.log_in(email=other_member.email, password=PASSWORD)
    expect(page.locator(".bell-count")).to_have_text("1")
    page.locator(".bell").click()
    page.get_by_role("link", name=f"let you into the restricted topic “{TITLE}”").click()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(thread.post(BODY)).to_be_visible()
    thread.reply_to_topic("Reproduced it with a shared calendar too.")
    forum.log_out()

    topic = db.session.scalar(select(Topic).where(Topic.title == TITLE))
    forum.log_in(email=outsider.email, password=PASSWORD)
    assert_nowhere_for(forum, topic)

    topic.embargo_until = utcnow() - timedelta(minutes=1)  # the embargo date has come
    db.session.commit()
    result = runner.invoke(args=["lift-embargoes"])
    assert result.exit_code == 0 and f"topic {topic.id}" in result.output

    forum.visit("/latest")
    expect(page.get_by_role("link", name=TITLE)).to_be_visible()
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(thread.post("Reproduced it with a shared calendar too.")).to_be_visible()
    forum.log_out()
    forum.visit(f"/t/{topic.id}/{topic.slug}")  # and visitors, logged out
    expect(thread.post(BODY)).to_be_visible()
