"""Guidelines in a real headless Chromium (issue 18): a member suggests an edit to a section, an
editor accepts it, and the diff between the two versions shows the changed words."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from forum.models import GuidelineState, Role
from forum.services import guidelines
from tests.factories import PASSWORD, make_user
from tests.pages import Forum

pytestmark = pytest.mark.browser


@dataclass
class GuidelinePage:
    page: Page

    def section(self, heading: str):
        return self.page.locator("section.guideline-section", has_text=heading)

    def suggestion(self, text: str):
        return self.page.locator("article.guideline-suggestion", has_text=text)


def test_member_suggests_an_edit_the_editor_accepts_it_and_the_diff_shows_it(
    page, live_server, app
):
    moderator = make_user(display_name="Mo Moderator", role=Role.MODERATOR)
    editor = make_user(display_name="Eda Editor")
    member = make_user(display_name="Maya Member")
    document = guidelines.create_guideline(
        moderator, title="Releasing open models", editor_emails=[editor.email]
    )
    guidelines.add_section(
        editor, document, heading="Scope", body="We cover open weights releases.", reason="Draft"
    )
    guidelines.change_state(editor, document, to=GuidelineState.OPEN)
    forum = Forum(page, live_server)
    forum.visit("/login")
    forum.log_in(email=member.email, password=PASSWORD)
    forum.visit(f"/guidelines/{document.id}")
    doc = GuidelinePage(page)

    doc.section("Scope").get_by_role("link", name="Suggest an edit").click()
    page.get_by_label("Your text for this section").fill("We cover open weights and data releases.")
    page.get_by_label("Why this change?").fill("Datasets carry risks too")
    page.get_by_role("button", name="Send suggestion").click()
    expect(page.get_by_text("Your suggestion is sent to the editors.")).to_be_visible()

    forum.log_out()
    forum.visit("/login")
    forum.log_in(email=editor.email, password=PASSWORD)
    forum.visit(f"/guidelines/{document.id}")
    suggestion = doc.suggestion("Datasets carry risks too")
    expect(suggestion.locator("ins")).to_have_text("and data ")
    suggestion.get_by_role("button", name="Accept").click()

    expect(page.get_by_role("heading", name="Changes from version 1 to 2")).to_be_visible()
    diff = page.locator(".word-diff")
    expect(diff).to_have_attribute("dir", "auto")
    expect(diff.locator("ins")).to_have_text("and data ")
    expect(diff.locator("del")).to_have_count(0)
    forum.visit(f"/guidelines/{document.id}")
    expect(doc.section("Scope")).to_contain_text("We cover open weights and data releases.")
