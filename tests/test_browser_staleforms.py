"""In Chromium: forms that went stale keep what was typed, a form sent again makes nothing new,
a failed flag stays open in place, and the results chart fits a phone in English and Arabic
(issue 17, item 7)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Post, Topic
from forum.services import topic_curation, voting
from tests.factories import close_round, make_agenda_item, make_post, make_round, make_user
from tests.pages import Forum

pytestmark = pytest.mark.browser


def log_in(page, live_server, user) -> Forum:
    forum = Forum(page, live_server)
    forum.visit("/")
    forum.log_in(email=user.email, password="correct horse battery")
    return forum


def test_a_reply_typed_while_a_moderator_locks_the_topic_is_still_there(
    live_server, page, member, moderator, topic
):
    log_in(page, live_server, member)
    page.goto(f"{live_server}/t/{topic.id}/{topic.slug}?page=1")
    page.get_by_label("Your reply").fill("Three paragraphs of careful thought")
    topic_curation.lock_topic(moderator, topic, note="Off the rails")  # another session
    page.get_by_role("button", name="Post reply").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "This topic is locked: it takes no new replies."
    )
    expect(page.get_by_label("Your reply")).to_have_value("Three paragraphs of careful thought")
    assert db.session.scalar(select(func.count()).select_from(Post)) == 1


def test_sending_a_new_topic_again_after_going_back_lands_on_the_first(live_server, page, member):
    forum = log_in(page, live_server, member)
    forum.open_area("Privacy")
    forum.open_topic(title="Is DP-SGD enough for LLMs?", body="Epsilon of 8 seems large.")
    landed = page.url
    page.go_back()
    expect(page.get_by_label("Title")).to_have_value("Is DP-SGD enough for LLMs?")
    page.get_by_role("button", name="Post topic").click()
    expect(page.get_by_text("This was already posted: here it is.")).to_be_visible()
    assert page.url.split("#")[0] == landed.split("#")[0]
    db.session.expire_all()
    titled = select(func.count()).select_from(Topic).where(Topic.title.like("Is DP-SGD%"))
    assert db.session.scalar(titled) == 1


def test_a_flag_without_its_note_stays_open_at_the_post_with_the_choice_kept(
    live_server, page, member, other_member, topic
):
    reply = make_post(topic, author=member, body="An unsourced claim about GPT-4")
    log_in(page, live_server, other_member)
    page.goto(f"{live_server}/t/{topic.id}/{topic.slug}?page=1")
    post = page.locator(f"#post-{reply.id}")
    post.get_by_text("Flag", exact=True).click()
    post.get_by_role("radio", name="Something else").check()
    post.get_by_role("button", name="Send flag").click()
    post = page.locator(f"#post-{reply.id}")
    expect(post.locator("details.flag-box")).to_have_attribute("open", "")
    expect(post.get_by_role("radio", name="Something else")).to_be_checked()
    note = post.get_by_label("Note for the moderators (needed for something else)")
    expect(note).to_be_in_viewport()  # the address ends in #flag-<id>: the browser went there
    expect(post.locator(".field-message")).to_have_text("Say what is wrong with the post.")
    assert note.bounding_box()["y"] < post.locator(".field-message").bounding_box()["y"]
    expect(page.locator(".flashes")).to_have_count(0)
    note.fill("It cites nothing")
    post.get_by_role("button", name="Send flag").click()
    expect(page.locator(f"#post-{reply.id}")).to_contain_text("You flagged this")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_results_chart_fits_a_phone_with_readable_labels(
    live_server, browser, moderator, language
):
    titles = (
        "Membership inference against fine-tuned open-weight language models?",
        "تقييم الهجمات على نماذج اللغة",
        "Prompt injection",
    )
    items = [make_agenda_item(moderator, title=t) for t in titles]
    round_ = make_round(
        moderator, items, method="budget", budget=10, per_item_cap=10, title="Round 4"
    )
    voting.cast_ballot(make_user(), round_, entries={items[0].id: 5, items[1].id: 5})
    close_round(round_)
    context = browser.new_context(
        viewport={"width": 375, "height": 800},
        locale=language,
        extra_http_headers={"Accept-Language": language},
    )
    try:
        tab = context.new_page()
        tab.goto(f"{live_server}/rounds/{round_.id}")
        found = tab.locator(".chart svg").evaluate(
            """svg => {
                const box = svg.viewBox.baseVal;
                const scale = svg.getBoundingClientRect().width / box.width;
                const texts = [...svg.querySelectorAll("text")].map(t => {
                    const b = t.getBBox();
                    return {text: t.textContent, left: b.x, right: b.x + b.width,
                            top: b.y, bottom: b.y + b.height,
                            size: parseFloat(getComputedStyle(t).fontSize) * scale};
                });
                return {width: box.width, height: box.height, texts};
            }"""
        )
        assert len(found["texts"]) >= 1 + 2 * len(titles) + 1  # title, labels, values, note
        for text in found["texts"]:
            assert text["left"] >= 0 and text["right"] <= found["width"], text
            assert text["top"] >= 0 and text["bottom"] <= found["height"], text
            assert text["size"] >= 12, text
        # The Latin round title is isolated inside the translated sentence: in Arabic the
        # guillemets around it keep their places (« on the right, » on the left).
        title = tab.locator(".chart svg .bar-chart-title").text_content()
        assert "\u2068Round 4\u2069" in title
        if language == "ar":
            assert "«\u2068Round 4\u2069»" in title
            tab.locator(".chart").screenshot(path="/tmp/chart-ar.png")
        labels = tab.locator(".chart svg .bar-label").all_text_contents()
        assert any(label.replace("\u2068", "").startswith("=1. ") for label in labels)
        rank_cells = tab.locator("td.rank").all_text_contents()
        assert rank_cells == ["=1", "=1", "3"]
        expect(tab.locator(".table-scroll-hint")).to_be_visible()
        page_width = tab.evaluate("document.documentElement.scrollWidth")
        assert page_width <= 375
    finally:
        context.close()
