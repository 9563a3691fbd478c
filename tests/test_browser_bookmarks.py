"""Bookmarks in a real headless Chromium: bookmark a reply from its topic, give it a note and a
reminder, find it on /bookmarks (issue 17)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from forum.extensions import db
from tests.factories import PASSWORD, make_post, make_topic, make_user
from tests.pages import Forum, TopicPage

pytestmark = pytest.mark.browser

REPLY = "The refusal rate drops to 40% once the prompt is paraphrased twice."


@dataclass
class BookmarksPage:
    page: Page

    def entry(self, text: str):
        return self.page.locator("li.bookmark", has_text=text)


def test_member_bookmarks_a_reply_and_finds_it_with_its_reminder(page, live_server, safety):
    author = make_user(display_name="Rana Researcher")
    reader = make_user(display_name="Sam Reader")
    reader.timezone = "Europe/Berlin"
    topic = make_topic(safety, author=author, title="How robust are refusals?")
    make_post(topic, author=author, body=REPLY)
    db.session.commit()
    forum = Forum(page, live_server)
    forum.visit(f"/t/{topic.id}/{topic.slug}?page=1")
    forum.log_in(email=reader.email, password=PASSWORD)
    forum.visit(f"/t/{topic.id}/{topic.slug}?page=1")
    thread = TopicPage(page)

    thread.post(REPLY).get_by_role("button", name="Bookmark").click()

    bookmarked = thread.post(REPLY).get_by_role("button", name="Bookmarked")
    expect(bookmarked).to_have_attribute("aria-pressed", "true")
    expect(thread.post("What do we know").get_by_role("button", name="Bookmark")).to_have_attribute(
        "aria-pressed", "false"
    )
    thread.post(REPLY).get_by_role("link", name="Note and reminder").click()
    page.get_by_label("Note").fill("Cite in the workshop report")
    page.get_by_label("Remind me at").fill("2031-03-02T09:30")
    page.get_by_role("button", name="Save bookmark").click()

    expect(page.get_by_role("heading", name="Bookmarks", level=1)).to_be_visible()
    entry = BookmarksPage(page).entry("Cite in the workshop report")
    expect(entry).to_contain_text(REPLY)
    expect(entry).to_contain_text("Reply by Rana Researcher")
    expect(entry.locator(".bookmark-reminder time")).to_have_attribute(
        "datetime",
        "2031-03-02T08:30:00+00:00",  # 09:30 in Berlin, stored in UTC
    )
    entry.get_by_role("link", name="How robust are refusals?").click()
    expect(thread.post(REPLY).get_by_role("button", name="Bookmarked")).to_be_visible()
