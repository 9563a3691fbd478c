"""Workshops in a real headless Chromium (issue 18): a member registers for a full workshop and
is waitlisted; another cancels; the first is promoted and sees the notification."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from forum.services import workshops
from tests.factories import PASSWORD, make_user, make_workshop
from tests.pages import Forum

pytestmark = pytest.mark.browser


@dataclass
class WorkshopPage:
    page: Page

    def status(self):
        return self.page.locator(".workshop-status")

    def register(self) -> None:
        self.page.get_by_role("button", name="Join the waitlist").click()


def test_waitlisted_member_is_promoted_when_another_cancels_and_sees_the_notification(
    page, live_server, moderator
):
    workshop = make_workshop(
        moderator,
        title="Safety evaluations in practice",
        timezone="Africa/Cairo",
        capacity=1,
        place="Cairo",
        online_url="",
    )
    holder = make_user(display_name="Hana Holder")
    waiter = make_user(display_name="Wael Waiter")
    workshops.register(holder, workshop)
    forum = Forum(page, live_server)
    forum.visit(f"/workshops/{workshop.id}")
    forum.log_in(email=waiter.email, password=PASSWORD)
    forum.visit(f"/workshops/{workshop.id}")
    shown = WorkshopPage(page)

    shown.register()

    expect(shown.status()).to_have_text("You are number 1 on the waitlist.")
    forum.log_out()
    forum.log_in(email=holder.email, password=PASSWORD)
    forum.visit(f"/workshops/{workshop.id}")
    page.get_by_role("button", name="Cancel my registration").click()
    expect(page.get_by_text("Your registration is cancelled.")).to_be_visible()
    forum.log_out()
    forum.log_in(email=waiter.email, password=PASSWORD)
    forum.visit("/notifications")
    note = page.get_by_text("A seat opened for you at “Safety evaluations in practice”")
    expect(note).to_be_visible()
    note.click()
    expect(shown.status()).to_have_text("You are registered: a seat is yours.")
