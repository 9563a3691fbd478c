"""Papers in a real headless Chromium (issue 18, item 3): a member starts a paper with an AoE
deadline, another asks to join as a co-author, the lead author accepts, and the new co-author
finds the deadline on the deadlines page in their own time zone, on a phone-wide screen too."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from forum.extensions import db
from tests.factories import PASSWORD, make_user
from tests.pages import Forum

pytestmark = pytest.mark.browser

YEAR = 2030  # 11 May 2030 is a Saturday


@dataclass
class PaperPage:
    page: Page

    def start(self, *, title: str, status: str, full_deadline: str, zone: str) -> None:
        self.page.get_by_label("Title").fill(title)
        self.page.get_by_label("Status").select_option(label=status)
        self.page.get_by_label("Full paper deadline", exact=True).fill(full_deadline)
        self.page.get_by_label("Full paper deadline's time zone").fill(zone)
        self.page.get_by_role("button", name="Save the paper").click()
        expect(self.page.get_by_role("heading", name=title, level=1)).to_be_visible()

    def authors(self):
        return self.page.locator("#authors ol > li")


def test_a_coauthor_the_lead_accepted_sees_the_aoe_deadline_in_their_zone_on_a_phone(
    page, live_server
):
    lead = make_user(display_name="Lina Lead")
    joiner = make_user(display_name="Kenji Coauthor")
    joiner.timezone = "Asia/Tokyo"
    db.session.commit()
    forum = Forum(page, live_server)
    paper = PaperPage(page)
    forum.visit("/papers")
    forum.log_in(email=lead.email, password=PASSWORD)
    forum.visit("/papers/new")
    paper.start(
        title="Canaries for training data extraction",
        status="Submitted",
        full_deadline=f"{YEAR}-05-10T23:59",
        zone="AoE",
    )
    paper_path = page.url.removeprefix(live_server)
    forum.log_out()

    forum.log_in(email=joiner.email, password=PASSWORD)
    forum.visit(paper_path)
    page.get_by_role("button", name="Ask to join as a co-author").click()
    expect(page.get_by_text("You asked to join as a co-author.")).to_be_visible()
    forum.log_out()

    forum.log_in(email=lead.email, password=PASSWORD)
    forum.visit(paper_path)
    request = page.locator(".paper-requests li", has_text="Kenji Coauthor")
    request.get_by_role("button", name="Accept").click()
    expect(page.get_by_text("The co-author is added, last in the list.")).to_be_visible()
    expect(paper.authors()).to_have_text([re.compile("^Lina Lead"), re.compile("^Kenji Coauthor")])
    forum.log_out()

    forum.log_in(email=joiner.email, password=PASSWORD)
    forum.visit("/papers/deadlines")
    row = page.locator(".paper-deadline-row", has_text="Canaries for training data extraction")
    expect(row).to_contain_text("Full paper deadline")
    # 23:59 anywhere on earth (UTC-12) is 11:59 UTC the next day: 20:59 in Tokyo (UTC+9)
    moment = row.locator("time")
    expect(moment).to_have_attribute("datetime", f"{YEAR}-05-11T11:59:00+00:00")
    expect(moment).to_have_text(f"Saturday, May 11, {YEAR}, 8:59:00 PM Japan Standard Time")
    expect(row.get_by_text("AoE", exact=True)).to_be_visible()

    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    expect(row).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"/papers/deadlines is {width} px wide at 375 px"
